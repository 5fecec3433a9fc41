import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { AppConfig, DbType } from '../config/config';

/**
 * Creates the database when it is missing and tells which server speaks: TypeORM needs
 * 'mariadb' for MariaDB (its locking syntax differs from MySQL 8's). DB_TYPE overrides the probe.
 */
export async function ensureDatabase(config: AppConfig): Promise<DbType> {
  const conn = await createConnection({
    host: config.db.host,
    port: config.db.port,
    user: config.db.user,
    password: config.db.password,
    connectTimeout: config.db.connectTimeoutMs,
  });
  try {
    // DB_NAME is validated to [A-Za-z0-9_] by loadConfig, so quoting it with backticks is safe.
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${config.db.name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    if (config.db.type) return config.db.type;
    const [rows] = await conn.query('SELECT VERSION() AS version');
    const version = String((rows as Array<{ version: string }>)[0].version);
    return version.toLowerCase().includes('mariadb') ? 'mariadb' : 'mysql';
  } finally {
    await conn.end();
  }
}

/**
 * Runs pending migrations and then `seed` (the demo product), under a named lock so that several
 * instances starting together do it once.
 */
export async function migrateAndSeed(dataSource: DataSource, config: AppConfig, seed?: (dataSource: DataSource) => Promise<unknown>): Promise<void> {
  const lock = `flash_sale_migrations:${config.db.name}`;
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    // 1: taken; 0: another instance kept it for 60 s; NULL: an error. Migrating without it could
    // run one migration twice, so the start fails instead.
    const [{ taken }] = (await runner.query('SELECT GET_LOCK(?, 60) AS taken', [lock])) as Array<{ taken: number | string | null }>;
    if (Number(taken) !== 1) throw new Error(`could not take the migration lock ${lock} within 60 s (another instance is migrating?)`);
    await dataSource.runMigrations({ transaction: 'each' });
    if (seed) await seed(dataSource);
  } finally {
    await runner.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
    await runner.release();
  }
}
