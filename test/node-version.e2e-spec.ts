import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SERVICE_CWD } from './helpers/service-process';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

/**
 * Runs the built service as `node dist/main.js` would on an older Node: the same binary, with
 * process.versions.node reporting `version` before the entry point loads.
 */
function startAs(version: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    let stderr = '';
    const script = `Object.defineProperty(process.versions, 'node', { value: ${JSON.stringify(version)} }); require(${JSON.stringify(MAIN)});`;
    const env = { ...process.env, DB_NAME: 'fs_test_node_version_never_created', PORT: '39998', LOG_LEVEL: 'silent' };
    const child = spawn(process.execPath, ['-e', script], { cwd: SERVICE_CWD, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('the runtime: Node 24 or later', () => {
  it('the tests themselves run on Node 24 or later (the project brings it through npm)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('dist/main.js on Node 20 stops at once with one line saying which Node it needs and how to start it', async () => {
    const { code, stderr } = await startAs('20.20.2');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/needs Node 24 or later, and this is Node 20\.20\.2.*npm start/)]);
  });
});
