import { createConnection } from 'mysql2/promise';
import { ConfigError, loadConfig } from '../config/config';
import { audit } from './audit';

/**
 * `npm run audit`: checks the database the DB_* variables name (as the service reads them: DB_HOST,
 * DB_PORT, DB_USER, DB_PASSWORD, DB_NAME, from the environment and `.env`), live or offline. Prints
 * one line per discrepancy on stdout and a summary on stderr; exits 0 when clean, 1 with
 * discrepancies, 2 when it could not run.
 */
async function main(): Promise<number> {
  // Like the service (and `npm run seed`, `npm run webhook`), `.env` in the working directory is
  // read when there is one, a variable set in the environment winning over it: an operator whose
  // DB_* are kept there audits the service's database, not the default one.
  try {
    process.loadEnvFile('.env');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('DB_')));
  const { db: config } = loadConfig(env);
  const started = Date.now();
  const db = await createConnection({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.name,
    connectTimeout: config.connectTimeoutMs,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  try {
    const result = await audit(db);
    for (const line of result.problems) process.stdout.write(`${line}\n`);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(
      `audit of ${config.name}: ${result.products} products, ${result.orders} orders, ${result.problems.length} discrepancies, ${seconds} s\n`,
    );
    return result.problems.length === 0 ? 0 : 1;
  } finally {
    await db.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`audit failed: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
