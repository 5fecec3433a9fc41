/**
 * `npm run bench:profile`: where the main thread's time per request goes. Starts the built
 * service under `node --cpu-prof`, sends holds on one hot product (or, with PROFILE_SCENARIO=read,
 * cached product reads) from 64 connections for PROFILE_SECONDS (10) after a warm-up, stops it,
 * and sums the profile's samples by where the code comes from (a package, Node's own modules,
 * the service, the garbage collector, the socket writes), in µs per request.
 * BENCH_COMPARE_MAIN=/path/to/other/dist/main.js profiles that build the same way, after this one.
 *
 * The samples are wall-clock time of the main thread while it is not idle: on a machine where the
 * load generator and the database share the cores, a thread descheduled inside a system call is
 * counted there (the socket writes look dearer than they are). Compare builds in one run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { connectDb, createProduct, dropDatabase, startService } from './service';

const DATABASE = 'flash_sale_bench_profile';
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const SCENARIO = process.env.PROFILE_SCENARIO === 'read' ? 'read' : 'holds';
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
    if (name === 'fastify' || name.startsWith('@fastify/') || name === 'find-my-way' || name === 'light-my-request') return 'Fastify';
    if (name === 'mysql2' || name === 'sql-escaper' || name === 'lru.min') return 'mysql2';
    if (name === 'class-validator' || name === 'class-transformer' || name === 'validator') return 'validation (class-validator)';
    if (name === 'pino' || name === 'sonic-boom') return 'logs (pino)';
    return name;
  }
  if (url.startsWith('node:')) return 'Node (http, streams, timers, async hooks)';
  if (url.includes('/dist/')) return 'the service';
  return url;
}

function summarize(file: string, requests: number): Array<[string, number]> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const sums = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const key = origin(byId.get(profile.samples[i])!);
    sums.set(key, (sums.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  sums.delete('(idle)');
  return [...sums].map(([k, us]) => [k, us / requests] as [string, number]).sort((a, b) => b[1] - a[1]);
}

interface BuildProfile {
  label: string;
  requests: number;
  rows: Array<[string, number]>;
}

async function profileBuild(label: string, main: string | undefined): Promise<BuildProfile> {
  await dropDatabase(DATABASE);
  const dir = mkdtempSync(join(tmpdir(), 'fs-profile-'));
  // The profile covers the process's whole life, start-up included; the sums are divided by
  // every request it served (the warm-up's too), so start-up adds a little to each build alike.
  const service = await startService(DATABASE, { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` }, process.execPath, main);
  const db = await connectDb(DATABASE);
  let requests = 0;
  try {
    const productId = await createProduct(db, 'Profile product', 1_000_000_000);
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
    for (const duration of [2, SECONDS]) {
      const r = await autocannon({ ...options, duration });
      requests += r.requests.total;
    }
  } finally {
    await db.end();
    await service.stop();
    await dropDatabase(DATABASE);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const rows = summarize(join(dir, file), requests);
  rmSync(dir, { recursive: true, force: true });
  return { label, requests, rows };
}

async function main(): Promise<void> {
  const builds: Array<[string, string | undefined]> = [['this build', undefined]];
  if (process.env.BENCH_COMPARE_MAIN) builds.push([`the build at ${process.env.BENCH_COMPARE_MAIN}`, process.env.BENCH_COMPARE_MAIN]);
  const results: BuildProfile[] = [];
  for (const [label, main] of builds) {
    process.stdout.write(`profiling ${label}…\n`);
    results.push(await profileBuild(label, main));
  }
  // Sources below 0.5 µs in every build (mostly start-up: module loading) go into one row.
  const SMALL = 'other packages (each below 0.5 µs)';
  for (const r of results) {
    const small = (k: string) => results.every((b) => (b.rows.find(([key]) => key === k)?.[1] ?? 0) < 0.5);
    const rest = r.rows.filter(([k]) => small(k)).reduce((sum, [, v]) => sum + v, 0);
    r.rows = [...r.rows.filter(([k]) => !small(k)), [SMALL, rest]];
  }
  const keys = [...new Set(results.flatMap((r) => r.rows.map(([k]) => k)))];
  const total = (r: BuildProfile) => r.rows.reduce((s, [, v]) => s + v, 0);
  keys.sort((a, b) => (results[0].rows.find(([k]) => k === b)?.[1] ?? 0) - (results[0].rows.find(([k]) => k === a)?.[1] ?? 0));
  const what = SCENARIO === 'holds' ? 'POST /api/holds on one hot product' : 'GET /api/products/:id (cached)';
  const lines = [
    `Main-thread time per request (µs, busy samples of \`node --cpu-prof\`), ${what}, 64 connections, ${SECONDS} s after a 2 s warm-up, all on one machine:`,
    '',
    `| where | ${results.map((r) => r.label).join(' | ')} |`,
    `| --- | ${results.map(() => '---:').join(' | ')} |`,
    ...keys.map((k) => `| ${k} | ${results.map((r) => (r.rows.find(([key]) => key === k)?.[1] ?? 0).toFixed(1)).join(' | ')} |`),
    `| **total** | ${results.map((r) => `**${total(r).toFixed(1)}**`).join(' | ')} |`,
    `| requests profiled | ${results.map((r) => r.requests).join(' | ')} |`,
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
