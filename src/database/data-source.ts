import { Logger } from '@nestjs/common';
import { DataSource, Logger as TypeOrmLogger } from 'typeorm';
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

/**
 * What the app's pool adds to dataSourceOptions: every statement waits at most DB_QUERY_TIMEOUT_MS
 * for its answer (TypeORM hands mysql2 a per-query `timeout`). mysql2 then fails the query with
 * PROTOCOL_SEQUENCE_TIMEOUT (a connection error: 503) but keeps the connection, whose command stays
 * stuck and whose bytes may still arrive; configureSessions throws such a connection away.
 * Only the app's pool: migrations (app.factory.ts's migrator, `npm run seed`, the CLI) run on data
 * sources built from dataSourceOptions alone, unbounded, since a backfill may run for minutes.
 */
export function queryTimeoutOptions(config: AppConfig): Pick<MysqlDataSourceOptions, 'enableQueryTimeout' | 'maxQueryExecutionTime' | 'logger'> {
  return {
    enableQueryTimeout: true,
    maxQueryExecutionTime: config.db.queryTimeoutMs,
    // maxQueryExecutionTime also makes TypeORM's default logger print every statement that took
    // longer (SQL and parameters, in plain text on stdout, whatever `logging` says), which would
    // break the JSON log stream; the timeout is logged as `db.query_timeout` instead.
    logger: SILENT_TYPEORM_LOGGER,
  };
}

const SILENT_TYPEORM_LOGGER: TypeOrmLogger = {
  logQuery: () => undefined,
  logQueryError: () => undefined,
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};

/** Statements run on every new pooled connection: UTC, READ COMMITTED, a short lock wait. */
function sessionSetupStatements(config: AppConfig): string[] {
  return [
    "SET time_zone = '+00:00'",
    'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
    `SET SESSION innodb_lock_wait_timeout = ${config.db.lockWaitTimeoutSeconds}`,
  ];
}

interface PooledConnection {
  query(options: { sql: string; timeout: number }, cb: (err: unknown, rows?: unknown) => void): unknown;
  /** mysql2's internals that discardOnQueryTimeout relies on (mysql2 3.x). */
  addCommand(cmd: { timeout?: number; onResult?: (err: unknown, ...rest: unknown[]) => unknown }): unknown;
  _removeFromPool(): void;
  stream: { destroy(): void };
}

type GetConnectionCallback = (err: unknown, conn?: { release(): void }) => void;

interface PoolLike {
  on(event: 'connection', cb: (conn: PooledConnection) => void): void;
  query(sql: string, cb: (err: unknown, rows?: unknown) => void): void;
  getConnection(cb: GetConnectionCallback): void;
  /** mysql2's own state: what bounds the wait below looks at to know a request will queue. */
  _freeConnections: { length: number };
  _allConnections: { length: number; get(i: number): PooledConnection };
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
  const timeoutMs = config.db.queryTimeoutMs;
  // The connection TypeORM opened while initializing is already in the pool.
  for (let i = 0; i < pool._allConnections.length; i++) discardOnQueryTimeout(pool._allConnections.get(i), timeoutMs);
  pool.on('connection', (conn) => {
    discardOnQueryTimeout(conn, timeoutMs);
    for (const sql of statements) {
      // Bounded too: the request's first statement waits behind these.
      conn.query({ sql, timeout: timeoutMs }, (err) => {
        if (!err) return;
        logger.error({ msg: 'db.session_setup_failed', statement: sql, err: err instanceof Error ? err.message : 'unknown error' });
        discard(conn);
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
 * A statement that got no answer within its `timeout` (mysql2 fails it with
 * PROTOCOL_SEQUENCE_TIMEOUT) leaves its connection unusable: mysql2 keeps it open with the
 * statement still its current command, so the next statement sent on it would queue behind it
 * with no timer of its own (it starts only when the command does) and hang for as long as the
 * database does not answer (and the bytes the stall swallowed leave the session unknown).
 * So such a connection is thrown away before the failure reaches TypeORM: out of the pool at once
 * (the rollback and release that follow do not return it), its socket closed at once (a
 * network that drops packets would never complete a graceful close), which fails any statement
 * queued on it with PROTOCOL_CONNECTION_LOST and lets the server roll back its transaction.
 * The pool opens a new connection for the next request.
 */
function discardOnQueryTimeout(conn: PooledConnection, timeoutMs: number): void {
  const addCommand = conn.addCommand.bind(conn);
  conn.addCommand = (cmd) => {
    const onResult = cmd.onResult;
    if (cmd.timeout && onResult) {
      cmd.onResult = (err, ...rest) => {
        if ((err as { code?: string } | null)?.code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
          logger.warn({ msg: 'db.query_timeout', timeout_ms: timeoutMs });
          discard(conn);
        }
        return onResult(err, ...rest);
      };
    }
    return addCommand(cmd);
  };
}

function discard(conn: PooledConnection): void {
  conn._removeFromPool();
  conn.stream.destroy();
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
