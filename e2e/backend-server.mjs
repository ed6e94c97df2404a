// The real full-size backend for the end-to-end run (a Playwright webServer, see
// playwright.config.ts): `.venv/bin/python -m brainsynth.server` on 127.0.0.1:<port> with a fresh
// temporary data folder, removed again when the server stops. CORS comes from the environment
// (BRAINSYNTH_CORS_ORIGINS, set by the config to the app's origin).
// A missing .venv is an error, not a skip: the run fails here with the fix in the message.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const port = process.env.BRAINSYNTH_E2E_BACKEND_PORT ?? '8765';
const python = path.resolve('.venv/bin/python');
if (!existsSync(python)) {
  console.error(
    `\ne2e: ${python} is missing, so the full-size backend cannot start.\n` +
      `  npm test creates it (scripts/test.sh), or by hand:\n` +
      `  python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'\n`,
  );
  process.exit(1);
}
const dataDir = mkdtempSync(path.join(tmpdir(), 'brainsynth-e2e-backend-'));
const args = ['-m', 'brainsynth.server', '--port', port, '--data-dir', dataDir];
const child = spawn(python, [...args, '--log-level', 'warning'], { stdio: 'inherit' });
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(code ?? (signal ? 0 : 1));
});
