/**
 * `npm run bench:growth`: do the hot paths stay flat as the tables grow?
 *
 * Runs the standard loads (cached product read, a page of the catalogue, holds on a hot product,
 * orders, payment webhooks, order listings with their filters) against the built service on
 * nearly empty tables, fills the same database through the project's factories in bulk (multi-row
 * INSERTs: by default a year of drops, 1,000,000 holds over 200 products, 200,000 orders with
 * their payment events, most of them old and final), runs the same loads again and prints both
 * side by side. Then it EXPLAINs every statement those paths send on the full tables (captured
 * from an in-process instance of the built app) and fails if any of them reads a whole table or
 * a whole index.
 *
 * Sizes: GROWTH_HOLDS (default 1000000; orders are a fifth of it, products 200), GROWTH_DURATION
 * (seconds of each duration-bounded run, default 10), GROWTH_DB_NAME. The jest test runs it
 * reduced (test/growth.e2e-spec.ts) so the code cannot rot; only the full run means anything for
 * speed. Results go to bench/results/growth.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Connection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import type { createApp as CreateApp } from '../src/app.factory';
import type { HoldExpiryJob as Job } from '../src/checkout/hold-expiry.job';
import type { loadConfig as LoadConfig } from '../src/config/config';
import { Hold } from '../src/hold/hold.entity';
import { signBody } from '../src/http/signature';
import { Order } from '../src/order/order.entity';
import { PaymentEvent } from '../src/payment/payment-event.entity';
import { Product } from '../src/product/product.entity';
import { factories } from '../test/factories';
import { Check, Figures, hotHolds, payOrders, placeOrders, productReads, readPaths } from './scenarios';
import { connectDb, DB, dropDatabase, Service, startService } from './service';

const DIST = join(__dirname, '..', 'dist');
const DAY = 86_400_000;
/** The development secret the service signs with when WEBHOOK_SECRET is unset (outside production). */
const SECRET = 'growth-bench-secret';
/** The service keeps every hold during the bench: retention is what bounds the tables in production. */
const SERVICE_ENV = { HOLD_RETENTION_DAYS: '3650', WEBHOOK_SECRET: SECRET, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };

export interface GrowthOptions {
  database: string;
  holds: number;
  products: number;
  duration: number;
  /** Requests of each amount-bounded run (orders, webhooks). */
  amount: number;
  log?: (line: string) => void;
}

/** One table access of a statement: the index it used, the optimizer's estimate and the rows it read. */
export interface Access {
  table: string;
  key: string | null;
  type: string;
  estimated: number;
  read: number;
  allowed: number;
}

export interface ExplainCheck {
  statement: string;
  plan: Array<Record<string, unknown>>;
  accesses: Access[];
  ok: boolean;
  problem?: string;
}

/**
 * Rows one table access may read: 20 × the statement's LIMIT when it has one (a page, a chunk),
 * else 10 % of the table; never less than 1,000 (small tables, the reduced test run).
 */
export function allowedRows(limit: number | undefined, tableRows: number): number {
  return Math.max(1000, limit !== undefined ? 20 * limit : Math.ceil(0.1 * tableRows));
}

/** The table accesses of an ANALYZE FORMAT=JSON answer, wherever they nest (joins, filesort, subqueries). */
function accessesOf(node: unknown, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(node)) node.forEach((n) => accessesOf(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.table_name === 'string') out.push(o);
    Object.values(o).forEach((v) => accessesOf(v, out));
  }
  return out;
}

/** alias → table of a statement (`FROM orders o`, `JOIN \`products\` \`p\``, `UPDATE holds`). */
function aliases(sql: string): Map<string, string> {
  const out = new Map<string, string>();
  const keyword = /^(WHERE|SET|FORCE|USE|IGNORE|JOIN|INNER|LEFT|ON|ORDER|GROUP|LIMIT|FOR|AS|VALUES)$/i;
  for (const m of sql.matchAll(/\b(?:FROM|JOIN|UPDATE)\s+`?(\w+)`?(?:\s+(?:AS\s+)?`?(\w+)`?)?/gi)) {
    out.set(m[1], m[1]);
    if (m[2] && !keyword.test(m[2])) out.set(m[2], m[1]);
  }
  return out;
}

export interface GrowthResult {
  rows: Record<string, number>;
  empty: Figures[];
  full: Figures[];
  explains: ExplainCheck[];
}

type Make = ReturnType<typeof factories>;

async function factoryDataSource(database: string): Promise<DataSource> {
  const ds = new DataSource({ type: 'mysql', ...DB, username: DB.user, database, timezone: 'Z', entities: [Product, Hold, Order, PaymentEvent], poolSize: 4 });
  return ds.initialize();
}

/** Read loads change nothing, so each runs this many times and the median is kept (p99 of one 10 s run is noisy). */
const READ_REPEATS = Number(process.env.GROWTH_READ_REPEATS ?? 3);

/** Runs a read load `n` times; the figures of the run with the median req/s (its own p50 and p99 with it). */
async function medianOf(n: number, run: () => Promise<Figures>): Promise<Figures> {
  const all: Figures[] = [];
  for (let i = 0; i < n; i++) all.push(await run());
  const sorted = [...all].sort((a, b) => a.rps - b.rps);
  const med = sorted[Math.floor(sorted.length / 2)];
  return { ...med, p99_ms: [...all.map((f) => f.p99_ms)].sort((a, b) => a - b)[Math.floor(all.length / 2)], checks: all.flatMap((f) => f.checks) };
}

/** The standard loads, on whatever the tables hold now. `readProduct` has history on full tables. */
async function loads(service: Service, db: Connection, make: Make, productIds: number[], o: GrowthOptions): Promise<Figures[]> {
  const out: Figures[] = [];
  const warmUp = Math.min(2, o.duration);
  const readProduct = productIds[0];
  out.push(await medianOf(READ_REPEATS, () => productReads(service, readProduct, 64, o.duration, warmUp)));
  out.push(
    await medianOf(READ_REPEATS, () =>
      readPaths(
        service,
        'GET /api/products?limit=50&after_id=…',
        productIds.slice(0, 150).map((id) => `/api/products?limit=50&after_id=${id}`),
        64,
        o.duration,
      ),
    ),
  );
  out.push(await hotHolds(service, db, 64, o.duration, warmUp));
  // Orders: one fresh active hold each, on one product.
  const hot = productIds[1];
  const fresh = new Date(Date.now() + 3_600_000);
  const holds = await make.makeHolds(Array.from({ length: o.amount }, () => ({ productId: hot, status: 'active' as const, expiresAt: fresh })));
  out.push(await placeOrders(service, holds, 32));
  // Webhooks: one pending order each.
  const pending = await make.makeOrders(Array.from({ length: o.amount }, () => ({ productId: hot, status: 'pending' as const })));
  out.push(
    await payOrders(
      service,
      pending.map((p) => p.id),
      32,
      (body) => signBody(body, SECRET),
    ),
  );
  const listings = [
    '',
    '?status=paid',
    '?status=pending',
    '?status=expired',
    `?product_id=${productIds[2]}`,
    '?refund_due=true',
    `?status=paid&product_id=${productIds[3]}`,
  ].map((q) => `/api/orders${q}${q ? '&' : '?'}limit=50`);
  out.push(await medianOf(READ_REPEATS, () => readPaths(service, 'GET /api/orders (7 filters in turn)', listings, 32, o.duration)));
  return out;
}

/** Fills the tables in multi-row INSERTs of `chunk` rows: a year of drops, most of it old and final. */
async function fill(make: Make, productIds: number[], o: GrowthOptions): Promise<void> {
  const chunk = 5000;
  const now = Date.now();
  const orders = Math.floor(o.holds / 5);
  const pick = (i: number) => productIds[(i * 7919) % productIds.length];
  const ago = (i: number, n: number) => new Date(now - 2 * DAY - Math.floor((i / n) * 363 * DAY)); // oldest first… spread over a year
  for (let done = 0; done < orders; done += chunk) {
    const rows = Array.from({ length: Math.min(chunk, orders - done) }, (_, k) => {
      const i = done + k;
      // The status cycles over i / 200 and the product over i % 200, so every product has every status.
      const share = Math.floor(i / 200) % 100;
      const status = share < 60 ? ('paid' as const) : share < 80 ? ('cancelled' as const) : ('expired' as const);
      return { productId: pick(i), qty: 1 + (i % 3), status, at: ago(orders - i, orders) };
    });
    const made = await make.makeOrders(rows);
    await make.makePaymentEvents(
      made.flatMap((m, k) =>
        rows[k].status === 'expired'
          ? []
          : [{ orderId: m.id, status: rows[k].status === 'paid' ? ('success' as const) : ('failure' as const), at: rows[k].at }],
      ),
    );
    o.log?.(`  orders ${done + rows.length} of ${orders}`);
  }
  const rest = o.holds - orders; // the orders' converted holds count towards the holds
  const active = Math.min(5000, Math.floor(rest / 100));
  for (let done = 0; done < rest; done += chunk) {
    const rows = Array.from({ length: Math.min(chunk, rest - done) }, (_, k) => {
      const i = done + k;
      if (i >= rest - active) return { productId: pick(i), status: 'active' as const, expiresAt: new Date(now + 3_600_000) };
      const expiresAt = ago(rest - i, rest);
      return { productId: pick(i), qty: 1 + (i % 2), status: 'expired' as const, expiresAt, createdAt: new Date(expiresAt.getTime() - 120_000) };
    });
    await make.makeHolds(rows);
    if ((done / chunk) % 20 === 0) o.log?.(`  other holds ${done + rows.length} of ${rest}`);
  }
}

/**
 * Starts the built app in this process on the full tables, sends one request of every hot path
 * (and runs one expiry sweep with its retention purge), capturing every statement with its
 * parameters through TypeORM's logger, then EXPLAINs each SELECT, UPDATE and DELETE.
 */
async function explainHotPaths(db: Connection, database: string, productIds: number[], make: Make): Promise<ExplainCheck[]> {
  /* eslint-disable @typescript-eslint/no-require-imports -- the built app, as the service runs it */
  const { createApp } = require(join(DIST, 'app.factory')) as { createApp: typeof CreateApp };
  const { loadConfig } = require(join(DIST, 'config', 'config')) as { loadConfig: typeof LoadConfig };
  const { HoldExpiryJob } = require(join(DIST, 'checkout', 'hold-expiry.job')) as { HoldExpiryJob: typeof Job };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const config = loadConfig({
    ...process.env,
    DB_HOST: DB.host,
    DB_PORT: String(DB.port),
    DB_USER: DB.user,
    DB_PASSWORD: DB.password,
    DB_NAME: database,
    AVAILABILITY_CACHE_TTL_MS: '0',
    HOLD_SWEEP_INTERVAL_SECONDS: '3600',
    HOLD_RETENTION_DAYS: '7',
    WEBHOOK_SECRET: SECRET,
    LOG_LEVEL: 'silent',
  });
  const app: NestFastifyApplication = await createApp(config, { seed: false });
  const captured: Array<{ sql: string; params: unknown[] }> = [];
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const logger = app.get(DataSource).logger;
    const original = logger.logQuery.bind(logger);
    logger.logQuery = (query, parameters, runner): void => {
      captured.push({ sql: query, params: Array.isArray(parameters) ? (parameters as unknown[]) : [] });
      original(query, parameters, runner);
    };
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, unknown>,
      }));
    const [p, q] = productIds;
    await fetch(`${url}/api/products/${p}`);
    await fetch(`${url}/api/products?limit=50&after_id=${productIds[100]}`);
    const hold = await post('/api/holds', { product_id: p, qty: 1 });
    const order = await post('/api/orders', { hold_id: hold.body.id }, { 'Idempotency-Key': `growth-${Date.now()}` });
    const body = JSON.stringify({ idempotency_key: `growth-${Date.now()}`, order_id: order.body.id, status: 'success' });
    await fetch(`${url}/api/payments/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signBody(body, SECRET) },
      body,
    });
    for (const query of [
      '',
      '?status=paid',
      '?status=pending',
      '?status=expired',
      `?product_id=${q}`,
      '?refund_due=true',
      `?status=cancelled&product_id=${q}`,
    ]) {
      await fetch(`${url}/api/orders${query}`);
    }
    await fetch(`${url}/api/holds/${String(hold.body.id)}`);
    // One lapsed hold and one unpaid order past its deadline, so the sweep has something to do.
    await make.makeHold({ productId: q, status: 'active', expiresAt: new Date(Date.now() - 1000) });
    await make.makeOrder({ productId: q, status: 'pending', expiresAt: new Date(Date.now() - 1000) });
    const job = app.get(HoldExpiryJob);
    await job.sweep();
    await job.sweepOrders();
    await job.purgeEnded(new Date(), { budgetMs: 0 });
    logger.logQuery = original;
  } finally {
    await app.close();
  }
  const seen = new Set<string>();
  const out: ExplainCheck[] = [];
  const counts = new Map<string, number>();
  const rowsOf = async (table: string): Promise<number> => {
    if (!counts.has(table)) {
      const [[row]] = (await db.query(`SELECT COUNT(*) AS n FROM \`${table}\``)) as unknown as [Array<{ n: number }>];
      counts.set(table, Number(row.n));
    }
    return counts.get(table) as number;
  };
  for (const { sql, params } of captured) {
    const statement = db.format(sql.replace(/\s+/g, ' ').trim(), params);
    if (!/^(SELECT|UPDATE|DELETE)\b/i.test(statement)) continue;
    const shape = sql.replace(/\s+/g, ' ').trim();
    if (seen.has(shape)) continue;
    seen.add(shape);
    const [plan] = (await db.query(`EXPLAIN ${statement}`)) as unknown as [Array<Record<string, unknown>>];
    // Base tables: a derived table or a union's result (`<derived2>`) holds at most its subqueries' LIMITs.
    const problems = plan
      .filter((row) => row.table !== null && !(row.table as string).startsWith('<') && (row.type === 'ALL' || row.type === 'index'))
      .map((r) => `${String(r.type)} on ${String(r.table)}`);
    // The rows each access really reads: EXPLAIN's estimate ignores the LIMIT (a walk of the primary
    // key from after_id is "half the table" whether it stops after a page or reads to the end), so
    // the statement runs under ANALYZE; one that writes runs in a transaction rolled back.
    const writes = !/^SELECT\b/i.test(statement);
    if (writes) await db.query('START TRANSACTION');
    let analyzed: unknown;
    try {
      const [[row]] = (await db.query(`ANALYZE FORMAT=JSON ${statement}`)) as unknown as [Array<Record<string, string>>];
      analyzed = JSON.parse(Object.values(row)[0]);
    } finally {
      if (writes) await db.query('ROLLBACK');
    }
    const names = aliases(shape);
    const limit = /\bLIMIT\s+(\d+)\s*(?:FOR UPDATE.*)?$/i.exec(statement)?.[1];
    const accesses: Access[] = [];
    // Base tables only: a derived table or a union's result (`<derived2>`, `<union2,3>`) is counted where it is read from.
    for (const a of accessesOf(analyzed).filter((x) => !String(x.table_name).startsWith('<'))) {
      const table = names.get(String(a.table_name)) ?? String(a.table_name);
      const read = Math.round(Number(a.r_rows ?? 0) * Number(a.r_loops ?? 1));
      const allowed = allowedRows(limit === undefined ? undefined : Number(limit), await rowsOf(table));
      accesses.push({ table, key: (a.key as string | undefined) ?? null, type: String(a.access_type), estimated: Number(a.rows ?? 0), read, allowed });
      if (read > allowed) problems.push(`${read.toLocaleString('en')} rows read on ${table} (${String(a.key)}), over ${allowed.toLocaleString('en')}`);
    }
    out.push({ statement: shape, plan, accesses, ok: problems.length === 0, problem: problems.length ? problems.join(', ') : undefined });
  }
  return out;
}

async function tableRows(db: Connection): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['products', 'holds', 'orders', 'payment_events']) {
    const [[row]] = (await db.query(`SELECT COUNT(*) AS n FROM ${table}`)) as unknown as [Array<{ n: number }>];
    out[table] = Number(row.n);
  }
  return out;
}

/**
 * Orders that fill a page (60) for every filter the listing load asks, so that on "empty" tables
 * too every page it reads is full: a page of 50 orders costs more to serialize than an empty one,
 * and empty tables would otherwise compare empty pages with full ones. They stay for the full run.
 */
async function seedListingPages(make: Make, productIds: number[]): Promise<void> {
  const many = (n: number, row: Parameters<Make['makeOrders']>[0][number]) => Array.from({ length: n }, () => row);
  const past = new Date(Date.now() - 86_400_000);
  await make.makeOrders([
    ...many(60, { productId: productIds[2], status: 'paid' }),
    ...many(60, { productId: productIds[3], status: 'paid' }),
    ...many(60, { productId: productIds[4], status: 'expired', expiresAt: past, at: past }),
    ...many(60, { productId: productIds[4], status: 'expired', expiresAt: past, at: past, refundDue: true }),
  ]);
}

/** The whole bench: empty loads, fill, full loads, EXPLAIN. */
export async function runGrowth(o: GrowthOptions): Promise<GrowthResult> {
  await dropDatabase(o.database);
  let service = await startService(o.database, SERVICE_ENV);
  const db = await connectDb(o.database);
  const ds = await factoryDataSource(o.database);
  const make = factories(ds);
  try {
    const productIds: number[] = [];
    for (let i = 0; i < o.products; i++) productIds.push((await make.makeProduct({ name: `Drop ${i + 1}`, stock: 1_000_000_000 })).id);
    await seedListingPages(make, productIds);
    o.log?.('loads on empty tables…');
    const empty = await loads(service, db, make, productIds, o);
    await service.stop();
    o.log?.(`filling: ${o.holds} holds, ${Math.floor(o.holds / 5)} orders with their payment events…`);
    await fill(make, productIds, o);
    await db.query('ANALYZE TABLE holds, orders, payment_events, products');
    service = await startService(o.database, SERVICE_ENV);
    o.log?.('loads on full tables…');
    const full = await loads(service, db, make, productIds, o);
    await service.stop();
    const rows = await tableRows(db);
    o.log?.('EXPLAIN of every statement of the hot paths…');
    const explains = await explainHotPaths(db, o.database, productIds, make);
    return { rows, empty, full, explains };
  } finally {
    await service.stop();
    await ds.destroy();
    await db.end();
  }
}

/** A run's correctness checks (oversell, every request answered as expected) and its EXPLAIN checks. */
export function failures(result: GrowthResult): string[] {
  const checks: Array<[string, Check]> = [...result.empty, ...result.full].flatMap((f) => f.checks.map((c): [string, Check] => [f.scenario, c]));
  return [
    ...checks.filter(([, c]) => !c.ok).map(([s, c]) => `${s}: ${c.name}: ${c.detail}`),
    ...result.explains.filter((e) => !e.ok).map((e) => `EXPLAIN ${e.problem}: ${e.statement}`),
  ];
}

function pct(full: number, empty: number): string {
  if (!empty) return '–';
  const d = Math.round(((full - empty) / empty) * 100);
  return `${d > 0 ? '+' : ''}${d} %`;
}

export function table(result: GrowthResult): string {
  const lines = [
    `Rows on the full tables: ${Object.entries(result.rows)
      .map(([t, n]) => `${t} ${n.toLocaleString('en')}`)
      .join(', ')}.`,
    '',
    '| scenario | conn. | empty req/s | full req/s | Δ req/s | empty p50 / p99 ms | full p50 / p99 ms | Δ p99 | checks |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  result.full.forEach((f, i) => {
    const e = result.empty[i];
    const ok = [...e.checks, ...f.checks].every((c) => c.ok) ? 'pass' : 'FAIL';
    lines.push(
      `| ${f.scenario} | ${f.connections} | ${e.rps} | ${f.rps} | ${pct(f.rps, e.rps)} | ${e.p50_ms} / ${e.p99_ms} | ${f.p50_ms} / ${f.p99_ms} | ${pct(f.p99_ms, e.p99_ms)} | ${ok} |`,
    );
  });
  const bad = result.explains.filter((e) => !e.ok);
  lines.push(
    '',
    `EXPLAIN on the full tables: ${result.explains.length} distinct statements of the hot paths, ${bad.length} reading a whole table or index or more rows than allowed.`,
  );
  for (const e of bad) lines.push(`- FAIL (${e.problem}): \`${e.statement}\``);
  lines.push('', '| statement | table: index | estimated rows | rows read | allowed |', '| --- | --- | ---: | ---: | ---: |');
  for (const e of result.explains) {
    const short = e.statement
      .replace(/^SELECT .*? FROM /i, 'SELECT … FROM ')
      .slice(0, 140)
      .replace(/\|/g, '\\|');
    for (const a of e.accesses) lines.push(`| \`${short}\` | ${a.table}: ${a.key ?? '–'} | ${a.estimated} | ${a.read} | ${a.allowed} |`);
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const holds = Number(process.env.GROWTH_HOLDS ?? 1_000_000);
  const options: GrowthOptions = {
    database: process.env.GROWTH_DB_NAME ?? 'flash_sale_growth',
    holds,
    products: 200,
    duration: Number(process.env.GROWTH_DURATION ?? 10),
    amount: Number(process.env.GROWTH_AMOUNT ?? 5000),
    log: (line) => process.stdout.write(`${line}\n`),
  };
  const result = await runGrowth(options);
  const md = table(result);
  const out = join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'growth.json'), JSON.stringify({ options: { ...options, log: undefined }, ...result }, null, 2) + '\n');
  writeFileSync(join(out, 'growth.md'), md);
  process.stdout.write('\n' + md);
  const failed = failures(result);
  for (const line of failed) process.stderr.write(`FAIL ${line}\n`);
  if (process.env.GROWTH_KEEP !== '1') await dropDatabase(options.database);
  process.exit(failed.length > 0 ? 1 : 0);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench:growth failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
