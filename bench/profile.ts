/**
 * `npm run bench:profile`: where the main thread's time per request goes. Starts the built
 * service under `node --cpu-prof`, sends holds on one hot product (or, with PROFILE_SCENARIO=read,
 * cached product reads) from 64 connections for PROFILE_SECONDS (10) after a warm-up, stops it,
 * and sums the profile's samples of the measured run by where the code comes from (a package,
 * Node's own modules, the service, the garbage collector, the socket writes), in µs per request.
 * BENCH_COMPARE_MAIN=/path/to/other/dist/main.js profiles that build the same way, after this one.
 * PROFILE_SCENARIO=fairness profiles this build twice under the load of the bench's scenario (e)
 * (bench/fairness.ts: a buyer token per request, `max_per_buyer` on the product), with fairness
 * off and on: what checking the buyers costs the main thread, by source.
 *
 * The samples are wall-clock time of the main thread while it is not idle: on a machine where the
 * load generator and the database share the cores, a thread descheduled inside a system call is
 * counted there (the socket writes look dearer than they are). Compare builds in one run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { buyerTokens, FAIRNESS_ENV, holdLoad, limitPerBuyer } from './fairness';
import { connectDb, createProduct, dropDatabase, startService } from './service';

const DATABASE = 'flash_sale_bench_profile';
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const SCENARIO = process.env.PROFILE_SCENARIO === 'read' || process.env.PROFILE_SCENARIO === 'fairness' ? process.env.PROFILE_SCENARIO : 'holds';
const OUT = join(__dirname, 'results');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code comes from. */
function origin(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'garbage collector';
    if (['writeBuffer', 'writeUtf8String', 'writeString', 'writev'].includes(functionName)) return 'socket and file writes (system calls)';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return 'V8 and native (program)';
    return 'native';
  }
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) {
    const name = pkg[1];
    if (name.startsWith('@nestjs/') || name === 'rxjs' || name === 'reflect-metadata') return 'NestJS (and rxjs, reflect-metadata)';
    if (name === 'jsonwebtoken' || name === 'jws' || name === 'jwa') return 'jsonwebtoken (and jws, jwa)';
    if (name === 'fastify' || name.startsWith('@fastify/') || name === 'find-my-way' || name === 'light-my-request') return 'Fastify';
    if (name === 'mysql2' || name === 'sql-escaper' || name === 'lru.min') return 'mysql2';
    if (name === 'class-validator' || name === 'class-transformer' || name === 'validator') return 'validation (class-validator)';
    if (name === 'pino' || name === 'sonic-boom') return 'logs (pino)';
    return name;
  }
  if (url.startsWith('node:internal/crypto')) return 'Node crypto (HMAC, hashes)';
  if (url.startsWith('node:')) return 'Node (http, streams, timers, async hooks)';
  if (url.includes('/dist/')) return 'the service';
  return url;
}

/**
 * The profile's busy samples between `from` and `to` (µs since the process started, as the
 * profile's own clock counts them), summed by origin and divided by `requests`; and the share of
 * that window the main thread was busy.
 */
function summarize(file: string, requests: number, from: number, to: number): { rows: Array<[string, number]>; busy: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const sums = new Map<string, number>();
  let at = 0;
  let window = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from || at > to) continue;
    window += delta;
    const key = origin(byId.get(profile.samples[i])!);
    sums.set(key, (sums.get(key) ?? 0) + delta);
  }
  const idle = sums.get('(idle)') ?? 0;
  sums.delete('(idle)');
  return {
    rows: [...sums].map(([k, us]) => [k, us / requests] as [string, number]).sort((a, b) => b[1] - a[1]),
    busy: window > 0 ? 1 - idle / window : 0,
  };
}

interface BuildProfile {
  label: string;
  requests: number;
  rps: number;
  busy: number;
  rows: Array<[string, number]>;
}

/** What one profiled process runs: a build, its environment, and the buyer tokens its load carries. */
interface Subject {
  label: string;
  main?: string;
  env?: Record<string, string>;
  auth?: string[];
}

async function profileBuild(subject: Subject): Promise<BuildProfile> {
  await dropDatabase(DATABASE);
  const dir = mkdtempSync(join(tmpdir(), 'fs-profile-'));
  // The profile's clock starts with the process, a few milliseconds after the spawn: only the
  // measured run's window counts (start-up, warm-up and shutdown left out).
  const spawned = performance.now();
  const service = await startService(DATABASE, { ...subject.env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` }, process.execPath, subject.main);
  const db = await connectDb(DATABASE);
  let measured: autocannon.Result;
  let from: number;
  let to: number;
  try {
    const productId = await createProduct(db, 'Profile product', 1_000_000_000);
    let load: (duration: number) => Promise<autocannon.Result>;
    if (SCENARIO === 'fairness') {
      await limitPerBuyer(db, productId);
      const auth = subject.auth ?? [];
      let start = 0;
      load = (duration) => {
        const run = holdLoad(service.url, productId, auth, start, { connections: 64, duration });
        start += auth.length / 2;
        return run;
      };
    } else {
      const options: autocannon.Options =
        SCENARIO === 'holds'
          ? {
              url: `${service.url}/api/holds`,
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ product_id: productId, qty: 1 }),
              connections: 64,
            }
          : { url: `${service.url}/api/products/${productId}`, connections: 64 };
      load = (duration) => autocannon({ ...options, duration });
    }
    await load(2);
    from = (performance.now() - spawned) * 1000;
    measured = await load(SECONDS);
    to = (performance.now() - spawned) * 1000;
  } finally {
    await db.end();
    await service.stop();
    await dropDatabase(DATABASE);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const { rows, busy } = summarize(join(dir, file), measured.requests.total, from, to);
  rmSync(dir, { recursive: true, force: true });
  return { label: subject.label, requests: measured.requests.total, rps: Math.round(measured.requests.average), busy, rows };
}

async function main(): Promise<void> {
  let subjects: Subject[];
  if (SCENARIO === 'fairness') {
    const auth = buyerTokens('profile');
    subjects = [
      { label: 'fairness off', env: FAIRNESS_ENV.off, auth },
      { label: 'fairness on', env: FAIRNESS_ENV.on, auth },
    ];
  } else {
    subjects = [{ label: 'this build' }];
    if (process.env.BENCH_COMPARE_MAIN) subjects.push({ label: `the build at ${process.env.BENCH_COMPARE_MAIN}`, main: process.env.BENCH_COMPARE_MAIN });
  }
  const results: BuildProfile[] = [];
  for (const subject of subjects) {
    process.stdout.write(`profiling ${subject.label}…\n`);
    results.push(await profileBuild(subject));
  }
  // Sources below 0.5 µs in every build go into one row.
  const SMALL = 'other packages (each below 0.5 µs)';
  for (const r of results) {
    const small = (k: string) => results.every((b) => (b.rows.find(([key]) => key === k)?.[1] ?? 0) < 0.5);
    const rest = r.rows.filter(([k]) => small(k)).reduce((sum, [, v]) => sum + v, 0);
    r.rows = [...r.rows.filter(([k]) => !small(k)), [SMALL, rest]];
  }
  const keys = [...new Set(results.flatMap((r) => r.rows.map(([k]) => k)))];
  const total = (r: BuildProfile) => r.rows.reduce((s, [, v]) => s + v, 0);
  keys.sort((a, b) => (results[0].rows.find(([k]) => k === b)?.[1] ?? 0) - (results[0].rows.find(([k]) => k === a)?.[1] ?? 0));
  const what =
    SCENARIO === 'read'
      ? 'GET /api/products/:id (cached)'
      : SCENARIO === 'fairness'
        ? 'POST /api/holds on one hot product, a buyer token per request (bench scenario (e))'
        : 'POST /api/holds on one hot product';
  const lines = [
    `Main-thread time per request (µs, busy samples of \`node --cpu-prof\`), ${what}, 64 connections, ${SECONDS} s after a 2 s warm-up, all on one machine:`,
    '',
    `| where | ${results.map((r) => r.label).join(' | ')} |`,
    `| --- | ${results.map(() => '---:').join(' | ')} |`,
    ...keys.map((k) => `| ${k} | ${results.map((r) => (r.rows.find(([key]) => key === k)?.[1] ?? 0).toFixed(1)).join(' | ')} |`),
    `| **total** | ${results.map((r) => `**${total(r).toFixed(1)}**`).join(' | ')} |`,
    `| requests profiled | ${results.map((r) => r.requests).join(' | ')} |`,
    `| requests/s | ${results.map((r) => r.rps).join(' | ')} |`,
    `| main thread busy | ${results.map((r) => `${Math.round(r.busy * 100)} %`).join(' | ')} |`,
  ];
  const md = lines.join('\n') + '\n';
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `profile-${SCENARIO}.md`), md);
  process.stdout.write('\n' + md);
}

main().catch((err: unknown) => {
  process.stderr.write(`profile failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
