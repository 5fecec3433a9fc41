/**
 * `npm run bench`: starts the built service on its own database and measures (a) cached product
 * reads, (b) holds on one hot product at 64 and 256 connections, (c) 2,000 clients racing for
 * 1,000 units, checking after each hold run in the database that nothing was oversold or lost.
 * BENCH_RUNS repeats the set and reports the median of each figure; BENCH_DURATION is the
 * seconds of each measured run. Results go to bench/results/latest.{json,md}.
 *
 * BENCH_COMPARE_NODE=/path/to/node runs every set twice, alternating between the project's Node
 * and that binary (so both see the same noise of a shared machine), and reports both side by side.
 * BENCH_COMPARE_MAIN=/path/to/other/dist/main.js does the same between this build and another one
 * (an earlier commit built in a worktree): before and after, from one command. BENCH_STAMPEDE=0
 * leaves out (d), the stampede (20,000 holds, a third of the clients giving up and retrying).
 *
 * (e) The cost of fairness (bench/fairness.ts): hot-product holds at 64 connections
 * (BENCH_FAIRNESS_CONNECTIONS) with buyer tokens, a per-buyer limit and the recommended rate
 * limits on, against the same with them off, BENCH_FAIRNESS_ROUNDS (default 3) rounds alternating
 * off/on on fresh services, medians side by side. BENCH_FAIRNESS=0 leaves it out; BENCH_SETS=0
 * leaves out (a)–(d) and runs only (e).
 *
 * (f) The framework's cost: every build above runs beside the lean reference server that
 * BENCH_LEAN_LIMIT names (see lean-pair.ts), in interleaved windows of
 * BENCH_DURATION seconds, BENCH_LEAN_WINDOWS (3) of each, and the ratios are printed (see
 * lean-pair.ts). BENCH_LEAN=0 leaves it out.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { connectDb, createProduct, dropDatabase, startService } from './service';
import { leanLimitPresent, leanPair, leanPairTable, LEAN_LIMIT, PairService } from './lean-pair';
import { Figures, hotHolds, productReads, race, stampedeRun } from './scenarios';
import { fairnessPair } from './fairness';

const DATABASE = process.env.BENCH_DB_NAME ?? 'flash_sale_bench';
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const OUT = join(__dirname, 'results');
const COMPARE_NODE = process.env.BENCH_COMPARE_NODE;
const COMPARE_MAIN = process.env.BENCH_COMPARE_MAIN;
const LEAN_WINDOWS = Number(process.env.BENCH_LEAN_WINDOWS ?? 3);

/** What one set runs: a runtime and a built entry point. */
interface Variant {
  label: string;
  node: string;
  main?: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
}

/** One set of the three scenarios on a fresh database and a fresh service. */
async function runOnce(variant: Variant): Promise<Figures[]> {
  await dropDatabase(DATABASE);
  const service = await startService(DATABASE, { DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? '20' }, variant.node, variant.main);
  const db = await connectDb(DATABASE);
  try {
    const readProduct = await createProduct(db, 'Read product', 100);
    const out: Figures[] = [];
    out.push(await productReads(service, readProduct, 64, DURATION));
    out.push(await hotHolds(service, db, 64, DURATION));
    out.push(await hotHolds(service, db, 256, DURATION));
    out.push(await race(service, db, 1000, 2000));
    if (process.env.BENCH_STAMPEDE !== '0') out.push(await stampedeRun(service, db));
    return out;
  } finally {
    await db.end();
    await service.stop();
  }
}

/** Answers by status over all runs (the table shows what every run got, not one run's share). */
function sumStatus(all: Figures[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of all) for (const [code, n] of Object.entries(f.status)) out[code] = (out[code] ?? 0) + n;
  return out;
}

function combine(runs: Figures[][]): Figures[] {
  return runs[0].map((first, i) => {
    const all = runs.map((r) => r[i]);
    return {
      ...first,
      requests: median(all.map((f) => f.requests)),
      rps: median(all.map((f) => f.rps)),
      p50_ms: median(all.map((f) => f.p50_ms)),
      p99_ms: median(all.map((f) => f.p99_ms)),
      status: sumStatus(all),
      errors: all.reduce((s, f) => s + f.errors, 0),
      timeouts: all.reduce((s, f) => s + f.timeouts, 0),
      checks: all.flatMap((f) => f.checks),
      extra: first.extra && Object.fromEntries(Object.keys(first.extra).map((k) => [k, median(all.map((f) => f.extra?.[k] ?? 0))])),
    };
  });
}

/** (f) Every build beside the lean limit, each on its own database. */
async function runLeanPair(variants: Variant[]): Promise<{ md: string; json: unknown }> {
  if (process.env.BENCH_LEAN === '0') return { md: '', json: undefined };
  if (!leanLimitPresent()) {
    const note = `No lean reference server (BENCH_LEAN_LIMIT=${LEAN_LIMIT ?? 'unset'}): the comparison with it was left out.\n`;
    process.stdout.write(note);
    return { md: note, json: undefined };
  }
  process.stdout.write('the lean-limit comparison…\n');
  const started: PairService[] = [];
  try {
    for (const [i, variant] of variants.entries()) {
      const database = `${DATABASE}_pair${i}`;
      await dropDatabase(database);
      const service = await startService(database, { DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? '20' }, variant.node, variant.main);
      started.push({ label: variant.label, service, db: await connectDb(database) });
    }
    const result = await leanPair(started, LEAN_WINDOWS, DURATION);
    return { md: leanPairTable(result.rows, LEAN_WINDOWS, DURATION), json: result };
  } finally {
    for (const [i, s] of started.entries()) {
      await s.db.end();
      await s.service.stop();
      await dropDatabase(`${DATABASE}_pair${i}`);
    }
  }
}

function nodeVersion(node: string): string {
  return execSync(`"${node}" --version`).toString().trim();
}

function machine(): Record<string, string | number> {
  const git = (cmd: string) => {
    try {
      return execSync(cmd, { cwd: join(__dirname, '..') })
        .toString()
        .trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: nodeVersion(process.execPath),
    commit: git('git rev-parse --short HEAD'),
  };
}

function table(results: Figures[], runs: number, env: Record<string, string | number>): string {
  const lines = [
    `Machine: ${env.cores} × ${env.cpu}, ${env.memory_gib} GiB, Node ${env.node}, ${env.database}; service, database and load generator on the same machine. Medians of ${runs} run(s), ${DURATION} s each (commit ${env.commit}, ${env.date}).`,
    '',
    '| scenario | connections | req/s | p50 ms | p99 ms | answers (all runs) | errors | checks | more |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |',
  ];
  for (const f of results) {
    const answers = Object.entries(f.status)
      .map(([code, n]) => `${n} × ${code}`)
      .join(', ');
    const ok = f.checks.every((c) => c.ok) ? 'pass' : 'FAIL';
    const more = Object.entries(f.extra ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(`| ${f.scenario} | ${f.connections} | ${f.rps} | ${f.p50_ms} | ${f.p99_ms} | ${answers} | ${f.errors + f.timeouts} | ${ok} | ${more} |`);
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const variants: Variant[] = [{ label: 'this build', node: process.execPath }];
  if (COMPARE_NODE) variants.push({ label: `this build on ${nodeVersion(COMPARE_NODE)}`, node: COMPARE_NODE });
  if (COMPARE_MAIN) variants.push({ label: `the build at ${COMPARE_MAIN}`, node: process.execPath, main: COMPARE_MAIN });
  const runs = new Map<Variant, Figures[][]>(variants.map((v) => [v, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const variant of variants) {
      process.stdout.write(`run ${i + 1} of ${RUNS}: ${variant.label}, Node ${nodeVersion(variant.node)}…\n`);
      runs.get(variant)!.push(process.env.BENCH_SETS === '0' ? [] : await runOnce(variant));
    }
  }
  if (process.env.BENCH_FAIRNESS !== '0') {
    const pair = await fairnessPair(DATABASE, Number(process.env.BENCH_FAIRNESS_CONNECTIONS ?? 64), DURATION, Number(process.env.BENCH_FAIRNESS_ROUNDS ?? 3));
    // Already medians of its own rounds: the same figures in every run of this build's set.
    for (const set of runs.get(variants[0])!) set.push(...pair);
  }
  const db = await connectDb('mysql');
  const [[{ version }]] = (await db.query('SELECT VERSION() AS version')) as unknown as [Array<{ version: string }>];
  await db.end();
  const env = { ...machine(), database: version, date: new Date().toISOString() };
  mkdirSync(OUT, { recursive: true });
  const failed: string[] = [];
  const json: Record<string, unknown>[] = [];
  let md = '';
  for (const variant of variants) {
    if (runs.get(variant)!.every((set) => set.length === 0)) continue; // BENCH_SETS=0 and nothing else ran
    const results = combine(runs.get(variant)!);
    const nodeEnv = { ...env, node: nodeVersion(variant.node), build: variant.label };
    json.push({ machine: nodeEnv, runs: RUNS, duration_s: DURATION, results, each_run: runs.get(variant) });
    md += (md ? '\n' : '') + (variants.length > 1 ? `**${variant.label}**\n\n` : '') + table(results, RUNS, nodeEnv);
    failed.push(
      ...results.flatMap((f) =>
        f.checks.filter((c) => !c.ok).map((c) => `${variant.label} (Node ${nodeEnv.node}) ${f.scenario} (${f.connections}): ${c.name}: ${c.detail}`),
      ),
    );
  }
  const pair = await runLeanPair(variants);
  if (pair.md) md += (md ? '\n' : '') + pair.md;
  if (pair.json) json.push({ machine: env, lean_pair: pair.json });
  for (const row of (pair.json as { rows?: Array<{ service: string; scenario: string; connections: number; bad_windows: number }> } | undefined)?.rows ?? []) {
    if (row.bad_windows > 0)
      failed.push(`${row.service} beside the lean limit, ${row.scenario} (${row.connections}): ${row.bad_windows} windows with non-2xx answers`);
  }
  writeFileSync(join(OUT, 'latest.json'), JSON.stringify(json.length === 1 ? json[0] : json, null, 2) + '\n');
  writeFileSync(join(OUT, 'latest.md'), md);
  process.stdout.write('\n' + md);
  for (const line of failed) process.stderr.write(`FAIL ${line}\n`);
  await dropDatabase(DATABASE);
  process.exit(failed.length > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
