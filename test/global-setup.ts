import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Builds dist/ once per jest run, as `npm run build` does (nest build: the compiled code and the
 * pages under src/live/public): some tests start the built service as a child process.
 */
export default function globalSetup(): void {
  const root = join(__dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
}
