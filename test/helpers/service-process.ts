import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_PRODUCT_NAME } from '../../src/product/product.seeder';
import { TEST_ENV, testDbName } from './test-app';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

/**
 * The working directory of the services the tests start: an empty one, so that a developer's own
 * `.env` in the checkout (which the service reads from its working directory) never reaches them.
 */
export const SERVICE_CWD = mkdtempSync(join(tmpdir(), 'fs-service-'));

/** A free TCP port on loopback, found by letting the kernel pick one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * How long a start may take before the test gives up on it. A start is about 2 s on an idle
 * machine and took 9 s next to other test files and a busy CPU; tests that start services set
 * their own jest timeouts from this.
 */
export const STARTUP_TIMEOUT_MS = 60_000;

/**
 * Starts the built service (`dist/main.js`, built by the jest global setup) as a child process on
 * a free port and waits until /health answers 200.
 */
export async function startService(dbName: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const port = await freePort();
  let stderr = '';
  const child = spawn(process.execPath, [MAIN], {
    cwd: SERVICE_CWD,
    env: { ...process.env, ...TEST_ENV, DB_NAME: testDbName(dbName), PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const service = { child, port, url: `http://127.0.0.1:${port}`, stderr: () => stderr, exited };
  await waitHealthy(service);
  return service;
}

/** Waits until the service answers /health with 200 (STARTUP_TIMEOUT_MS at most; it is killed if it never does). */
export async function waitHealthy(service: ServiceProcess): Promise<void> {
  const started = Date.now();
  let last: string | undefined;
  for (;;) {
    if (service.child.exitCode !== null) throw new Error(`service exited with ${service.child.exitCode}: ${service.stderr()}`);
    try {
      const res = await fetch(`${service.url}/health`);
      if (res.status === 200) return;
      last = `GET /health answered ${res.status}`;
    } catch (err) {
      last = `GET /health failed: ${err instanceof Error ? err.message : String(err)}`; // not listening yet
    }
    if (Date.now() - started > STARTUP_TIMEOUT_MS) {
      service.child.kill('SIGKILL');
      throw new Error(`service did not become healthy within ${STARTUP_TIMEOUT_MS} ms (last: ${last ?? 'no answer yet'}); stderr: ${service.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The id of the demo product a fresh service seeds on its first start (SEED_PRODUCT_STOCK units),
 * asked of the service instead of assumed to be 1. The database must hold that product only.
 */
export async function seededProductId(url: string, stock: number): Promise<number> {
  const res = await fetch(`${url}/api/products`);
  const body = (await res.json()) as { data?: Array<{ id: number; name: string; stock: number }> };
  const products = body.data ?? [];
  if (res.status !== 200 || products.length !== 1 || products[0].name !== DEMO_PRODUCT_NAME || products[0].stock !== stock) {
    throw new Error(`expected the seeded demo product alone, with stock ${stock}; GET /api/products said ${res.status} ${JSON.stringify(body)}`);
  }
  return products[0].id;
}

/** Kills the process (SIGKILL unless told otherwise) and waits for it to be gone. */
export async function stopService(service: ServiceProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!service || service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill(signal);
  await service.exited;
}
