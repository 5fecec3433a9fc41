import autocannon from 'autocannon';
import { Connection } from 'mysql2/promise';
import { createProduct, Service } from './service';
import { stampede } from './stampede';

export interface Figures {
  scenario: string;
  connections: number;
  requests: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  status: Record<string, number>;
  errors: number;
  timeouts: number;
  checks: Check[];
  /** Scenario-specific figures (medians over runs), shown in the table's last column. */
  extra?: Record<string, number>;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface Load {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  method?: 'GET' | 'POST';
  body?: string;
}

async function fire(load: Load): Promise<autocannon.Result> {
  const options: autocannon.Options = { url: load.url, connections: load.connections, method: load.method ?? 'GET', timeout: 30 };
  if (load.amount !== undefined) options.amount = load.amount;
  else options.duration = load.duration;
  if (load.body !== undefined) {
    options.headers = { 'content-type': 'application/json' };
    options.body = load.body;
  }
  return autocannon(options);
}

function figures(scenario: string, connections: number, r: autocannon.Result, checks: Check[]): Figures {
  const status: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) status[code] = stat.count ?? 0;
  return {
    scenario,
    connections,
    requests: r.requests.total,
    rps: Math.round(r.requests.average),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    status,
    errors: r.errors,
    timeouts: r.timeouts,
    checks,
  };
}

/**
 * The oversell check, from the database itself: the units of the product's holds are exactly its
 * `reserved`, never more than its `stock`, and the holds the client was told about (201s) all
 * exist. With a duration-bounded run a few requests are cut off in flight; their holds may exist
 * without the client having seen the 201, so only "at least" is exact there.
 */
async function stockChecks(db: Connection, productId: number, created: number, exactCount: boolean, expectUnits?: number): Promise<Check[]> {
  // One statement, so one read view: a hold ended (its client gone) between two reads would make
  // `reserved` and the hold units disagree by its units without any being lost.
  const [[p]] = (await db.query(
    `SELECT stock, reserved,
            (SELECT COUNT(*) FROM holds WHERE product_id = p.id AND status = 'active') AS n,
            (SELECT COALESCE(SUM(qty), 0) FROM holds WHERE product_id = p.id AND status = 'active') AS units
       FROM products p WHERE id = ?`,
    [productId],
  )) as unknown as [Array<{ stock: number; reserved: number; n: number; units: number }>];
  const h = p;
  const stock = Number(p.stock);
  const reserved = Number(p.reserved);
  const units = Number(h.units);
  const holds = Number(h.n);
  const checks: Check[] = [
    { name: 'no unit lost: reserved = units of holds', ok: reserved === units, detail: `reserved ${reserved}, hold units ${units}` },
    { name: 'no oversell: granted units <= stock', ok: units <= stock, detail: `granted ${units}, stock ${stock}, available ${stock - reserved}` },
    exactCount
      ? { name: 'every 201 is a hold, and only those', ok: holds === created, detail: `201s ${created}, holds ${holds}` }
      : { name: 'every 201 is a hold', ok: holds >= created, detail: `201s ${created}, holds ${holds}` },
  ];
  if (expectUnits !== undefined) {
    checks.push({ name: `exactly ${expectUnits} units granted`, ok: units === expectUnits, detail: `granted ${units}` });
  }
  return checks;
}

/** (a) GET /api/products/:id, after a short warm-up (the cache and the JIT). */
export async function productReads(service: Service, productId: number, connections: number, duration: number, warmUpSeconds = 2): Promise<Figures> {
  const url = `${service.url}/api/products/${productId}`;
  await fire({ url, connections, duration: warmUpSeconds });
  const r = await fire({ url, connections, duration });
  const ok = (r.statusCodeStats?.['200']?.count ?? 0) === r.requests.total && r.errors === 0;
  return figures('GET /api/products/:id', connections, r, [{ name: 'every read 200', ok, detail: `${r.requests.total} requests, ${r.errors} errors` }]);
}

/** (b) POST /api/holds qty 1 on one product with stock far beyond what a run can take. */
export async function hotHolds(service: Service, db: Connection, connections: number, duration: number, warmUpSeconds = 2): Promise<Figures> {
  const url = `${service.url}/api/holds`;
  const warmUp = await createProduct(db, `Warm-up ${connections}`, 1_000_000_000);
  await fire({ url, connections, duration: warmUpSeconds, method: 'POST', body: JSON.stringify({ product_id: warmUp, qty: 1 }) });
  const productId = await createProduct(db, `Hot product ${connections}`, 1_000_000_000);
  const r = await fire({ url, connections, duration, method: 'POST', body: JSON.stringify({ product_id: productId, qty: 1 }) });
  await new Promise((res) => setTimeout(res, 500));
  const created = r.statusCodeStats?.['201']?.count ?? 0;
  const checks = await stockChecks(db, productId, created, false);
  checks.push({ name: 'every hold granted (huge stock)', ok: created === r.requests.total && r.errors === 0, detail: `${created} of ${r.requests.total}` });
  return figures('POST /api/holds, hot product', connections, r, checks);
}

/** (c) Stock 1,000 and 2,000 clients racing for it; every request answered (amount-bounded). */
export async function race(service: Service, db: Connection, stock: number, clients: number): Promise<Figures> {
  const productId = await createProduct(db, `Race ${stock}`, stock);
  const r = await fire({
    url: `${service.url}/api/holds`,
    connections: clients,
    amount: clients * 2,
    method: 'POST',
    body: JSON.stringify({ product_id: productId, qty: 1 }),
  });
  const created = r.statusCodeStats?.['201']?.count ?? 0;
  const refused = r.statusCodeStats?.['409']?.count ?? 0;
  const checks = await stockChecks(db, productId, created, true, stock);
  checks.push({
    name: 'the rest refused with 409',
    ok: created + refused === r.requests.total,
    detail: `201 ${created}, 409 ${refused}, total ${r.requests.total}`,
  });
  return figures(`POST /api/holds, stock ${stock}`, clients, r, checks);
}

/**
 * (d) The stampede: 20,000 holds of 1 unit on one product with stock that never runs out, from
 * 300 connections, a third of the clients giving up after 100–300 ms and retrying at once (see
 * stampede.ts), on the service's default admission limits. Answered per second, p50/p99 of the
 * granted holds, the share shed with 503, and the service's peak memory.
 */
export async function stampedeRun(service: Service, db: Connection, requests = 20_000, connections = 300): Promise<Figures> {
  const warmUp = await createProduct(db, 'Stampede warm-up', 1_000_000_000);
  await stampede({ url: service.url, productId: warmUp, requests: 2_000, connections: 100, impatientShare: 0 });
  const productId = await createProduct(db, 'Stampede', 1_000_000_000);
  const r = await stampede({ url: service.url, productId, requests, connections, pid: service.pid });
  const [[h]] = (await db.query("SELECT COALESCE(SUM(qty), 0) AS units FROM holds WHERE product_id = ? AND status = 'active'", [productId])) as unknown as [
    Array<{ units: number }>,
  ];
  const orphaned = Number(h.units) - r.grantedUnits;
  const bound = Math.max(100, Math.floor(0.05 * r.gaveUp));
  const answered = Object.values(r.status).reduce((a, b) => a + b, 0);
  return {
    scenario: 'stampede: POST /api/holds, 1/3 give up and retry',
    connections,
    requests: answered,
    rps: r.answeredPerSecond,
    p50_ms: r.p50GrantedMs,
    p99_ms: r.p99GrantedMs,
    status: Object.fromEntries(Object.entries(r.status).map(([k, v]) => [k, v])),
    errors: r.errors,
    timeouts: 0,
    checks: [
      { name: 'no 5xx but 503 with Retry-After', ok: r.broken.length === 0, detail: r.broken.slice(0, 3).join('; ') || 'none' },
      { name: 'every request answered', ok: answered === requests, detail: `${answered} of ${requests}` },
      {
        name: 'units granted to clients that had gone, at most max(100, 5 % of give-ups)',
        ok: orphaned >= 0 && orphaned <= bound,
        detail: `${orphaned} (bound ${bound})`,
      },
    ],
    extra: { shed_pct: Math.round(r.shedShare * 1000) / 10, peak_rss_mb: r.peakRssMb ?? 0, gave_up: r.gaveUp, orphaned },
  };
}

/** Answers of a run that were all `status`, with nothing cut off or failed. */
function allAnswered(r: autocannon.Result, status: `${number}`, expected?: number): Check {
  const got = r.statusCodeStats?.[status]?.count ?? 0;
  const ok = got === r.requests.total && r.errors === 0 && r.timeouts === 0 && (expected === undefined || got === expected);
  return {
    name: `every request ${status}`,
    ok,
    detail: `${got} × ${status} of ${r.requests.total}${expected === undefined ? '' : ` (expected ${expected})`}, ${r.errors} errors`,
  };
}

/**
 * A run whose every request carries its own JSON body (`bodyOf(i)` for the i-th request sent),
 * amount-bounded: each body is used exactly once.
 */
async function fireEach(url: string, connections: number, amount: number, bodyOf: (i: number) => { body: string; headers?: Record<string, string> }) {
  let next = 0;
  return autocannon({
    url,
    connections,
    amount,
    method: 'POST',
    timeout: 30,
    requests: [
      {
        setupRequest: (req) => {
          const { body, headers } = bodyOf(next++);
          return { ...req, method: 'POST', body, headers: { ...req.headers, 'content-type': 'application/json', ...headers } };
        },
      },
    ],
  });
}

/** POST /api/orders, one request per active hold given (each hold becomes exactly one order). */
export async function placeOrders(service: Service, holdIds: number[], connections: number): Promise<Figures> {
  const r = await fireEach(`${service.url}/api/orders`, connections, holdIds.length, (i) => ({ body: JSON.stringify({ hold_id: holdIds[i] }) }));
  return figures('POST /api/orders', connections, r, [allAnswered(r, '201', holdIds.length)]);
}

/** POST /api/payments/webhook `success`, signed, one new key per pending order given. */
export async function payOrders(service: Service, orderIds: number[], connections: number, sign: (body: string) => string): Promise<Figures> {
  const run = `${process.pid}-${Date.now()}`;
  const r = await fireEach(`${service.url}/api/payments/webhook`, connections, orderIds.length, (i) => {
    const body = JSON.stringify({ idempotency_key: `bench-${run}-${i}`, order_id: orderIds[i], status: 'success' });
    return { body, headers: { 'x-signature': sign(body) } };
  });
  return figures('POST /api/payments/webhook', connections, r, [allAnswered(r, '200', orderIds.length)]);
}

/** GET of a set of paths in turn (listings with their filters), duration-bounded after a warm-up. */
export async function readPaths(service: Service, scenario: string, paths: string[], connections: number, duration: number): Promise<Figures> {
  let next = 0;
  const options = (seconds: number): autocannon.Options => ({
    url: service.url,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'GET', path: paths[next++ % paths.length] }) }],
  });
  await autocannon(options(Math.min(2, duration)));
  const r = await autocannon(options(duration));
  return figures(scenario, connections, r, [allAnswered(r, '200')]);
}
