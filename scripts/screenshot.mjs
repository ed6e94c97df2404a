// Takes docs/screenshot.png with headless Chromium: builds the app, serves it with
// `vite preview`, opens a representative view and saves the page.
// Usage: npm run screenshot [-- "<query string>"]
import { spawn, execSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.ts';

const query = process.argv[2] ?? '?age=72&sex=female&pathology=glioma&seed=11&backend=wasm';
const port = 4174;
const out = 'docs/screenshot.png';

execSync('npx vite build', { stdio: 'inherit' });
const server = spawn(
  'npx',
  ['vite', 'preview', '--port', String(port), '--host', '127.0.0.1', '--strictPort'],
  {
    stdio: 'ignore',
    detached: true,
  },
);
try {
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 60; i++) {
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url + query);
  await page.waitForFunction(
    () => {
      const s = window.__brainsynth?.state;
      return s && ((s.status === 'ready' && s.rendered >= 1) || s.status === 'error');
    },
    null,
    { timeout: 180_000 },
  );
  await page.waitForTimeout(500);
  await page.screenshot({ path: out });
  await browser.close();
  console.log(`saved ${out}`);
} finally {
  process.kill(-server.pid);
}
