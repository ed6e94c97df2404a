/**
 * End-to-end tests in the system's Chromium (never `playwright install`).
 * The app is built and served by `vite preview` on 127.0.0.1:4173; scripts/test.sh builds first
 * and sets BRAINSYNTH_E2E_NO_BUILD=1 so the web server only previews.
 * The full-size backend (`.venv/bin/python -m brainsynth.server`) runs on 127.0.0.1:8765 with a
 * fresh temporary data folder and CORS for the app's origin (e2e/backend-server.mjs); without
 * .venv the run fails with a message saying how to create it.
 */
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './e2e/chromium';

const PORT = 4173;
/** Set to test an already running app (e.g. a dev server) instead of building and previewing. */
const EXTERNAL_URL = process.env.BRAINSYNTH_E2E_URL;
const preview = `npx vite preview --port ${PORT} --host 127.0.0.1 --strictPort`;
/** The real full-size backend (e2e/full-size.spec.ts reads the same variable). */
const BACKEND_PORT = process.env.BRAINSYNTH_E2E_BACKEND_PORT ?? '8765';
const APP_ORIGIN = new URL(EXTERNAL_URL ?? `http://127.0.0.1:${PORT}`).origin;

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  timeout: 240_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1, // 2 cores: the page's sampler and software rendering need them
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  use: {
    baseURL: EXTERNAL_URL ?? `http://127.0.0.1:${PORT}`,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: [
    ...(EXTERNAL_URL
      ? []
      : [
          {
            command: process.env.BRAINSYNTH_E2E_NO_BUILD ? preview : `npx vite build && ${preview}`,
            url: `http://127.0.0.1:${PORT}`,
            reuseExistingServer: !process.env.CI,
            timeout: 240_000,
            stdout: 'ignore' as const,
            stderr: 'pipe' as const,
          },
        ]),
    {
      name: 'backend',
      command: 'node e2e/backend-server.mjs',
      url: `http://127.0.0.1:${BACKEND_PORT}/api/v1/health`,
      reuseExistingServer: false, // always a fresh backend with an empty data folder
      timeout: 60_000,
      stdout: 'ignore' as const,
      stderr: 'pipe' as const,
      gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 10_000 },
      env: {
        BRAINSYNTH_E2E_BACKEND_PORT: BACKEND_PORT,
        BRAINSYNTH_CORS_ORIGINS: APP_ORIGIN,
      },
    },
  ],
});
