/**
 * `npm run soak -- --minutes N` (default 30): a drop against the built service, for a long time,
 * under faults. Two instances (`dist/main.js`) over one database (reached through a TCP relay)
 * and one Redis; buyers browse, hold, order, abandon holds, pay through signed webhooks
 * (duplicated, late, out of order, some failures) and retry with `Idempotency-Key`. One instance
 * is SIGKILLed and restarted every few minutes, and the database is cut off once for ten seconds.
 *
 * Prints one line per minute (requests and answers by status, p50/p99, RSS of each instance, open
 * database connections). At the end: every 201 the clients received is in the database as told,
 * nothing was granted twice, every applied payment left its order as answered, `npm run audit`
 * is clean, and no instance's memory kept growing over the last minutes. Exits 1 otherwise.
 *
 * SOAK_DB_NAME (default flash_sale_soak) names the database (dropped and created anew); DB_HOST,
 * DB_PORT, DB_USER, DB_PASSWORD and REDIS_URL (default redis://127.0.0.1:6379) say where the
 * servers are.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signBody } from '../src/http/signature';
import { TcpProxy } from '../test/helpers/tcp-proxy';
import { connectDb, DB, dropDatabase, startService, Service } from './service';
import { Drop, Tally } from './soak-buyers';

const args = process.argv.slice(2);
const MINUTES = Number(args[args.indexOf('--minutes') + 1] ?? 30) || 30;
const DATABASE = process.env.SOAK_DB_NAME ?? 'flash_sale_soak';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = 'soak-admin-token';
const SECRET = 'soak-webhook-secret';
const BUYERS = Number(process.env.SOAK_BUYERS ?? 48);
/** Each instance slot's stdout (JSON log lines) and stderr go to `<dir>/<database>-<slot>.log`. */
const LOG_DIR = process.env.SOAK_LOG_DIR ?? join(__dirname, '..', 'test-output', 'soak');
/** A kill every this many seconds (alternating instances); the outage once, in the middle. */
const KILL_EVERY_S = MINUTES <= 3 ? 40 : 180;
/**
 * Short runs kill all along; longer ones only in their first half, so that both processes then
 * run undisturbed through the second half, whose memory is judged.
 */
const KILLS_UNTIL_S = MINUTES <= 3 ? MINUTES * 60 : (MINUTES * 60) / 2;
const OUTAGE_S = 10;
/**
 * Memory: RSS samples of the second half of the run from a minute after the outage ended (RSS
 * steps up once as the pool reconnects and the 503s pass: a step, not a trend) and at least
 * WARMUP_S after the process started (a fresh process's heap grows for a minute or two before it
 * settles), over at least JUDGED_SPAN_S; a least-squares slope above the limit fails the soak.
 * Shorter runs only print it.
 */
const RSS_GROWTH_LIMIT_MB_PER_MIN = 4;
const WARMUP_S = 120;
const AFTER_OUTAGE_S = 60;
const JUDGED_SPAN_S = 180;

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** One instance slot: the running process and its RSS samples since it last started. */
interface Slot {
  name: string;
  service?: Service;
  rss: Array<{ t: number; mb: number }>;
  /** When its current process started (Date.now()). */
  startedAt: number;
  /** Set once the running process was seen gone without the soak having killed it. */
  died?: boolean;
  /** Every time one of this slot's processes exited by itself (kept across restarts). */
  deaths: string[];
}

/** Records, once per process, that the slot's process is gone though the soak did not kill it. */
function noteDeath(slot: Slot, at: string): void {
  const service = slot.service;
  if (!service || service.alive() || slot.died) return;
  slot.died = true;
  const tail = service.stderrTail().trim().split('\n').slice(-5).join(' | ');
  slot.deaths.push(`instance ${slot.name} (pid ${service.pid}) ended by itself by ${at} (${service.exit()}); its stderr ended: ${tail || '(nothing)'}`);
  log(`  ${at} instance ${slot.name} (pid ${service.pid}) ended by itself (${service.exit()}); log: ${logFile(slot)}`);
}

function logFile(slot: Slot): string {
  return join(LOG_DIR, `${DATABASE}-${slot.name}.log`);
}

/** The relay to the database: cut now, and when it was last restored (Date.now()). */
const relay = { cut: false, restoredAt: 0 };
/** Starts that failed while the database was reachable all along: failures of the soak. */
const startFailures: string[] = [];
const START_ATTEMPTS = 10;
const START_RETRY_MS = 2_000;

/**
 * Starts the slot's process as a supervisor (systemd, compose's `restart: on-failure`) would: the
 * service creates and migrates its database at start and exits 1 when it cannot reach it, so a
 * process that exits during its start is started again 2 s later, up to START_ATTEMPTS times. A
 * start that failed while the relay was cut is expected; one that failed with the database
 * reachable is a failure of the soak.
 */
async function start(slot: Slot, env: Record<string, string>, at: () => string): Promise<Service> {
  for (let attempt = 1; ; attempt++) {
    const tried = Date.now();
    try {
      const service = await startService(DATABASE, env, undefined, undefined, logFile(slot));
      slot.service = service;
      slot.died = false;
      slot.rss = [];
      slot.startedAt = Date.now();
      return service;
    } catch (err) {
      const cut = relay.cut || relay.restoredAt >= tried;
      const why = (err instanceof Error ? err.message : String(err)).trim().split('\n').slice(-1)[0];
      log(`  ${at()} instance ${slot.name} failed to start (attempt ${attempt}${cut ? ', database cut off' : ''}): ${why}`);
      if (!cut) startFailures.push(`instance ${slot.name} failed to start at ${at()} with the database reachable: ${why}`);
      if (attempt >= START_ATTEMPTS) throw err;
      await sleep(START_RETRY_MS);
    }
  }
}

function instanceEnv(proxyPort: number): Record<string, string> {
  return {
    DB_PORT: String(proxyPort),
    DB_CONNECT_TIMEOUT_MS: '1000',
    REDIS_URL,
    ADMIN_TOKEN: TOKEN,
    WEBHOOK_SECRET: SECRET,
    HOLD_TTL_SECONDS: '6',
    ORDER_PAYMENT_TTL_SECONDS: '10',
    HOLD_SWEEP_INTERVAL_SECONDS: '1',
    LOG_LEVEL: 'warn',
    SEED_PRODUCT_STOCK: '0',
  };
}

/** Least-squares slope of the samples, in MB per minute. */
function slope(samples: Array<{ t: number; mb: number }>): number {
  const n = samples.length;
  const mt = samples.reduce((s, x) => s + x.t, 0) / n;
  const mm = samples.reduce((s, x) => s + x.mb, 0) / n;
  const num = samples.reduce((s, x) => s + (x.t - mt) * (x.mb - mm), 0);
  const den = samples.reduce((s, x) => s + (x.t - mt) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 60_000;
}

function runAudit(): Promise<{ code: number; out: string; err: string }> {
  const env = { PATH: process.env.PATH ?? '', DB_HOST: DB.host, DB_PORT: String(DB.port), DB_USER: DB.user, DB_PASSWORD: DB.password, DB_NAME: DATABASE };
  return new Promise((resolve) =>
    execFile(process.execPath, [join(__dirname, '..', 'dist', 'audit', 'main.js')], { env }, (err, out, stderr) =>
      resolve({ code: err ? Number(err.code ?? 2) : 0, out, err: stderr }),
    ),
  );
}

async function main(): Promise<number> {
  await dropDatabase(DATABASE);
  const proxy = new TcpProxy(DB.host, DB.port);
  await proxy.up();
  const env = instanceEnv(proxy.port);
  const slots: Slot[] = [
    { name: 'a', rss: [], deaths: [], startedAt: 0 },
    { name: 'b', rss: [], deaths: [], startedAt: 0 },
  ];
  mkdirSync(LOG_DIR, { recursive: true });
  for (const s of slots) writeFileSync(logFile(s), '');
  const first = await start(slots[0], env, () => 'start');
  await start(slots[1], env, () => 'start');
  const db = await connectDb(DATABASE);
  const started = Date.now();
  const tally = new Tally();
  const drop = new Drop(() => slots.flatMap((s) => (s.service ? [s.service.url] : [])), tally, { token: TOKEN, sign: (raw) => signBody(raw, SECRET) });
  await drop.setUp(first.url);
  log(
    `soak: ${MINUTES} min, ${BUYERS} buyers, 2 instances, database ${DATABASE} through a relay, kill every ${KILL_EVERY_S} s until ${KILLS_UNTIL_S} s, ${OUTAGE_S} s outage at ${Math.round((MINUTES * 60) / 2)} s`,
  );

  const end = started + MINUTES * 60_000;
  const buyers = Array.from({ length: BUYERS }, (_, i) => drop.buyer(i, () => Date.now() >= end));
  const faults = (async () => {
    let next = started + KILL_EVERY_S * 1000;
    let outageDone = false;
    let victim = 1;
    while (Date.now() < end - 15_000) {
      await sleep(250);
      if (!outageDone && Date.now() >= started + (MINUTES * 60_000) / 2) {
        outageDone = true;
        log(`  ${elapsed(started)} database cut off for ${OUTAGE_S} s`);
        relay.cut = true;
        await proxy.down();
        await sleep(OUTAGE_S * 1000);
        await proxy.up();
        relay.cut = false;
        relay.restoredAt = Date.now();
        log(`  ${elapsed(started)} database back`);
      }
      if (Date.now() >= next && next < started + KILLS_UNTIL_S * 1000) {
        next += KILL_EVERY_S * 1000;
        const slot = slots[victim];
        victim = 1 - victim;
        noteDeath(slot, elapsed(started));
        const old = slot.service;
        slot.service = undefined;
        const wasAlive = old?.alive() ?? false;
        await old?.kill();
        log(`  ${elapsed(started)} instance ${slot.name} ${wasAlive ? 'killed (SIGKILL' : 'was already gone (no kill'}, pid ${old?.pid})`);
        const restarted = await start(slot, env, () => elapsed(started));
        log(`  ${elapsed(started)} instance ${slot.name} restarted (pid ${restarted.pid})`);
      }
    }
  })();
  const sampler = setInterval(() => {
    for (const s of slots) {
      if (!s.service) continue;
      noteDeath(s, elapsed(started));
      if (s.died) continue;
      s.rss.push({ t: Date.now(), mb: rssMb(s.service.pid) });
    }
  }, 5_000);
  const reporter = setInterval(() => {
    void (async () => {
      const [[row]] = (await db.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [DATABASE])) as unknown as [[{ n: number }]];
      const rss = slots.map((s) => `${s.name} ${s.service ? rssMb(s.service.pid) : 0} MB`).join(', ');
      log(`${elapsed(started)} ${tally.minuteLine()} | RSS ${rss} | db connections ${Number(row.n)}`);
    })().catch(() => undefined);
  }, 60_000);

  await Promise.all([...buyers, faults]);
  clearInterval(reporter);
  clearInterval(sampler);
  log(`${elapsed(started)} ${tally.minuteLine()} (last part)`);
  log(`load over: ${tally.totalLine()}`);

  // Late webhooks still due, then the checks against what the clients were told.
  await drop.drain();
  const failures: string[] = [];
  failures.push(...(await drop.verify(db)));
  const audit = await runAudit();
  log(`audit: exit ${audit.code}; ${audit.err.trim()}`);
  if (audit.code !== 0) failures.push(`audit exit ${audit.code}: ${audit.out.trim().split('\n').slice(0, 20).join(' | ')}`);
  // An instance that exited by itself (not killed by the soak) is a failure, whatever else held.
  for (const s of slots) {
    noteDeath(s, elapsed(started));
    failures.push(...s.deaths);
  }
  failures.push(...startFailures);
  const judgedFrom = started + (MINUTES * 60_000) / 2 + (OUTAGE_S + AFTER_OUTAGE_S) * 1000;
  for (const s of slots) {
    const from = Math.max(judgedFrom, s.startedAt + WARMUP_S * 1000);
    const judged = s.rss.filter((x) => x.t >= from);
    const span = judged.length > 1 ? (judged[judged.length - 1].t - judged[0].t) / 1000 : 0;
    if (span >= JUDGED_SPAN_S) {
      const trend = slope(judged);
      log(
        `RSS of instance ${s.name} over ${Math.round(span / 60)} min (${judged.length} samples from ${elapsed(started, judged[0].t)}): ` +
          `${judged[0].mb} -> ${judged[judged.length - 1].mb} MB, min ${Math.min(...judged.map((x) => x.mb))}, max ${Math.max(...judged.map((x) => x.mb))}, ${trend.toFixed(2)} MB/min`,
      );
      if (trend > RSS_GROWTH_LIMIT_MB_PER_MIN) failures.push(`instance ${s.name} memory grows ${trend.toFixed(1)} MB/min`);
    } else {
      // Too short to tell a leak from a heap still growing to its working size: shown, not judged.
      const recent = s.rss.filter((x) => x.t >= Date.now() - 60_000);
      const first = recent[0]?.mb ?? 0;
      const last = recent[recent.length - 1]?.mb ?? 0;
      log(
        `RSS of instance ${s.name} over its last ${recent.length} samples: ${first} -> ${last} MB` +
          (recent.length >= 6 ? `, ${slope(recent).toFixed(2)} MB/min` : '') +
          ` (not judged: needs ${JUDGED_SPAN_S / 60} min of samples from a minute after the outage and ${WARMUP_S / 60} min after the start; runs of 10 minutes or more)`,
      );
    }
  }
  await db.end();
  for (const s of slots) await s.service?.stop();
  await proxy.down();
  for (const f of failures) process.stderr.write(`SOAK FAIL ${f}\n`);
  log(failures.length === 0 ? 'soak: PASS' : `soak: FAIL (${failures.length})`);
  if (failures.length === 0 && process.env.SOAK_KEEP_DB !== '1') await dropDatabase(DATABASE);
  return failures.length === 0 ? 0 : 1;
}

function elapsed(started: number, at = Date.now()): string {
  const s = Math.round((at - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  },
);
