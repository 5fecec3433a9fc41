import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAudit } from './helpers/audit';
import { createConnection } from 'mysql2/promise';
import { TEST_ENV, testDbName } from './helpers/test-app';

/**
 * The audit on what the e2e suites leave behind: it runs after the main run (`npm test` runs the
 * load tests afterwards), on every database the suites made, and must find nothing, except in the
 * suites below, which write rows behind the service's back on purpose, so the audit rightly reports
 * what they did.
 */
const WRITE_BEHIND_THE_SERVICE: Record<string, string> = {
  fs_test_admin: 'sets stock next to 2^53 with SQL to test the restock overflow',
  fs_test_cache_redis_gone: "sets reserved with SQL: another writer's change the cache must show",
  fs_test_cache_redis_hung: "sets reserved with SQL: another writer's change the cache must show",
  fs_test_cache_memory: "sets reserved with SQL: another writer's change the cache must show",
  fs_test_cache_redis: "sets reserved with SQL: another writer's change the cache must show",
  fs_test_cache_redis_down: "sets reserved with SQL: another writer's change the cache must show",
  fs_test_idempotency: 'adds stock with SQL to show a stored refusal is replayed after stock came back',
  fs_test_growth: 'makes paid orders with the factories, without their payment events',
  fs_test_lapse_rule: 'makes paid orders with the factories, without their payment events',
  fs_test_listings: 'makes paid orders with the factories, without their payment events',
  fs_test_retention: 'makes paid orders with the factories, without their payment events',
  fs_test_retention_multi: 'makes paid orders with the factories, without their payment events',
};

/** The databases the e2e suites name (`'fs_test_…'` in their sources). */
function suiteDatabases(): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.e2e-spec.ts'))) {
    for (const m of readFileSync(join(__dirname, file), 'utf8').matchAll(/'(fs_test_[a-z0-9_]+)'/g)) names.add(m[1]);
  }
  return [...names].sort();
}

describe('the audit on the databases the e2e suites leave behind', () => {
  it('is clean on every one a suite filled through the service', async () => {
    const admin = await createConnection({ host: TEST_ENV.DB_HOST, port: Number(TEST_ENV.DB_PORT), user: TEST_ENV.DB_USER, password: TEST_ENV.DB_PASSWORD });
    let present: Set<string>;
    try {
      const [rows] = (await admin.query('SHOW DATABASES')) as unknown as [Array<{ Database: string }>];
      present = new Set(rows.map((r) => r.Database));
    } finally {
      await admin.end();
    }
    const audited: string[] = [];
    const findings: string[] = [];
    for (const base of suiteDatabases()) {
      if (WRITE_BEHIND_THE_SERVICE[base] || !present.has(testDbName(base))) continue;
      const run = await runAudit(base);
      audited.push(base);
      if (run.code !== 0) findings.push(`${base} (exit ${run.code}): ${[...run.lines.slice(0, 3), run.stderr.trim()].join(' | ')}`);
    }
    expect(findings).toEqual([]);
    // The main run made them: most suites' databases are there to audit.
    expect(audited.length).toBeGreaterThanOrEqual(25);
  }, 300_000);
});
