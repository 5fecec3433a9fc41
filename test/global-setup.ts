import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Builds dist/ once per jest run: some tests start the built service as a child process. */
export default function globalSetup(): void {
  const root = join(__dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
}
