import { DataSource } from 'typeorm';
import { MysqlDataSourceOptions } from 'typeorm/driver/mysql/MysqlDataSourceOptions';
import { AppConfig, DbType } from '../config/config';
import { MIGRATIONS } from './migrations';

/**
 * The one TypeORM data source definition, used by the app (TypeOrmModule, where each module
 * registers its own entities) and the CLI (ormconfig.ts, which finds them by file name).
 * `synchronize` stays off: the schema changes only through migrations.
 */
export function dataSourceOptions(config: AppConfig, type: DbType): MysqlDataSourceOptions {
  return {
    // TypeORM emits MariaDB's locking syntax only with type 'mariadb' (FOR SHARE is MySQL 8's).
    type,
    host: config.db.host,
    port: config.db.port,
    username: config.db.user,
    password: config.db.password,
    database: config.db.name,
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    bigNumberStrings: false,
    connectTimeout: config.db.connectTimeoutMs,
    poolSize: config.db.poolSize,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
    extra: {
      // Fail fast when the database is unreachable instead of queueing requests forever.
      queueLimit: config.db.poolSize * 50,
      enableKeepAlive: true,
      decimalNumbers: false,
    },
  };
}

/** Statements run on every new pooled connection: UTC, READ COMMITTED, a short lock wait. */
function sessionSetupStatements(config: AppConfig): string[] {
  return [
    "SET time_zone = '+00:00'",
    'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
    `SET SESSION innodb_lock_wait_timeout = ${config.db.lockWaitTimeoutSeconds}`,
  ];
}

interface PoolLike {
  on(event: 'connection', cb: (conn: { query(sql: string, cb: () => void): unknown }) => void): void;
  query(sql: string, cb: (err: unknown) => void): void;
}

/**
 * Applies sessionSetupStatements to every connection of the pool: to the ones created later via
 * the pool's 'connection' event, and to the one TypeORM already opened while initializing.
 */
export async function configureSessions(dataSource: DataSource, config: AppConfig): Promise<void> {
  const pool = (dataSource.driver as unknown as { pool: PoolLike }).pool;
  const statements = sessionSetupStatements(config);
  pool.on('connection', (conn) => {
    for (const sql of statements) conn.query(sql, () => undefined);
  });
  for (const sql of statements) {
    await new Promise<void>((resolve, reject) =>
      pool.query(sql, (err) => (err ? reject(err instanceof Error ? err : new Error('session setup failed')) : resolve())),
    );
  }
}
