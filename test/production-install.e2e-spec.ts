import { ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTestDb, resetDatabase, TEST_ENV, testDbName } from './helpers/test-app';
import { freePort } from './helpers/service-process';

const ROOT = join(__dirname, '..');
const DB_SERVICE = 'fs_test_prod_install';
const DB_SEED = 'fs_test_prod_seed';
const STOCK = '37';

/** The flags of a package-lock.json entry that say which installs include it. */
interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
}

/**
 * The environment of a command run in the production directory: production settings, and none of
 * the `npm_*` variables (config, package metadata of this checkout) that the npm running jest
 * (`npm test`, `npx jest`) exports, so the inner npm sees what a deploy would see.
 */
function prodEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return { ...env, ...TEST_ENV, NODE_ENV: 'production', WEBHOOK_SECRET: 'prod-install-secret', SEED_PRODUCT_STOCK: STOCK, ...extra };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve(),
    );
  });
}

/**
 * What the Docker image's runtime stage does, without Docker: package.json, the lock file and the
 * built dist/ only, production dependencies only, then start and seed from there. A runtime import
 * of a dev dependency, or a script that needs one, fails here and not in production.
 */
describe('production install: dist/ with production dependencies only', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    await resetDatabase(DB_SERVICE);
    await resetDatabase(DB_SEED);
    dir = mkdtempSync(join(tmpdir(), 'fs-prod-'));
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    cpSync(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    // The Dockerfile's install. --omit=optional as well: typescript and ts-node (optional peers of
    // typeorm) and @nestjs/platform-express (of @nestjs/core) are "devOptional" in the lock, which
    // --omit=dev alone still installs. --prefer-offline: the npm cache has them from our own install.
    await run('npm', ['ci', '--omit=dev', '--omit=optional', '--no-audit', '--no-fund', '--prefer-offline'], dir, prodEnv({}));
  }, 300_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await resetDatabase(DB_SERVICE);
    await resetDatabase(DB_SEED);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs exactly the production packages of the lock file, and brings its own Node 24', async () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const entries = Object.entries(lock.packages).filter(([path]) => path !== '');
    // --omit=optional drops optional-only production packages too; there must be none for it to be safe.
    expect(entries.filter(([, e]) => e.optional && !e.dev && !e.devOptional).map(([path]) => path)).toEqual([]);
    const misplaced = entries
      .map(([path, e]) => ({ path, dev: Boolean(e.dev || e.devOptional), present: existsSync(join(dir, path)) }))
      .filter(({ dev, present }) => dev === present);
    expect(misplaced).toEqual([]);
    for (const dev of ['typescript', 'ts-node', 'jest', '@nestjs/platform-express']) expect(existsSync(join(dir, 'node_modules', dev))).toBe(false);
    const version = await new Promise<string>((resolve, reject) =>
      execFile(join(dir, 'node_modules', '.bin', 'node'), ['--version'], (err, out) => (err ? reject(new Error(err.message)) : resolve(out.trim()))),
    );
    expect(version).toMatch(/^v24\./);
  });

  it('starts on an empty database, seeds the demo product, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let stderr = '';
    child = spawn(join(dir, 'node_modules', '.bin', 'node'), ['dist/main.js'], {
      cwd: dir,
      env: prodEnv({ DB_NAME: testDbName(DB_SERVICE), PORT: String(port) }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${stderr}`);
      const status = await fetch(`${url}/health`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      if (Date.now() > deadline) throw new Error(`service did not become healthy: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const res = await fetch(`${url}/api/products/1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 1, name: 'Limited sneaker', price: '99.00', stock: Number(STOCK), available: Number(STOCK), max_per_buyer: null });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('`npm run seed` migrates and seeds an empty database without dev dependencies', async () => {
    await run('npm', ['run', 'seed'], dir, prodEnv({ DB_NAME: testDbName(DB_SEED) }));
    const db = await connectTestDb(DB_SEED);
    try {
      const [rows] = await db.query('SELECT id, name, stock, reserved FROM products');
      expect(rows).toEqual([{ id: 1, name: 'Limited sneaker', stock: Number(STOCK), reserved: 0 }]);
    } finally {
      await db.end();
    }
  }, 60_000);
});
