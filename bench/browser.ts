/**
 * Headless-Chromium variant of the benchmark: Vite dev server + the system Chromium (flags of
 * docs/ENVIRONMENT.md "Browser") opening bench/browser/index.html, which samples through EngineClient (worker).
 * Used by `npm run bench -- --browser`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import type { BrowserBenchResult } from './browser/main';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium';

export interface BrowserRun extends BrowserBenchResult {
  requested: string;
}

export async function runBrowserBench(opts: {
  root: string;
  modelUrl: string;
  backends: string[];
  samplers: string[];
  runs: number;
  timeoutMs: number;
  fsAllow?: string[];
}): Promise<BrowserRun[]> {
  const server = await createServer({
    root: opts.root,
    configFile: join(opts.root, 'vite.config.ts'),
    logLevel: 'error',
    server: {
      host: '127.0.0.1',
      port: 5188,
      strictPort: false,
      fs: { allow: [opts.root, ...(opts.fsAllow ?? [])] },
    },
  });
  await server.listen();
  const base = server.resolvedUrls?.local[0] ?? 'http://127.0.0.1:5188/';
  const results: BrowserRun[] = [];
  try {
    for (const backend of opts.backends) {
      const profile = mkdtempSync(join(tmpdir(), 'bench-chromium-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      try {
        const page = await context.newPage();
        const url = `${base}bench/browser/index.html?backend=${backend}&runs=${opts.runs}&samplers=${opts.samplers.join(',')}&model=${encodeURIComponent(opts.modelUrl)}`;
        await page.goto(url);
        await page.waitForFunction(() => window.__bench !== undefined, undefined, {
          timeout: opts.timeoutMs,
          polling: 500,
        });
        const r = (await page.evaluate(() => window.__bench)) as BrowserBenchResult;
        results.push({ requested: backend, ...r });
      } catch (e) {
        results.push({
          requested: backend,
          error: e instanceof Error ? e.message.split('\n')[0] : String(e),
        });
      } finally {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      }
    }
  } finally {
    await server.close();
  }
  return results;
}
