import { spawn } from 'node:child_process';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

/** Starts the built service with `env` and waits for it to exit (it must, on a bad value). */
function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    let stderr = '';
    const base = { ...process.env, DB_NAME: 'fs_test_config_never_created', PORT: '39999', LOG_LEVEL: 'silent' };
    const child = spawn(process.execPath, [MAIN], { env: { ...base, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
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

  it('NODE_ENV=production without WEBHOOK_SECRET refuses to start and says why', async () => {
    const { code, stderr } = await start({ NODE_ENV: 'production', WEBHOOK_SECRET: '' });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('WEBHOOK_SECRET')]);
  });
});
