import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resetDatabase } from './helpers/test-app';
import { seededProductId, ServiceProcess, startService, stopService } from './helpers/service-process';

const DB = 'fs_test_webhook_script';
const ROOT = join(__dirname, '..');

interface Run {
  code: number | null;
  status: number;
  answer: Record<string, unknown>;
  stderr: string;
}

/**
 * `npm run webhook -- …` as a developer types it (through npm, so the package.json script is
 * tested too). `--silent` keeps npm's banner out of stdout, which is then the script's own
 * output: `HTTP <status>` and the JSON answer.
 */
/** `env` is laid over the test's environment; a variable set to undefined is removed from it. */
function runScript(args: string[], env: Record<string, string | undefined>, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete merged[name];
    const options = { cwd: cwd ?? ROOT, env: merged };
    // From another working directory the script is run directly (npm would change to the checkout).
    const [file, argv] = cwd ? [process.execPath, [join(ROOT, 'scripts', 'webhook.mjs'), ...args]] : ['npm', ['run', '--silent', 'webhook', '--', ...args]];
    execFile(file, argv, options, (err, stdout, stderr) => {
      const [first, ...rest] = stdout.split('\n');
      const json = rest.join('\n').trim();
      resolve({
        code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
        status: Number(/^HTTP (\d{3})$/.exec(first)?.[1]),
        answer: json ? (JSON.parse(json) as Record<string, unknown>) : {},
        stderr,
      });
    });
  });
}

describe('scripts/webhook.mjs: signs and sends a payment webhook', () => {
  let service: ServiceProcess | undefined;
  let productId: number;

  // WEBHOOK_SECRET '' on both sides: the service and the script each fall back to the
  // development secret, so a success also proves the script's copy of it matches the service's.
  const DEV = { WEBHOOK_SECRET: '', NODE_ENV: 'development' };

  beforeAll(async () => {
    await resetDatabase(DB);
    service = await startService(DB, { ...DEV, SEED_PRODUCT_STOCK: '5', AVAILABILITY_CACHE_TTL_MS: '0' });
    productId = await seededProductId(service.url, 5);
  });
  afterAll(async () => {
    await stopService(service);
    await resetDatabase(DB);
  });

  async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(service!.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    return (await res.json()) as Record<string, unknown>;
  }

  it('pays an order, reports a redelivery as duplicate, and fails with 401 under a wrong secret', async () => {
    const hold = await post('/api/holds', { product_id: productId, qty: 2 });
    const order = await post('/api/orders', { hold_id: hold.id });
    const orderId = order.id as number;
    const args = ['--order', String(orderId), '--status', 'success', '--url', service!.url];

    const first = await runScript([...args, '--key', 'evt_script_1'], DEV);
    expect(first).toEqual({
      code: 0,
      status: 200,
      answer: { idempotency_key: 'evt_script_1', order_id: orderId, result: 'applied', order_status: 'paid' },
      stderr: '',
    });
    const read = await fetch(`${service!.url}/api/orders/${orderId}`);
    expect(((await read.json()) as { status: string }).status).toBe('paid');

    const again = await runScript([...args, '--key', 'evt_script_1'], DEV);
    expect(again).toMatchObject({ code: 0, status: 200, answer: { idempotency_key: 'evt_script_1', result: 'duplicate', order_status: 'paid' } });

    const wrong = await runScript(args, { WEBHOOK_SECRET: 'not-the-service-secret' });
    expect(wrong).toMatchObject({ code: 1, status: 401, answer: { error: 'invalid_signature' } });
  });

  it('reads WEBHOOK_SECRET from .env in its working directory, as the service does; the environment wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-webhook-env-'));
    try {
      const hold = await post('/api/holds', { product_id: productId, qty: 1 });
      const order = await post('/api/orders', { hold_id: hold.id });
      const args = ['--order', String(order.id), '--status', 'failure', '--url', service!.url];
      // .env holds a wrong secret: without WEBHOOK_SECRET in the environment it is used (401) ...
      writeFileSync(join(dir, '.env'), 'WEBHOOK_SECRET=from-dotenv-and-wrong\n');
      const env = { NODE_ENV: 'development', WEBHOOK_SECRET: undefined };
      const fromFile = await runScript(args, env, dir);
      expect(fromFile).toMatchObject({ code: 1, status: 401, answer: { error: 'invalid_signature' } });
      // ... and a WEBHOOK_SECRET set (empty: the development secret, as the service) wins over it.
      const fromEnv = await runScript(args, DEV, dir);
      expect(fromEnv).toMatchObject({ code: 0, status: 200, answer: { result: 'applied', order_status: 'cancelled' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without --url, posts to the service at PORT, from the environment or from .env', async () => {
    const port = new URL(service!.url).port;
    const dir = mkdtempSync(join(tmpdir(), 'fs-webhook-port-'));
    try {
      const args = ['--order', '999998', '--status', 'failure'];
      const fromEnv = await runScript([...args, '--key', 'evt_port_env'], { ...DEV, PORT: port }, dir);
      expect(fromEnv).toMatchObject({ code: 0, status: 202, answer: { idempotency_key: 'evt_port_env', result: 'deferred' } });
      writeFileSync(join(dir, '.env'), `PORT=${port}\n`);
      const fromFile = await runScript([...args, '--key', 'evt_port_file'], { ...DEV, PORT: undefined }, dir);
      expect(fromFile).toMatchObject({ code: 0, status: 202, answer: { idempotency_key: 'evt_port_file', result: 'deferred' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('generates an idempotency key when none is given', async () => {
    const run = await runScript(['--order', '999999', '--status', 'failure', '--url', service!.url], DEV);
    // No such order yet: the event is stored for later (202, still a 2xx).
    expect(run).toMatchObject({ code: 0, status: 202, answer: { order_id: 999999, result: 'deferred', order_status: null } });
    expect(run.answer.idempotency_key).toMatch(/^evt_[0-9a-f-]{36}$/);
  });

  it('refuses bad arguments, and a missing secret in production, before sending anything', async () => {
    const run = await runScript(['--order', 'abc', '--status', 'success', '--url', service!.url], DEV);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--order must be');
    // Production has no development secret: signing with it could only ever get 401.
    const prod = await runScript(['--order', '1', '--status', 'success', '--url', service!.url], { WEBHOOK_SECRET: '', NODE_ENV: 'production' });
    expect(prod.code).toBe(2);
    expect(prod.stderr).toContain('WEBHOOK_SECRET must be set');
  });
});
