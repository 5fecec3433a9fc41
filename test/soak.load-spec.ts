import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { testDbName } from './helpers/test-app';

const ROOT = join(__dirname, '..');
const MINUTES = 2;

/**
 * The soak (`npm run soak`, bench/soak.ts) for two minutes, as CI can afford: two built instances
 * over one database and Redis, buyers holding, ordering, abandoning and paying through signed
 * webhooks (duplicated, late, out of order, failures) with Idempotency-Key retries, an instance
 * SIGKILLed and restarted twice, the database cut off for ten seconds. It exits 0 only when every
 * 201 the clients got is in the database as told, nothing was granted twice and the audit is clean.
 */
describe('the soak, two minutes', () => {
  it(
    'passes: the clients were told only what the database holds, and the audit is clean',
    async () => {
      const child = spawn(
        process.execPath,
        [join(ROOT, 'node_modules/ts-node/dist/bin.js'), '--transpile-only', 'bench/soak.ts', '--minutes', String(MINUTES)],
        {
          cwd: ROOT,
          env: { ...process.env, SOAK_DB_NAME: testDbName('fs_test_soak') },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      process.stdout.write(out);
      expect({ code, out }).toMatchObject({ code: 0, out: expect.stringContaining('soak: PASS') });
      expect(out).toMatch(/audit: exit 0; audit of \w+: \d+ products, [1-9]\d* orders, 0 discrepancies/);
      expect(out).toMatch(/instance b killed \(SIGKILL, pid \d+\)/);
      expect(out).toMatch(/database back/);
    },
    (MINUTES + 4) * 60_000,
  );
});
