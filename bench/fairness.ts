import autocannon from 'autocannon';
import { sign } from 'jsonwebtoken';
import type { Connection } from 'mysql2/promise';
import { median } from './median';
import { connectDb, createProduct, dropDatabase, startService } from './service';
import { Check, Figures } from './scenarios';

/**
 * The cost of fairness on the hot path: POST /api/holds on one hot product, with buyer tokens, a
 * per-buyer limit on the product and the recommended drop rate limits (60 holds and 1,200 reads
 * per buyer and minute, counters in Redis) against the same load with all of it off. Every
 * request carries a buyer token, its own buyer's: the virtual buyers are a pool of BUYERS cycled
 * through request by request, so no buyer reaches the limit (10 units) or the rate (60 a minute)
 * and the run measures the checking (verifying the token, the Redis counter, the per-buyer count
 * under the row lock), not refusals; the check below fails if any request was refused. The "off"
 * run sends the same headers (ignored), so both move the same bytes.
 */
/** The HS256 secret of the bench's buyer tokens (BUYER_JWT_SECRET of the "on" runs). */
export const FAIRNESS_SECRET = 'bench-buyer-secret-0123456789abcdef';
/** Virtual buyers, one token each, cycled through request by request. */
export const BUYERS = 50_000;
const MAX_PER_BUYER = 10;

/** The service's environment with fairness off and on (REDIS_URL in both). */
export const FAIRNESS_ENV: Record<'off' | 'on', Record<string, string>> = {
  off: { REDIS_URL: 'redis://127.0.0.1:6379' },
  on: {
    REDIS_URL: 'redis://127.0.0.1:6379',
    BUYER_AUTH: 'jwt',
    BUYER_JWT_SECRET: FAIRNESS_SECRET,
    // BENCH_FAIRNESS_RATE=0 leaves the rate limits off, to tell their cost from the rest.
    RATE_LIMIT_HOLDS_PER_MINUTE: process.env.BENCH_FAIRNESS_RATE === '0' ? '0' : '60',
    RATE_LIMIT_READS_PER_MINUTE: process.env.BENCH_FAIRNESS_RATE === '0' ? '0' : '1200',
  },
};

interface Variant {
  label: 'off' | 'on';
  env: Record<string, string>;
}

const VARIANTS: Variant[] = [
  { label: 'off', env: FAIRNESS_ENV.off },
  { label: 'on', env: FAIRNESS_ENV.on },
];

/** `Authorization` values of BUYERS buyers (subjects `<prefix>-<run>-<i>`), valid for an hour. */
export function buyerTokens(prefix = 'bench'): string[] {
  const run = Date.now().toString(36);
  return Array.from({ length: BUYERS }, (_, i) => `Bearer ${sign({ sub: `${prefix}-${run}-${i}` }, FAIRNESS_SECRET, { algorithm: 'HS256', expiresIn: 3600 })}`);
}

/** Puts the bench's per-buyer limit on these products (never reached: every request is another buyer's). */
export async function limitPerBuyer(db: Connection, ...productIds: number[]): Promise<void> {
  await db.query('UPDATE products SET max_per_buyer = ? WHERE id IN (?)', [MAX_PER_BUYER, productIds]);
}

/**
 * POST /api/holds of one unit on `productId`, each request with the next buyer token of `auth`
 * (from `start`): for `bound.duration` seconds or `bound.amount` requests.
 */
export function holdLoad(
  url: string,
  productId: number,
  auth: string[],
  start: number,
  bound: { connections: number; duration?: number; amount?: number },
): Promise<autocannon.Result> {
  let next = start;
  const body = JSON.stringify({ product_id: productId, qty: 1 });
  return autocannon({
    url: `${url}/api/holds`,
    ...bound,
    timeout: 30,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          method: 'POST',
          body,
          headers: { ...req.headers, 'content-type': 'application/json', authorization: auth[next++ % auth.length] },
        }),
      },
    ],
  });
}

/** One run of one variant on a fresh database and a fresh service: warm-up, then the measured run. */
async function runVariant(database: string, variant: Variant, connections: number, duration: number, auth: string[]): Promise<autocannon.Result> {
  await dropDatabase(database);
  const service = await startService(database, { DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? '20', ...variant.env });
  const db = await connectDb(database);
  try {
    const warmUp = await createProduct(db, 'Fairness warm-up', 1_000_000_000);
    const productId = await createProduct(db, 'Fairness hot product', 1_000_000_000);
    await limitPerBuyer(db, warmUp, productId);
    await holdLoad(service.url, warmUp, auth, BUYERS / 2, { connections, duration: 2 });
    return await holdLoad(service.url, productId, auth, 0, { connections, duration });
  } finally {
    await db.end();
    await service.stop();
  }
}

/**
 * `rounds` rounds of off then on (alternating, so both see the same noise of a shared machine),
 * each at `connections`, reporting the median holds/s of each and the cost of fairness.
 */
export async function fairnessPair(database: string, connections: number, duration: number, rounds: number): Promise<Figures[]> {
  const auth = buyerTokens();
  const results = new Map<string, autocannon.Result[]>(VARIANTS.map((v) => [v.label, []]));
  for (let i = 0; i < rounds; i++) {
    for (const variant of i % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
      process.stdout.write(`fairness round ${i + 1} of ${rounds}: ${variant.label}…\n`);
      results.get(variant.label)!.push(await runVariant(database, variant, connections, duration, auth));
    }
  }
  const rps = (label: string) => median(results.get(label)!.map((r) => r.requests.average));
  const cost = Math.round((1 - rps('on') / rps('off')) * 1000) / 10;
  return VARIANTS.map((v) => {
    const runs = results.get(v.label)!;
    const status: Record<string, number> = {};
    for (const r of runs) for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) status[code] = (status[code] ?? 0) + (stat.count ?? 0);
    const total = runs.reduce((s, r) => s + r.requests.total, 0);
    const checks: Check[] = [
      { name: 'every hold granted (no refusal measured)', ok: (status['201'] ?? 0) === total, detail: `${status['201'] ?? 0} of ${total}` },
    ];
    if (v.label === 'on') checks.push({ name: 'cost of fairness under 15 % of hold throughput', ok: cost < 15, detail: `${cost} %` });
    return {
      scenario: `POST /api/holds, hot product, fairness ${v.label}`,
      connections,
      requests: Math.round(median(runs.map((r) => r.requests.total))),
      rps: Math.round(rps(v.label)),
      p50_ms: median(runs.map((r) => r.latency.p50)),
      p99_ms: median(runs.map((r) => r.latency.p99)),
      status,
      errors: runs.reduce((s, r) => s + r.errors, 0),
      timeouts: runs.reduce((s, r) => s + r.timeouts, 0),
      checks,
      extra: v.label === 'on' ? { cost_pct: cost } : undefined,
    } satisfies Figures;
  });
}
