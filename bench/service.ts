import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createConnection, Connection } from 'mysql2/promise';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

export const DB = {
  host: process.env.DB_HOST ?? '127.0.0.1',
  port: Number(process.env.DB_PORT ?? 3306),
  user: process.env.DB_USER ?? 'root',
  password: process.env.DB_PASSWORD ?? '',
};

export interface Service {
  url: string;
  /** The service's process id (its memory and CPU time are read from /proc). */
  pid: number;
  stop: () => Promise<void>;
  /** SIGKILL, and waits for the process to be gone. */
  kill: () => Promise<void>;
  /** Whether the process is still running, and what it wrote on stderr (the last 4 KB). */
  alive: () => boolean;
  /** How it ended: `exit code N` (the process exited), `killed by SIGNAL` (a signal from outside), or `running`. */
  exit: () => string;
  stderrTail: () => string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A connection to the bench database, for the oversell checks. */
export function connectDb(database: string): Promise<Connection> {
  return createConnection({ ...DB, database, timezone: 'Z' });
}

/** Drops the bench database, so every run starts from an empty schema. */
export async function dropDatabase(database: string): Promise<void> {
  const conn = await createConnection(DB);
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await conn.end();
  }
}

export async function waitHealthy(url: string, child: ChildProcess, stderr: () => string, path = '/health'): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${stderr()}`);
    try {
      if ((await fetch(`${url}${path}`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`service did not become healthy: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts the built service (`dist/main.js`) on a free port against the bench database: holds live
 * an hour (nothing expires during a run). `node` is the runtime binary (the bench's own by default),
 * `main` the built entry point (this checkout's by default). With `logFile`, the process's stdout
 * (its JSON log lines) and stderr are appended to that file, for reading after a run.
 */
export async function startService(
  database: string,
  env: Record<string, string> = {},
  node = process.execPath,
  main = MAIN,
  logFile?: string,
): Promise<Service> {
  const port = await freePort();
  let stderr = '';
  const child = spawn(node, [main], {
    env: {
      ...process.env,
      DB_NAME: database,
      PORT: String(port),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      HOLD_TTL_SECONDS: '3600',
      SEED_PRODUCT_STOCK: '0',
      ...env,
    },
    stdio: ['ignore', logFile ? 'pipe' : 'ignore', 'pipe'],
  });
  const file = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  child.stdout?.on('data', (chunk: Buffer) => file?.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-65_536);
    file?.write(chunk);
  });
  child.once('exit', (code, signal) => file?.end(`[bench] pid ${child.pid} exited: code ${code}, signal ${signal}\n`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, child, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };
  const alive = () => child.exitCode === null && child.signalCode === null;
  const exit = () => (alive() ? 'running' : child.signalCode ? `killed by ${child.signalCode}` : `exit code ${child.exitCode}`);
  return { url, pid: child.pid as number, stop, kill, alive, exit, stderrTail: () => stderr.slice(-4096) };
}

/**
 * Creates a product straight in the database (the service has migrated it by then), so the same
 * bench also measures builds from before the admin routes existed.
 */
export async function createProduct(db: Connection, name: string, stock: number): Promise<number> {
  const now = new Date();
  const [result] = (await db.query('INSERT INTO products (name, price, stock, reserved, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)', [
    name,
    '99.00',
    stock,
    now,
    now,
  ])) as unknown as [{ insertId: number }];
  return Number(result.insertId);
}
