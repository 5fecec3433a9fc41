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
 *
 * The service's figure is split into its main thread's (the event loop's) and the rest (V8's
 * garbage collection and compiler threads, libuv's pool). Beside the three processes it reports
 * the load generator's CPU per hold (this process, which runs autocannon), the machine's idle
 * share during the measured requests (/proc/stat), and the whole machine's CPU per hold of each
 * variant ("all": the four summed). When the machine has no idle time left, throughput goes as the
 * inverse of "all", so the ratio of the variants' "all" is the throughput ratio that CPU alone
 * predicts, printed beside the measured one.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BUYERS, buyerTokens, FAIRNESS_ENV, FAIRNESS_SECRET, holdLoad, limitPerBuyer } from './fairness';
import { median } from './median';
import { connectDb, createProduct, dropDatabase, startService } from './service';

const REQUESTS = Number(process.env.FAIRNESS_CPU_REQUESTS ?? 20_000);
const ROUNDS = Number(process.env.FAIRNESS_CPU_ROUNDS ?? 3);
const DATABASE = process.env.BENCH_DB_NAME ?? 'flash_sale_fairness_cpu';
const AUTH = { ...FAIRNESS_ENV.off, BUYER_AUTH: 'jwt', BUYER_JWT_SECRET: FAIRNESS_SECRET };
const VARIANTS: Record<string, Record<string, string>> = {
  off: FAIRNESS_ENV.off,
  on: FAIRNESS_ENV.on,
  auth: AUTH,
  'auth-nolimit': AUTH,
};
/** Variants whose product has no `max_per_buyer` (the others have 10). */
const NO_LIMIT = new Set(['auth-nolimit']);

/** utime + stime of a process (or with `tid`, of one of its threads), in microseconds. */
function cpuMicros(pid: number, tid?: number): number {
  const fields = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function pidOf(name: string): number | undefined {
  try {
    return Number(execSync(`pgrep -o -x ${name}`).toString().trim());
  } catch {
    return undefined;
  }
}

/** The machine's idle and total CPU time so far, in clock ticks (the first line of /proc/stat). */
function machineTicks(): { idle: number; total: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: ticks[3] + ticks[4], total: ticks.reduce((a, b) => a + b, 0) };
}

interface Figures {
  service: number;
  /** Of `service`, its main thread's (the event loop's) share; the rest is V8's helper threads (garbage collection, compilation) and libuv's pool. */
  main: number;
  db: number;
  redis: number;
  load: number;
  all: number;
  idle: number;
  rps: number;
  ok: boolean;
}

async function one(name: string, auth: string[]): Promise<Figures> {
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
    const before = {
      service: cpuMicros(service.pid),
      main: cpuMicros(service.pid, service.pid),
      db: others.db ? cpuMicros(others.db) : 0,
      redis: others.redis ? cpuMicros(others.redis) : 0,
      load: process.cpuUsage(),
      machine: machineTicks(),
    };
    const result = await holdLoad(service.url, productId, auth, 0, { connections: 64, amount: REQUESTS });
    const per = (now: number, was: number) => Math.round((now - was) / result.requests.total);
    const loadUsage = process.cpuUsage(before.load);
    const machine = machineTicks();
    const figures = {
      service: per(cpuMicros(service.pid), before.service),
      main: per(cpuMicros(service.pid, service.pid), before.main),
      db: others.db ? per(cpuMicros(others.db), before.db) : 0,
      redis: others.redis ? per(cpuMicros(others.redis), before.redis) : 0,
      load: per(loadUsage.user + loadUsage.system, 0),
    };
    return {
      ...figures,
      all: figures.service + figures.db + figures.redis + figures.load,
      idle: Math.round((100 * (machine.idle - before.machine.idle)) / (machine.total - before.machine.total)),
      rps: Math.round(result.requests.total / (result.duration || 1)),
      ok: (result.statusCodeStats?.['201']?.count ?? 0) === result.requests.total,
    };
  } finally {
    await db.end();
    await service.stop();
  }
}

function line(r: Figures): string {
  return `service ${r.service} µs/hold (main thread ${r.main}), db ${r.db}, redis ${r.redis}, load generator ${r.load}, all ${r.all}; machine ${r.idle} % idle; ${r.rps} holds/s`;
}

async function main(): Promise<void> {
  const labels = (process.env.FAIRNESS_CPU_VARIANTS ?? 'off,on').split(',');
  const auth = buyerTokens('cpu');
  const all = new Map<string, Figures[]>(labels.map((l) => [l, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const label of round % 2 === 0 ? labels : [...labels].reverse()) {
      const r = await one(label, auth);
      all.get(label)!.push(r);
      console.log(`round ${round + 1} ${label}: ${line(r)}${r.ok ? '' : ' (NOT all 201)'}`);
    }
  }
  const medians = new Map<string, Figures>();
  for (const [label, rs] of all) {
    const m = (k: Exclude<keyof Figures, 'ok'>) => median(rs.map((r) => r[k]));
    const figures = {
      service: m('service'),
      main: m('main'),
      db: m('db'),
      redis: m('redis'),
      load: m('load'),
      all: m('all'),
      idle: m('idle'),
      rps: m('rps'),
      ok: rs.every((r) => r.ok),
    };
    medians.set(label, figures);
    console.log(`median ${label}: ${line(figures)}`);
  }
  const [first, ...rest] = labels;
  for (const label of rest) {
    const a = medians.get(first)!;
    const b = medians.get(label)!;
    console.log(
      `${label} against ${first}: throughput ratio ${(b.rps / a.rps).toFixed(2)} measured, ${(a.all / b.all).toFixed(2)} from the machine's CPU per hold`,
    );
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
