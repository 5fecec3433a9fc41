import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execSync, spawn } from 'node:child_process';
import { sign } from 'jsonwebtoken';
import { holdLoad } from './fairness';
import { connectDb, createProduct, dropDatabase, startService } from './service';
const SECRET = 'bench-buyer-secret-0123456789abcdef';
const variant = process.argv[2] ?? 'on';
const env: Record<string, string> = { REDIS_URL: 'redis://127.0.0.1:6379', LOG_LEVEL: process.env.LL ?? 'info' };
if (variant !== 'off') Object.assign(env, { BUYER_AUTH: 'jwt', BUYER_JWT_SECRET: SECRET });
if (variant === 'on') Object.assign(env, { RATE_LIMIT_HOLDS_PER_MINUTE: '60', RATE_LIMIT_READS_PER_MINUTE: '1200' });
async function main() {
  const run = Date.now().toString(36);
  const auth = Array.from({ length: 50000 }, (_, i) => `Bearer ${sign({ sub: `b-${run}-${i}` }, SECRET, { algorithm: 'HS256', expiresIn: 3600 })}`);
  const DB = 'flash_sale_fprof';
  await dropDatabase(DB);
  const dir = mkdtempSync('/tmp/fp/p-');
  const s = await startService(DB, { ...env, DB_POOL_SIZE: '20', NODE_OPTIONS: process.env.NOPROF ? '' : process.env.PERF ? '--perf-basic-prof-only-functions' : `--cpu-prof --cpu-prof-dir=${dir}` });
  if (process.env.PIN) execSync(`taskset -a -cp 0 ${s.pid}`);
  const db = await connectDb(DB);
  const pid = await createProduct(db, 'p', 1_000_000_000);
  await db.query('UPDATE products SET max_per_buyer = 10 WHERE id = ?', [pid]);
  let n = 0;
  n += (await holdLoad(s.url, pid, auth, 25000, { connections: 64, amount: 5000 })).requests.total;
  const st = async () => Object.fromEntries(((await db.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_commit','Questions','Handler_read_key','Handler_read_next','Innodb_rows_read')")) as any)[0].map((r: any) => [r.Variable_name, Number(r.Value)]));
  const st0 = await st();
  const perf = process.env.PERF ? spawn('perf', ['record', '-F', '2000', '-g', '-o', process.env.PERF, '-p', String(s.pid)], { stdio: 'ignore' }) : undefined;
  const r = await holdLoad(s.url, pid, auth, 0, { connections: 64, amount: 20000 });
  if (perf) { perf.kill('SIGINT'); await new Promise((res) => perf.once('exit', res)); }
  n += r.requests.total;
  { const st1 = await st(); console.log('per hold', JSON.stringify(Object.fromEntries(Object.keys(st0).map((k) => [k, ((st1[k] - st0[k]) / 20000).toFixed(2)])))); }
  console.log('codes', JSON.stringify(r.statusCodeStats));
  await db.end(); await s.stop();
  if (process.env.PERF || process.env.NOPROF) { console.log(variant, 'requests', n); return; }
  const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!);
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map<number, any>(p.nodes.map((x: any) => [x.id, x]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const nd = byId.get(p.samples[i]); const cf = nd.callFrame;
    if (cf.functionName === '(idle)') continue;
    const k = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, 'dist/')}:${cf.lineNumber}`;
    self.set(k, (self.get(k) ?? 0) + p.timeDeltas[i]); total += p.timeDeltas[i];
  }
  console.log(variant, 'requests', n, 'busy µs/req', (total / n).toFixed(1), 'file', file);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 40))) console.log((v / n).toFixed(2).padStart(7), k);
}
main().catch((e) => { console.error(e); process.exit(1); });
