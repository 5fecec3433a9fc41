/**
 * The framework's cost, measured against a lean limit (a lean reference server: node:http +
 * mysql2, the same group-commit transaction, the same answers, no framework): this
 * service and the lean server run side by side, each on its own database, and the same windows
 * (holds on one hot product at 64 and 256 connections, a cached product read at 64) alternate
 * between them, so both see the same noise of a shared machine. Medians of `windows` windows each,
 * and the ratio service / lean limit.
 *
 * The lean server is not part of this project: BENCH_LEAN_LIMIT names its script (run with this
 * project's Node, from the project root, so it finds mysql2 here; PORT, DB_NAME,
 * SEED_PRODUCT_STOCK and HOLD_TTL_SECONDS in its environment, product 1 seeded). Without it, this
 * part is left out.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Connection } from 'mysql2/promise';
import { median } from './median';
import { createProduct, dropDatabase, freePort, Service, waitHealthy } from './service';

export const LEAN_LIMIT = process.env.BENCH_LEAN_LIMIT;
const LEAN_DB = 'flash_sale_bench_lean';
const STOCK = 1_000_000_000;

export interface PairWindow {
  scenario: string;
  connections: number;
  /** The service's label, or `lean limit`. */
  server: string;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  non2xx: number;
  errors: number;
  /** The server process's CPU time (user + system) per answered request, in µs. */
  cpu_us: number;
}

export interface PairRow {
  scenario: string;
  connections: number;
  service: string;
  service_rps: number;
  service_p99_ms: number;
  lean_rps: number;
  lean_p99_ms: number;
  /** CPU time of the server process per request (µs), medians: what the framework costs, less the noise. */
  service_cpu_us: number;
  lean_cpu_us: number;
  ratio: number;
  /** Windows whose answers were not all 2xx (a failure of the comparison, not a figure). */
  bad_windows: number;
}

/** A running build of this service, with a connection to its database (to create the products). */
export interface PairService {
  label: string;
  service: Service;
  db: Connection;
}

interface Target {
  name: string;
  url: string;
  pid: number;
  holdProduct: number;
  readProduct: number;
}

const LEAN = 'lean limit';

/** Starts the lean server on a free port, its own database, product 1 with a stock no run exhausts. */
async function startLean(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  await dropDatabase(LEAN_DB);
  const port = await freePort();
  let stderr = '';
  const child: ChildProcess = spawn(process.execPath, [LEAN_LIMIT as string], {
    cwd: join(__dirname, '..'), // it resolves mysql2 from the folder it starts in
    env: { ...process.env, PORT: String(port), DB_NAME: LEAN_DB, SEED_PRODUCT_STOCK: String(STOCK), HOLD_TTL_SECONDS: '3600' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child, () => stderr, '/api/products/1');
  return {
    url,
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      await dropDatabase(LEAN_DB);
    },
  };
}

/** User + system CPU time of a process so far, in µs (from /proc; 0 where there is none). */
function cpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

async function window(target: Target, scenario: 'holds' | 'read', connections: number, seconds: number): Promise<PairWindow> {
  const hold = scenario === 'holds';
  const options: autocannon.Options = hold
    ? {
        url: `${target.url}/api/holds`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ product_id: target.holdProduct, qty: 1 }),
        connections,
        duration: seconds,
        timeout: 30,
      }
    : { url: `${target.url}/api/products/${target.readProduct}`, connections, duration: seconds, timeout: 30 };
  const cpuBefore = cpuMicros(target.pid);
  const r = await autocannon(options);
  const cpu = cpuMicros(target.pid) - cpuBefore;
  return {
    scenario: hold ? 'POST /api/holds, hot product' : 'GET /api/products/:id',
    connections,
    server: target.name,
    rps: Math.round(r.requests.average),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    cpu_us: r.requests.total > 0 ? Math.round((cpu / r.requests.total) * 10) / 10 : 0,
  };
}

/**
 * `windows` rounds; in each, every scenario runs on every server back to back (the order turning
 * from round to round), after a short warm-up of each on the first round.
 */
export async function leanPair(services: PairService[], windows: number, seconds: number): Promise<{ rows: PairRow[]; each: PairWindow[] }> {
  const lean = await startLean();
  try {
    const targets: Target[] = [];
    for (const s of services) {
      targets.push({
        name: s.label,
        url: s.service.url,
        pid: s.service.pid,
        holdProduct: await createProduct(s.db, 'Lean pair: hot product', STOCK),
        readProduct: await createProduct(s.db, 'Lean pair: read product', 100),
      });
    }
    // The lean server seeds product 1 and serves the same reads and holds on it.
    targets.push({ name: LEAN, url: lean.url, pid: lean.pid, holdProduct: 1, readProduct: 1 });
    const scenarios: Array<['holds' | 'read', number]> = [
      ['holds', 64],
      ['holds', 256],
      ['read', 64],
    ];
    for (const t of targets) for (const [s, c] of scenarios) await window(t, s, c, 2);
    const each: PairWindow[] = [];
    for (let round = 0; round < windows; round++) {
      for (const [s, c] of scenarios) {
        const shift = round % targets.length;
        const order = [...targets.slice(shift), ...targets.slice(0, shift)];
        for (const t of order) {
          const w = await window(t, s, c, seconds);
          process.stdout.write(
            `  lean pair, round ${round + 1}: ${w.server}, ${w.scenario} (${c}): ${w.rps}/s, p99 ${w.p99_ms} ms, ${w.cpu_us} µs CPU per request\n`,
          );
          each.push(w);
        }
      }
    }
    const rows: PairRow[] = [];
    for (const svc of services) {
      for (const [s, c] of scenarios) {
        const of = (server: string) => each.filter((w) => w.server === server && w.connections === c && w.scenario.startsWith(s === 'holds' ? 'POST' : 'GET'));
        const mine = of(svc.label);
        const ln = of(LEAN);
        const serviceRps = median(mine.map((w) => w.rps));
        const leanRps = median(ln.map((w) => w.rps));
        rows.push({
          scenario: mine[0].scenario,
          connections: c,
          service: svc.label,
          service_rps: Math.round(serviceRps),
          service_p99_ms: median(mine.map((w) => w.p99_ms)),
          lean_rps: Math.round(leanRps),
          lean_p99_ms: median(ln.map((w) => w.p99_ms)),
          service_cpu_us: median(mine.map((w) => w.cpu_us)),
          lean_cpu_us: median(ln.map((w) => w.cpu_us)),
          ratio: Math.round((serviceRps / leanRps) * 100) / 100,
          bad_windows: [...mine, ...ln].filter((w) => w.non2xx > 0 || w.errors > 0).length,
        });
      }
    }
    return { rows, each };
  } finally {
    await lean.stop();
  }
}

export function leanPairTable(rows: PairRow[], windows: number, seconds: number): string {
  const lines = [
    `This service against the lean limit (BENCH_LEAN_LIMIT), interleaved windows of ${seconds} s, medians of ${windows} each:`,
    '',
    '| build | scenario | connections | this service | lean limit | ratio | CPU per request: service / lean |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const bad = r.bad_windows > 0 ? ` (${r.bad_windows} windows with non-2xx answers)` : '';
    lines.push(
      `| ${r.service} | ${r.scenario} | ${r.connections} | ${r.service_rps}/s, p99 ${r.service_p99_ms} ms | ${r.lean_rps}/s, p99 ${r.lean_p99_ms} ms | ${r.ratio.toFixed(2)}${bad} | ${r.service_cpu_us} µs / ${r.lean_cpu_us} µs |`,
    );
  }
  return lines.join('\n') + '\n';
}

export function leanLimitPresent(): boolean {
  return LEAN_LIMIT !== undefined && existsSync(LEAN_LIMIT);
}
