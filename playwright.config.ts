/**
 * End-to-end tests in the system's Chromium (never `playwright install`).
 * The app is built and served by `vite preview` on 127.0.0.1:4173; scripts/test.sh builds first
 * and sets BRAINSYNTH_E2E_NO_BUILD=1 so the web server only previews.
 */
import { defineConfig } from '@playwright/test';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PORT = 4173;
/** Set to test an already running app (e.g. a dev server) instead of building and previewing. */
const EXTERNAL_URL = process.env.BRAINSYNTH_E2E_URL;
const preview = `npx vite preview --port ${PORT} --host 127.0.0.1 --strictPort`;

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
      executablePath: CHROMIUM,
      args: [
        '--enable-unsafe-webgpu',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: EXTERNAL_URL
    ? undefined
    : {
        command: process.env.BRAINSYNTH_E2E_NO_BUILD ? preview : `npx vite build && ${preview}`,
        url: `http://127.0.0.1:${PORT}`,
        reuseExistingServer: !process.env.CI,
        timeout: 240_000,
        stdout: 'ignore',
        stderr: 'pipe',
      },
});
