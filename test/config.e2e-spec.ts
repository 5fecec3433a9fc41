import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, SERVICE_CWD, stopService, waitHealthy } from './helpers/service-process';
import { resetDatabase, TEST_ENV, testDbName } from './helpers/test-app';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

/** Starts the built service with `env` and waits for it to exit (it must, on a bad value). */
function start(env: Record<string, string>, cwd?: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    let stderr = '';
    const base = { ...process.env, DB_NAME: 'fs_test_config_never_created', PORT: '39999', LOG_LEVEL: 'silent' };
    const child = spawn(process.execPath, [MAIN], { cwd: cwd ?? SERVICE_CWD, env: { ...base, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const CASES: Array<[string, string]> = [
  ['PORT', 'abc'],
  ['PORT', '70000'],
  ['DB_PORT', '0'],
  ['DB_NAME', 'bad-name;'],
  ['DB_TYPE', 'postgres'],
  ['DB_POOL_SIZE', '1'],
  ['DB_LOCK_WAIT_TIMEOUT_SECONDS', 'x'],
  ['DB_CONNECT_TIMEOUT_MS', '5'],
  ['DB_QUERY_TIMEOUT_MS', '5000'],
  ['REDIS_URL', 'ftp://cache'],
  ['HOLD_TTL_SECONDS', 'abc'],
  ['HOLD_TTL_SECONDS', '0'],
  ['HOLD_SWEEP_INTERVAL_SECONDS', '3601'],
  ['AVAILABILITY_CACHE_TTL_MS', '60001'],
  ['AVAILABILITY_CACHE_TTL_MS', '-1'],
  ['MAX_HOLD_QTY', '0'],
  ['MAX_HOLD_QTY', '1.5'],
  ['STOCK_LOCK_WAIT_LOG_MS', 'soon'],
  ['SEED_PRODUCT_STOCK', '-1'],
  ['SEED_PRODUCT_STOCK', '1000000001'],
  ['SEED_PRODUCT_PRICE', '99'],
  ['LOG_LEVEL', 'loud'],
];

describe('configuration: a bad value stops the start with exit code 1 and one line naming it', () => {
  it.each(CASES)('%s=%s', async (name, value) => {
    const { code, stderr } = await start({ [name]: value });
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
    expect(lines[0]).toContain(value);
  });

  // A value quoted in .env ("12\n34") or set by a script can hold a line break: the line must
  // still be one line, the value shown escaped.
  it.each([
    ['HOLD_TTL_SECONDS', '12\n34', '"12\\n34"'],
    ['LOG_LEVEL', 'info\n', '"info\\n"'],
    ['DB_NAME', 'shop\r\nx', '"shop\\r\\nx"'],
    ['SEED_PRODUCT_PRICE', '\n', '"\\n"'],
    ['REDIS_URL', 'redis://cache\n', '"redis://cache\\n"'],
  ])('%s with a line break in its value: still one line, the value escaped', async (name, value, shown) => {
    const { code, stderr } = await start({ [name]: value });
    expect(code).toBe(1);
    expect(stderr.endsWith('\n')).toBe(true);
    const lines = stderr.slice(0, -1).split(/\r|\n/);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^Invalid configuration: ${name} `))]);
    expect(lines[0]).toContain(`got ${shown}`);
  });

  it('an ADMIN_TOKEN no client could send (a trailing space) refuses to start, in one line that does not show it', async () => {
    const { code, stderr } = await start({ ADMIN_TOKEN: 'secret-admin-token ' });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Invalid configuration: ADMIN_TOKEN /)]);
    expect(stderr).not.toContain('secret-admin-token');
  });

  it('NODE_ENV=production without WEBHOOK_SECRET refuses to start and says why', async () => {
    const { code, stderr } = await start({ NODE_ENV: 'production', WEBHOOK_SECRET: '' });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('WEBHOOK_SECRET')]);
  });
});

describe('configuration from a .env file (@nestjs/config)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-dotenv-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a bad value in .env stops the start the same way: exit 1, one line naming it', async () => {
    writeFileSync(join(dir, '.env'), 'HOLD_TTL_SECONDS=forever\n');
    const { code, stderr } = await start({}, dir);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/HOLD_TTL_SECONDS.*forever/)]);
  });

  it('.env in the working directory is read, and a variable set in the environment wins over it', async () => {
    const db = 'fs_test_config_dotenv';
    await resetDatabase(db);
    const port = await freePort();
    writeFileSync(join(dir, '.env'), [`PORT=${port}`, `DB_NAME=${testDbName(db)}`, 'SEED_PRODUCT_STOCK=41', 'SEED_PRODUCT_PRICE=12.34', ''].join('\n'));
    // The environment names SEED_PRODUCT_STOCK too (it wins) and leaves PORT, DB_NAME and the price to .env.
    const env: Record<string, string | undefined> = { ...process.env, ...TEST_ENV, SEED_PRODUCT_STOCK: '42' };
    for (const name of ['PORT', 'DB_NAME', 'SEED_PRODUCT_PRICE']) delete env[name];
    const child = spawn(process.execPath, [MAIN], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const service = { child, port, url: `http://127.0.0.1:${port}`, stderr: () => stderr, exited };
    try {
      await waitHealthy(service);
      const product = (await (await fetch(`${service.url}/api/products/1`)).json()) as Record<string, unknown>;
      expect(product).toMatchObject({ id: 1, stock: 42, price: '12.34' });
    } finally {
      await stopService(service, 'SIGTERM');
      await resetDatabase(db);
    }
  });

  it('.env.example lists every variable the service reads', () => {
    const example = readFileSync(join(__dirname, '..', '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]));
    const source = readFileSync(join(__dirname, '..', 'src', 'config', 'config.ts'), 'utf8');
    const read = new Set([...source.matchAll(/(?:Var|oneOf)\(env, '([A-Z_]+)'|env\.([A-Z_]+)/g)].map((m) => m[1] ?? m[2]));
    expect(read.size).toBeGreaterThan(15);
    expect([...read].filter((name) => !listed.has(name))).toEqual([]);
  });
});
