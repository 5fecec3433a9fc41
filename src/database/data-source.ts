import { Logger } from '@nestjs/common';
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

interface PooledConnection {
  query(sql: string, cb: (err: unknown, rows?: unknown) => void): unknown;
  destroy(): void;
}

type GetConnectionCallback = (err: unknown, conn?: { release(): void }) => void;

interface PoolLike {
  on(event: 'connection', cb: (conn: PooledConnection) => void): void;
  query(sql: string, cb: (err: unknown, rows?: unknown) => void): void;
  getConnection(cb: GetConnectionCallback): void;
  /** mysql2's own state: what bounds the wait below looks at to know a request will queue. */
  _freeConnections: { length: number };
  _allConnections: { length: number };
  config: { connectionLimit: number };
}

const logger = new Logger('db');

/**
 * Applies sessionSetupStatements to every connection of the pool: to the ones created later via
 * the pool's 'connection' event, and to the one TypeORM already opened while initializing.
 *
 * The safety argument of every locking read relies on READ COMMITTED, so this fails loudly: a new
 * connection whose set-up fails is destroyed (the statements queued on it fail, the request
 * answers 503, and the pool opens another), and the start fails unless the session reads back
 * READ-COMMITTED. mysql2 has no per-connection init option and TypeORM no isolation option for
 * the pool, hence the pool's own 'connection' event (setting the level per transaction would
 * cost every transaction one more round trip).
 */
export async function configureSessions(dataSource: DataSource, config: AppConfig): Promise<void> {
  const pool = (dataSource.driver as unknown as { pool: PoolLike }).pool;
  boundPoolWait(pool, config.db.connectTimeoutMs);
  const statements = sessionSetupStatements(config);
  pool.on('connection', (conn) => {
    for (const sql of statements) {
      conn.query(sql, (err) => {
        if (!err) return;
        logger.error({ msg: 'db.session_setup_failed', statement: sql, err: err instanceof Error ? err.message : 'unknown error' });
        conn.destroy();
      });
    }
  });
  const run = (sql: string) =>
    new Promise<unknown>((resolve, reject) =>
      pool.query(sql, (err, rows) => (err ? reject(err instanceof Error ? err : new Error('session setup failed')) : resolve(rows))),
    );
  for (const sql of statements) await run(sql);
  // MySQL 8 names the variable transaction_isolation; MariaDB before 11.1 only tx_isolation.
  const level = (await run('SELECT @@SESSION.transaction_isolation AS level').catch(() => run('SELECT @@SESSION.tx_isolation AS level'))) as Array<{
    level: string;
  }>;
  if (level[0]?.level !== 'READ-COMMITTED') {
    throw new Error(`database sessions must run READ COMMITTED, but run ${level[0]?.level ?? 'an unknown level'}`);
  }
}

/**
 * A request that finds every pooled connection taken waits at most `timeoutMs` (DB_CONNECT_TIMEOUT_MS)
 * for one, then fails with a connection error (503). mysql2 hands a freed or failed slot to one
 * waiter at a time, so while the database cannot be reached and each new connection takes the
 * whole timeout to fail, the waiters would otherwise be answered DB_POOL_SIZE per timeout, the
 * last of DB_POOL_SIZE × 50 after about 50 timeouts. A waiter that gave up stays in mysql2's queue;
 * the connection it is handed later is released at once. No timer when a connection is free or
 * can be opened at once (the usual case).
 */
function boundPoolWait(pool: PoolLike, timeoutMs: number): void {
  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = (cb: GetConnectionCallback): void => {
    if (pool._freeConnections.length > 0 || pool._allConnections.length < pool.config.connectionLimit) {
      getConnection(cb);
      return;
    }
    let gaveUp = false;
    const timer = setTimeout(() => {
      gaveUp = true;
      cb(Object.assign(new Error(`No connection became free within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    getConnection((err, conn) => {
      if (!gaveUp) {
        clearTimeout(timer);
        cb(err, conn);
      } else if (!err && conn) {
        conn.release();
      }
    });
  };
}
