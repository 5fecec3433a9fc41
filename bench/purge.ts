/**
 * `npm run bench:purge`: does deleting a year of old holds slow the hot path down?
 *
 * Fills the bench database with PURGE_HOLDS (default 1,000,000) holds that ended long ago
 * (expired 2 to 365 days back, over 200 products, in multi-row INSERTs through the factories),
 * then runs the hot-product hold load (POST /api/holds on one product, 64 connections) against the
 * built service twice per round: once on a service that keeps every hold (HOLD_RETENTION_DAYS=3650:
 * nothing to purge, the same full table), once on a service that purges as it does in production,
 * sweeping every second (HOLD_SWEEP_INTERVAL_SECONDS=1) with HOLD_RETENTION_DAYS=1, so its expiry
 * job deletes the old holds in chunks (HoldExpiryJob.purgeEnded, its own chunk size and time
 * budget) while the load runs. Both services sweep every second; only the retention differs. It
 * counts the holds the purge deleted during the measured run and says whether the purge was still
 * going when the run ended (else the run did not measure "under purge" throughout). Prints p50/p99
 * and req/s side by side with the p99 ratio; PURGE_ROUNDS (default 2) repeats the pair, alternating,
 * and the medians are compared. Exits 1 if a correctness check fails (oversell, a refused hold).
 * Results go to bench/results/purge.{json,md}. Speed is never asserted by a test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Hold } from '../src/hold/hold.entity';
import { Order } from '../src/order/order.entity';
import { PaymentEvent } from '../src/payment/payment-event.entity';
import { Product } from '../src/product/product.entity';
import { factories } from '../test/factories';
import { Figures, hotHolds } from './scenarios';
import { connectDb, DB, dropDatabase, startService } from './service';

const DAY = 86_400_000;

export interface PurgeOptions {
  database: string;
  holds: number;
  duration: number;
  rounds: number;
  log?: (line: string) => void;
}

export interface PurgeRun {
  round: number;
  purging: boolean;
  figures: Figures;
  /** Old holds deleted while the measured load ran (warm-up excluded). */
  purgedDuringRun: number;
  /** Old holds left when the run ended: above 0, the purge went on for the whole run. */
  oldLeftAfter: number;
}

export interface PurgeResult {
  runs: PurgeRun[];
  without: { p50: number; p99: number; rps: number };
  during: { p50: number; p99: number; rps: number };
  p99Ratio: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function runPurge(o: PurgeOptions): Promise<PurgeResult> {
  await dropDatabase(o.database);
  // The schema comes from the service's own migrations.
  const first = await startService(o.database, { HOLD_RETENTION_DAYS: '3650', LOG_LEVEL: 'warn' });
  await first.stop();
  const db = await connectDb(o.database);
  const ds = await new DataSource({
    type: 'mysql',
    ...DB,
    username: DB.user,
    database: o.database,
    timezone: 'Z',
    entities: [Product, Hold, Order, PaymentEvent],
    poolSize: 4,
  }).initialize();
  const make = factories(ds);
  const oldHolds = async (): Promise<number> => {
    const [[row]] = (await db.query(`SELECT COUNT(*) AS n FROM holds WHERE status = 'expired' AND expires_at < ?`, [
      new Date(Date.now() - DAY),
    ])) as unknown as [Array<{ n: number }>];
    return Number(row.n);
  };
  try {
    const productIds: number[] = [];
    for (let i = 0; i < 200; i++) productIds.push((await make.makeProduct({ name: `Drop ${i + 1}`, stock: 1_000_000_000 })).id);
    const fill = async (n: number): Promise<void> => {
      const now = Date.now();
      const chunk = 5000;
      for (let done = 0; done < n; done += chunk) {
        const rows = Array.from({ length: Math.min(chunk, n - done) }, (_, k) => {
          const i = done + k;
          const expiresAt = new Date(now - 2 * DAY - Math.floor((i / n) * 363 * DAY));
          return {
            productId: productIds[i % productIds.length],
            qty: 1 + (i % 2),
            status: 'expired' as const,
            expiresAt,
            createdAt: new Date(expiresAt.getTime() - 120_000),
          };
        });
        await make.makeHolds(rows);
        if ((done / chunk) % 40 === 0) o.log?.(`  old holds ${done + rows.length} of ${n}`);
      }
    };
    o.log?.(`filling ${o.holds} old ended holds…`);
    await fill(o.holds);
    await db.query('ANALYZE TABLE holds');
    const runs: PurgeRun[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      for (const purging of [false, true]) {
        // Top the old holds up to the full size again before a purging run.
        const left = await oldHolds();
        if (purging && left < o.holds * 0.9) {
          o.log?.(`  topping old holds up from ${left}…`);
          await fill(o.holds - left);
        }
        const service = await startService(o.database, {
          HOLD_RETENTION_DAYS: purging ? '1' : '3650',
          HOLD_SWEEP_INTERVAL_SECONDS: '1',
          LOG_LEVEL: 'warn',
        });
        try {
          o.log?.(`round ${round}: hot-product holds ${purging ? 'while the purge deletes old holds' : 'without a purge'}…`);
          // hotHolds warms up for 2 s first; count the old holds at the start of the measured part.
          let atStart = 0;
          const timer = setTimeout(() => {
            void oldHolds().then((n) => (atStart = n));
          }, 2000);
          const figures = await hotHolds(service, db, 64, o.duration, 2);
          clearTimeout(timer);
          const after = await oldHolds();
          runs.push({ round, purging, figures, purgedDuringRun: Math.max(0, atStart - after), oldLeftAfter: after });
          o.log?.(
            `  p50 ${figures.p50_ms} ms, p99 ${figures.p99_ms} ms, ${figures.rps} req/s; old holds deleted during the run ${atStart - after}, left ${after}`,
          );
        } finally {
          await service.stop();
        }
      }
    }
    const pick = (purging: boolean) => {
      const rs = runs.filter((r) => r.purging === purging).map((r) => r.figures);
      return { p50: median(rs.map((f) => f.p50_ms)), p99: median(rs.map((f) => f.p99_ms)), rps: median(rs.map((f) => f.rps)) };
    };
    const without = pick(false);
    const during = pick(true);
    return { runs, without, during, p99Ratio: during.p99 / without.p99 };
  } finally {
    await ds.destroy();
    await db.end();
  }
}

export function purgeFailures(result: PurgeResult): string[] {
  return result.runs.flatMap((r) =>
    r.figures.checks.filter((c) => !c.ok).map((c) => `round ${r.round} ${r.purging ? 'purging' : 'without'}: ${c.name}: ${c.detail}`),
  );
}

export function purgeTable(result: PurgeResult): string {
  const lines = [
    '| round | purge | req/s | p50 ms | p99 ms | old holds deleted during the run | old holds left after | checks |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of result.runs) {
    const ok = r.figures.checks.every((c) => c.ok) ? 'pass' : 'FAIL';
    lines.push(
      `| ${r.round} | ${r.purging ? 'running' : 'none'} | ${r.figures.rps} | ${r.figures.p50_ms} | ${r.figures.p99_ms} | ${r.purging ? r.purgedDuringRun.toLocaleString('en') : '–'} | ${r.oldLeftAfter.toLocaleString('en')} | ${ok} |`,
    );
  }
  const pct = Math.round((result.p99Ratio - 1) * 100);
  lines.push(
    '',
    `Medians: without a purge p99 ${result.without.p99} ms (p50 ${result.without.p50}, ${result.without.rps} req/s); while purging p99 ${result.during.p99} ms (p50 ${result.during.p50}, ${result.during.rps} req/s); p99 ratio ${result.p99Ratio.toFixed(2)} (${pct > 0 ? '+' : ''}${pct} %).`,
  );
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const options: PurgeOptions = {
    database: process.env.PURGE_DB_NAME ?? 'flash_sale_purge',
    holds: Number(process.env.PURGE_HOLDS ?? 1_000_000),
    duration: Number(process.env.PURGE_DURATION ?? 10),
    rounds: Number(process.env.PURGE_ROUNDS ?? 2),
    log: (line) => process.stdout.write(`${line}\n`),
  };
  const result = await runPurge(options);
  const md = purgeTable(result);
  const out = join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'purge.json'), JSON.stringify({ options: { ...options, log: undefined }, ...result }, null, 2) + '\n');
  writeFileSync(join(out, 'purge.md'), md);
  process.stdout.write('\n' + md);
  const failed = purgeFailures(result);
  for (const line of failed) process.stderr.write(`FAIL ${line}\n`);
  await dropDatabase(options.database);
  process.exit(failed.length > 0 ? 1 : 0);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench:purge failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
