/**
 * `npm run bench:stream`: availability streams under a burst of holds. Starts the built service on
 * its own database and runs holds (qty 1, BENCH_CONNECTIONS connections, BENCH_DURATION seconds)
 * on one hot product twice: once with no stream open, once with BENCH_STREAMS (2,000) streams open
 * on that product. Reports hot-product holds/s of both, the server's CPU during each, events per
 * second received, and the delay from a hold's answer to the first event at each client that shows
 * it (p50/p99 over every client and every probe; a probe every 100 ms takes the 201s counted so
 * far: an event with `available` at or below stock − that count shows them). The streams are read
 * by a separate process, so the load generator's loop does not delay them. Results go to
 * bench/results/stream.{json,md}.
 *
 * The readers stand for 2,000 browsers on other machines. On one small machine they would take
 * the service's CPU and the measured cost would be theirs, so they run in a child process at the
 * lowest priority (`nice -n 19`, BENCH_READERS_NICE): they use what the service leaves idle, and
 * the holds/s measure what the open streams cost the service. BENCH_RUNS (3) rounds alternate
 * without and with streams; the table shows medians.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ChildProcess, spawn } from 'node:child_process';
import { execSync } from 'node:child_process';

import autocannon from 'autocannon';
import { connectDb, createProduct, dropDatabase, startService, Service } from './service';

const DATABASE = process.env.BENCH_DB_NAME ?? 'flash_sale_bench_stream';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 2000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const READERS_NICE = process.env.BENCH_READERS_NICE ?? '19';
const STOCK = 1_000_000_000;
const OUT = join(__dirname, 'results');

/** The stream readers: plain JS run in a child process; one socket per stream, events kept as [receivedAt, available, at]. */
const READERS = `
const http = require('node:http');
const workerData = JSON.parse(process.env.READERS);
const parentPort = { postMessage: (m) => process.send(m), on: (e, f) => process.on(e, f) };
const clients = [];
let ready = 0;
for (let i = 0; i < workerData.streams; i++) {
  const events = [];
  clients.push(events);
  const req = http.get(workerData.url, { agent: false }, (res) => {
    let pending = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      pending += chunk;
      let end;
      while ((end = pending.indexOf('\\n\\n')) >= 0) {
        const block = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const line = block.split('\\n').find((l) => l.startsWith('data: '));
        if (!line) continue;
        const d = JSON.parse(line.slice(6));
        events.push([Date.now(), d.available, Date.parse(d.at)]);
        if (events.length === 1 && ++ready === workerData.streams) parentPort.postMessage({ ready: true });
      }
    });
  });
  req.on('error', (err) => parentPort.postMessage({ error: err.message }));
}
parentPort.on('message', () => parentPort.postMessage({ clients }));
`;

interface Run {
  streams: number;
  holds: number;
  holds_per_s: number;
  hold_p50_ms: number;
  hold_p99_ms: number;
  errors: number;
  server_cpu_pct: number;
  events_received?: number;
  events_per_s?: number;
  events_per_s_per_client?: number;
  delay_p50_ms?: number;
  delay_p99_ms?: number;
  read_to_client_p50_ms?: number;
  read_to_client_p99_ms?: number;
  delay_samples?: number;
}

/** CPU seconds (user + system) the process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function holdsRun(service: Service, productId: number, onAnswer?: (status: number) => void, duration = DURATION): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const options: autocannon.Options = {
      url: `${service.url}/api/holds`,
      connections: CONNECTIONS,
      duration,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ product_id: productId, qty: 1 }),
      timeout: 30,
    };
    const instance = autocannon(options, (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)));
    if (onAnswer) instance.on('response', (_client, status) => onAnswer(status));
  });
}

async function measure(service: Service, productId: number, streams: number): Promise<Run> {
  let worker: ChildProcess | undefined;
  if (streams > 0) {
    worker = spawn('nice', ['-n', READERS_NICE, process.execPath, '-e', READERS], {
      env: { ...process.env, READERS: JSON.stringify({ url: `${service.url}/api/products/${productId}/stream`, streams }) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      worker!.on('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : m.error && reject(new Error(m.error))));
      worker!.once('exit', (code) => reject(new Error(`stream readers exited with ${code}`)));
    });
  }
  const probes: Array<{ t: number; count: number }> = [];
  let created = 0;
  let lastAnswer = 0;
  const probe = setInterval(() => probes.push({ t: lastAnswer, count: created }), 100);
  const cpuBefore = cpuSeconds(service.pid);
  const started = Date.now();
  const result = await holdsRun(service, productId, (status) => {
    if (status === 201) {
      created++;
      lastAnswer = Date.now();
    }
  });
  const wall = (Date.now() - started) / 1000;
  const cpu = cpuSeconds(service.pid) - cpuBefore;
  clearInterval(probe);
  const run: Run = {
    streams,
    holds: created,
    holds_per_s: Math.round(result.requests.average),
    hold_p50_ms: result.latency.p50,
    hold_p99_ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    server_cpu_pct: Math.round((cpu / wall) * 100),
  };
  if (!worker) return run;
  await new Promise((r) => setTimeout(r, 1500)); // the last events of the run
  const clients = await new Promise<Array<Array<[number, number, number]>>>((resolve) => {
    worker.once('message', (m: { clients: Array<Array<[number, number, number]>> }) => resolve(m.clients));
    worker.send('report');
  });
  worker.removeAllListeners('exit');
  worker.kill('SIGKILL');
  const delays: number[] = [];
  const fanOut: number[] = [];
  let received = 0;
  for (const events of clients) {
    const during = events.filter((e) => e[0] >= started);
    received += during.length;
    for (const e of during) fanOut.push(e[0] - e[2]);
    let i = 0;
    for (const p of probes) {
      if (p.count === 0) continue;
      while (i < events.length && events[i][1] > STOCK - p.count) i++;
      if (i < events.length) delays.push(Math.max(0, events[i][0] - p.t));
    }
  }
  delays.sort((a, b) => a - b);
  fanOut.sort((a, b) => a - b);
  return {
    ...run,
    events_received: received,
    events_per_s: Math.round(received / wall),
    events_per_s_per_client: Math.round((received / wall / streams) * 10) / 10,
    delay_p50_ms: percentile(delays, 50),
    delay_p99_ms: percentile(delays, 99),
    read_to_client_p50_ms: percentile(fanOut, 50),
    read_to_client_p99_ms: percentile(fanOut, 99),
    delay_samples: delays.length,
  };
}

/** Each figure the median of the runs'. */
function medianRun(list: Run[]): Run {
  const med = (f: (r: Run) => number | undefined): number => {
    const v = list
      .map(f)
      .filter((x): x is number => typeof x === 'number' && !Number.isNaN(x))
      .sort((a, b) => a - b);
    return v.length ? v[Math.floor(v.length / 2)] : NaN;
  };
  const out = { ...list[0] };
  for (const key of Object.keys(out) as Array<keyof Run>) if (typeof out[key] === 'number') (out as Record<string, number>)[key] = med((r) => r[key]);
  return out;
}

async function main(): Promise<void> {
  await dropDatabase(DATABASE);
  const service = await startService(DATABASE, { STREAM_MAX_CLIENTS: String(Math.max(10_000, STREAMS)) });
  const db = await connectDb(DATABASE);
  const runs: Run[] = [];
  try {
    const warmUp = await createProduct(db, 'Warm-up', STOCK);
    await holdsRun(service, warmUp, undefined, 2);
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < RUNS; i++) {
      process.stdout.write(`round ${i + 1} of ${RUNS}…\n`);
      runs.push(await measure(service, await createProduct(db, `Hot, no streams ${i}`, STOCK), 0));
      runs.push(await measure(service, await createProduct(db, `Hot, streams ${i}`, STOCK), STREAMS));
    }
  } finally {
    await db.end();
    await service.stop();
  }
  const commit = execSync('git rev-parse --short HEAD').toString().trim();
  const meta = {
    commit,
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    date: new Date().toISOString(),
    duration_s: DURATION,
    connections: CONNECTIONS,
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'stream.json'), JSON.stringify({ ...meta, readers_nice: READERS_NICE, runs }, null, 2) + '\n');
  const plain = medianRun(runs.filter((r) => r.streams === 0));
  const live = medianRun(runs.filter((r) => r.streams > 0));
  const cost = Math.round((1 - live.holds_per_s / plain.holds_per_s) * 1000) / 10;
  const md = [
    `# bench:stream, commit ${commit}`,
    '',
    `${meta.date}, ${meta.cpus}, service and load generator on Node ${process.version}; POST /api/holds qty 1 on one hot product at ${CONNECTIONS} connections for ${DURATION} s; the stream readers in a separate process at nice ${READERS_NICE}, everything on one machine. Medians of ${RUNS} alternating rounds; holds/s of each round: without ${runs
      .filter((r) => r.streams === 0)
      .map((r) => r.holds_per_s)
      .join(', ')}, with ${runs
      .filter((r) => r.streams > 0)
      .map((r) => r.holds_per_s)
      .join(', ')}. What the streams cost in hot-product holds/s: ${cost} %.`,
    '',
    '| run | streams open | holds/s | hold p50 / p99 ms | server CPU (% of one core) | events/s received (per client) | answer → event p50 / p99 ms | read → client p50 / p99 ms |',
    '| --- | -----------: | ------: | ----------------: | -------------------------: | -----------------------------: | --------------------------: | -------------------------: |',
    `| without streams | 0 | ${plain.holds_per_s} | ${plain.hold_p50_ms} / ${plain.hold_p99_ms} | ${plain.server_cpu_pct} | – | – | – |`,
    `| with streams | ${live.streams} | ${live.holds_per_s} | ${live.hold_p50_ms} / ${live.hold_p99_ms} | ${live.server_cpu_pct} | ${live.events_per_s} (${live.events_per_s_per_client}) | ${live.delay_p50_ms} / ${live.delay_p99_ms} | ${live.read_to_client_p50_ms} / ${live.read_to_client_p99_ms} |`,
    '',
    `answer → event: from the moment the load generator got a hold's 201 to the first event at a client whose \`available\` shows it, over ${live.delay_samples} (probe, client) pairs; it includes the coalescing window (an event at most every 250 ms per product). read → client: from the service's read of the value (\`at\`) to the event's arrival. Errors: ${plain.errors} and ${live.errors}.`,
    '',
  ].join('\n');
  writeFileSync(join(OUT, 'stream.md'), md);
  process.stdout.write(md);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
