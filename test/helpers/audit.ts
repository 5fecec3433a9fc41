import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { TEST_ENV, testDbName } from './test-app';

const AUDIT = join(__dirname, '..', '..', 'dist', 'audit', 'main.js');

export interface AuditRun {
  code: number | null;
  /** One line per discrepancy (stdout). */
  lines: string[];
  stderr: string;
}

/**
 * Runs `npm run audit`'s built command (dist/audit/main.js, built by the jest global setup) as a
 * child process against a test database, as an operator would: DB_* in the environment.
 * `exact` names the database as is (a copy); otherwise it is the test file's database name.
 * `dbName: null` leaves DB_NAME out of the environment; `cwd` is the working directory.
 */
export function runAudit(dbName: string | null, options: { exact?: boolean; cwd?: string } = {}): Promise<AuditRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DB_HOST: TEST_ENV.DB_HOST,
    DB_PORT: TEST_ENV.DB_PORT,
    DB_USER: TEST_ENV.DB_USER,
    DB_PASSWORD: TEST_ENV.DB_PASSWORD,
  };
  if (dbName !== null) env.DB_NAME = options.exact ? dbName : testDbName(dbName);
  return new Promise((resolve) => {
    execFile(process.execPath, [AUDIT], { env, cwd: options.cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, lines: stdout.split('\n').filter((l) => l.trim() !== ''), stderr });
    });
  });
}
