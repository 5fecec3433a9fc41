/**
 * `npx ts-node --transpile-only bench/fairness-cpu.ts`: the service's CPU time per hold (and the
 * database's and Redis's) with fairness off and on, the steadier figure beside the bench's
 * throughput on a shared machine. Same load as scenario (e) (bench/fairness.ts): hot-product holds,
 * a buyer token per request from a pool of 50,000, `max_per_buyer` on the product; a fixed number
 * of requests (FAIRNESS_CPU_REQUESTS, 20,000) after a warm-up, CPU read from /proc before and after.
 * FAIRNESS_CPU_ROUNDS (3) rounds of the variants alternating; FAIRNESS_CPU_VARIANTS picks them
 * (off, on, auth: tokens and limit without rate limits, auth-nolimit: tokens only; `on@<main.js>`
 * runs a variant on another build). Rate limits without tokens are not a variant: every request
 * would then count against the one client address and be refused.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BUYERS, buyerTokens, FAIRNESS_ENV, FAIRNESS_SECRET, holdLoad, limitPerBuyer } from './fairness';
import { connectDb, createProduct, dropDatabase, startService } from './service';

const REQUESTS = Number(process.env.FAIRNESS_CPU_REQUESTS ?? 20_000);
const ROUNDS = Number(process.env.FAIRNESS_CPU_ROUNDS ?? 3);
const DATABASE = process.env.BENCH_DB_NAME ?? 'flash_sale_fairness_cpu';
const REDIS = FAIRNESS_ENV.off;
const JWT = { BUYER_AUTH: 'jwt', BUYER_JWT_SECRET: FAIRNESS_SECRET };
const RATE = { RATE_LIMIT_HOLDS_PER_MINUTE: '60', RATE_LIMIT_READS_PER_MINUTE: '1200' };
const VARIANTS: Record<string, Record<string, string>> = {
  off: REDIS,
  on: { ...REDIS, ...JWT, ...RATE },
  auth: { ...REDIS, ...JWT },
  'auth-nolimit': { ...REDIS, ...JWT },
};
/** Variants whose product has no `max_per_buyer` (the others have 10). */
const NO_LIMIT = new Set(['auth-nolimit']);

/** utime + stime of a process, in microseconds. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function pidOf(name: string): number | undefined {
  try {
    return Number(execSync(`pgrep -o -x ${name}`).toString().trim());
  } catch {
    return undefined;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function one(name: string, auth: string[]): Promise<{ service: number; db: number; redis: number; rps: number; ok: boolean }> {
  // `variant@/path/to/dist/main.js` runs that variant on another build (before and after a change, alternating).
  const [label, main] = name.split('@');
  await dropDatabase(DATABASE);
  const service = await startService(
    DATABASE,
    {
      DB_POOL_SIZE: '20',
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: process.env.SERVICE_NODE_OPTIONS ?? '',
      ...VARIANTS[label],
    },
    undefined,
    main,
  );
  const db = await connectDb(DATABASE);
  const others = { db: pidOf('mariadbd'), redis: pidOf('redis-server') };
  try {
    const productId = await createProduct(db, 'Fairness CPU hot product', 1_000_000_000);
    if (!NO_LIMIT.has(label)) await limitPerBuyer(db, productId);
    await holdLoad(service.url, productId, auth, BUYERS / 2, { connections: 64, amount: 5_000 });
    const before = { service: cpuMicros(service.pid), db: others.db ? cpuMicros(others.db) : 0, redis: others.redis ? cpuMicros(others.redis) : 0 };
    const result = await holdLoad(service.url, productId, auth, 0, { connections: 64, amount: REQUESTS });
    const per = (now: number, was: number) => Math.round((now - was) / result.requests.total);
    return {
      service: per(cpuMicros(service.pid), before.service),
      db: others.db ? per(cpuMicros(others.db), before.db) : 0,
      redis: others.redis ? per(cpuMicros(others.redis), before.redis) : 0,
      rps: Math.round(result.requests.total / (result.duration || 1)),
      ok: (result.statusCodeStats?.['201']?.count ?? 0) === result.requests.total,
    };
  } finally {
    await db.end();
    await service.stop();
  }
}

async function main(): Promise<void> {
  const labels = (process.env.FAIRNESS_CPU_VARIANTS ?? 'off,on').split(',');
  const auth = buyerTokens('cpu');
  const all = new Map<string, Array<Awaited<ReturnType<typeof one>>>>(labels.map((l) => [l, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const label of round % 2 === 0 ? labels : [...labels].reverse()) {
      const r = await one(label, auth);
      all.get(label)!.push(r);
      console.log(`round ${round + 1} ${label}: service ${r.service} µs/hold, db ${r.db}, redis ${r.redis}, ${r.rps} holds/s${r.ok ? '' : ' (NOT all 201)'}`);
    }
  }
  for (const [label, rs] of all) {
    const m = (k: 'service' | 'db' | 'redis' | 'rps') => median(rs.map((r) => r[k]));
    console.log(`median ${label}: service ${m('service')} µs/hold, db ${m('db')}, redis ${m('redis')}, ${m('rps')} holds/s`);
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
