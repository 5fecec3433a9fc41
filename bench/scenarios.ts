import autocannon from 'autocannon';
import { Connection } from 'mysql2/promise';
import { createProduct, Service } from './service';

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
  const [[p]] = (await db.query('SELECT stock, reserved FROM products WHERE id = ?', [productId])) as unknown as [Array<{ stock: number; reserved: number }>];
  const [[h]] = (await db.query("SELECT COUNT(*) AS n, COALESCE(SUM(qty), 0) AS units FROM holds WHERE product_id = ? AND status = 'active'", [
    productId,
  ])) as unknown as [Array<{ n: number; units: number }>];
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
export async function productReads(service: Service, productId: number, connections: number, duration: number): Promise<Figures> {
  const url = `${service.url}/api/products/${productId}`;
  await fire({ url, connections, duration: 2 });
  const r = await fire({ url, connections, duration });
  const ok = (r.statusCodeStats?.['200']?.count ?? 0) === r.requests.total && r.errors === 0;
  return figures('GET /api/products/:id', connections, r, [{ name: 'every read 200', ok, detail: `${r.requests.total} requests, ${r.errors} errors` }]);
}

/** (b) POST /api/holds qty 1 on one product with stock far beyond what a run can take. */
export async function hotHolds(service: Service, db: Connection, connections: number, duration: number): Promise<Figures> {
  const url = `${service.url}/api/holds`;
  const warmUp = await createProduct(db, `Warm-up ${connections}`, 1_000_000_000);
  await fire({ url, connections, duration: 2, method: 'POST', body: JSON.stringify({ product_id: warmUp, qty: 1 }) });
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
