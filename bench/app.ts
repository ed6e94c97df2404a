/**
 * The app benchmark of issue 11: the production build (vite build → vite preview) in the system's
 * headless Chromium (e2e/chromium.ts flags), `auto` backend, driven through the real UI.
 *
 * Figures (medians over --runs):
 * - load → first brain, cold (new browser context: empty HTTP cache) and warm (reload in the
 *   same context), from navigation start to the first drawn frame;
 * - sample() in the worker (the volume's metadata.sampleMs, "Last sample" in the status bar) for a
 *   new subject ("New subject") and a kept subject (age slider);
 * - input → new brain drawn: from the input event to the frame, measured to a 1-pixel readPixels
 *   after NiiVue's draw (the Viewer's `__brainsynthPerf` hook), so software GL cannot hide its cost;
 * - memory of the renderer process (the worker lives in it; /proc VmRSS / VmHWM): peak over one
 *   sample (VmHWM reset through clear_refs) and growth of VmRSS over --memory-samples samples.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { preview } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium';

export interface AppBenchResult {
  backend: string;
  backendReason: string;
  coldLoadMs: number[];
  warmLoadMs: number[];
  freshSampleMs: number[];
  keptSampleMs: number[];
  freshDrawnMs: number[];
  keptDrawnMs: number[];
  /** Renderer process: peak RSS above the level before one sample, MB. */
  peakSampleMB: number[];
  /** Renderer VmRSS before and after `memorySamples` samples, MB. */
  rssBeforeMB: number;
  rssAfterMB: number;
  memorySamples: number;
}

declare global {
  interface Window {
    __brainsynthPerf?: { draws: number[] };
  }
}

const PORT = 4190;

interface AppHook {
  state: { status: string; rendered: number; lastSampleMs: number | null; backend: string | null };
}

async function waitDrawn(page: Page, minDraws: number, timeoutMs = 120_000): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const perf = window.__brainsynthPerf;
      const hook = (window as unknown as { __brainsynth?: AppHook }).__brainsynth;
      return (
        !!perf &&
        perf.draws.length >= n &&
        hook?.state.status === 'ready' &&
        hook.state.rendered > 0
      );
    },
    minDraws,
    { timeout: timeoutMs, polling: 20 },
  );
}

let ageStep = 0;

/** Trigger an input in the page; returns [input → drawn ms, the sample's sampleMs]. */
async function timedInput(
  page: Page,
  kind: 'fresh' | 'kept',
  _step: number,
): Promise<[number, number]> {
  const step = kind === 'kept' ? ageStep++ : 0; // consecutive ages always differ
  const before = await page.evaluate(() => window.__brainsynthPerf!.draws.length);
  const t0 = await page.evaluate(
    ({ kind, step }) => {
      const t = performance.now();
      if (kind === 'fresh') {
        const button = [...document.querySelectorAll('button')].find(
          (b) => b.textContent?.trim() === 'New subject',
        );
        if (!button) throw new Error('no New subject button');
        button.click();
      } else {
        const label = [...document.querySelectorAll('label')].find(
          (l) => l.textContent?.trim() === 'Age',
        );
        const el = label ? (document.getElementById(label.htmlFor) as HTMLInputElement) : null;
        if (!el) throw new Error('no Age slider');
        const ages = [35, 50, 65, 80];
        el.value = String(ages[step % ages.length]);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }
      return t;
    },
    { kind, step },
  );
  await waitDrawn(page, before + 1);
  return page.evaluate(
    ({ t0, before }) => {
      const hook = (window as unknown as { __brainsynth: AppHook }).__brainsynth;
      return [window.__brainsynthPerf!.draws[before] - t0, hook.state.lastSampleMs ?? NaN] as [
        number,
        number,
      ];
    },
    { t0, before },
  );
}

function rendererPids(browserPid: number): number[] {
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== pid) continue;
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
        if (cmd.includes('--type=renderer') && !cmd.includes('--extension-process'))
          out.push(Number(d));
        walk(Number(d));
      } catch {
        // process gone
      }
    }
  };
  walk(browserPid);
  return out;
}

/** The Chromium that Playwright started: a child process of this Node process. */
function chromiumChildOf(pid: number): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('chrom'))
        return Number(d);
    } catch {
      // process gone
    }
  }
  return undefined;
}

function procMB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${key}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The renderer that runs `page` (the one whose RSS is largest once the brain is drawn). */
function pageRenderer(browserPid: number): number | null {
  const pids = rendererPids(browserPid);
  if (pids.length === 0) return null;
  return pids.sort((a, b) => procMB(b, 'VmRSS') - procMB(a, 'VmRSS'))[0];
}

async function openPage(browser: Browser, base: string) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(() => {
    window.__brainsynthPerf = { draws: [] };
  });
  const page = await context.newPage();
  return { context, page, url: `${base}?seed=1&age=70` };
}

async function loadTime(page: Page): Promise<number> {
  await waitDrawn(page, 1);
  return page.evaluate(() => window.__brainsynthPerf!.draws[0]);
}

export async function runAppBench(opts: {
  root: string;
  runs: number;
  memorySamples: number;
  build: boolean;
}): Promise<AppBenchResult> {
  if (opts.build || !existsSync(join(opts.root, 'dist/index.html'))) {
    const b = spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], {
      cwd: opts.root,
      stdio: 'inherit',
    });
    if (b.status !== 0) throw new Error('vite build failed');
  }
  const server = await preview({
    root: opts.root,
    configFile: join(opts.root, 'vite.config.ts'),
    logLevel: 'error',
    preview: { host: '127.0.0.1', port: PORT, strictPort: true },
  });
  const base = `http://127.0.0.1:${PORT}/`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  const browserPid = chromiumChildOf(process.pid);
  const r: AppBenchResult = {
    backend: '',
    backendReason: '',
    coldLoadMs: [],
    warmLoadMs: [],
    freshSampleMs: [],
    keptSampleMs: [],
    freshDrawnMs: [],
    keptDrawnMs: [],
    peakSampleMB: [],
    rssBeforeMB: NaN,
    rssAfterMB: NaN,
    memorySamples: opts.memorySamples,
  };
  try {
    for (let i = 0; i < opts.runs; i++) {
      const { context, page, url } = await openPage(browser, base);
      await page.goto(url);
      r.coldLoadMs.push(await loadTime(page));
      await page.reload();
      r.warmLoadMs.push(await loadTime(page));
      if (i < opts.runs - 1) await context.close();
      else {
        const state = await page.evaluate(
          () => (window as unknown as { __brainsynth: AppHook }).__brainsynth.state,
        );
        r.backend = state.backend ?? '';
        r.backendReason = (state as unknown as { backendReason: string }).backendReason;
        for (let k = 0; k < opts.runs + 1; k++) {
          const [keptDrawn, keptMs] = await timedInput(page, 'kept', k);
          const [freshDrawn, freshMs] = await timedInput(page, 'fresh', k);
          if (k === 0) continue; // first of each kind: warm-up
          r.keptDrawnMs.push(keptDrawn);
          r.keptSampleMs.push(keptMs);
          r.freshDrawnMs.push(freshDrawn);
          r.freshSampleMs.push(freshMs);
        }
        const pid = browserPid ? pageRenderer(browserPid) : null;
        if (pid) {
          for (let k = 0; k < opts.runs; k++) {
            const before = procMB(pid, 'VmRSS');
            writeFileSync(`/proc/${pid}/clear_refs`, '5'); // reset VmHWM to the current RSS
            await timedInput(page, k % 2 ? 'kept' : 'fresh', k);
            r.peakSampleMB.push(procMB(pid, 'VmHWM') - before);
          }
          r.rssBeforeMB = procMB(pid, 'VmRSS');
          for (let k = 0; k < opts.memorySamples; k++)
            await timedInput(page, k % 2 ? 'kept' : 'fresh', k);
          r.rssAfterMB = procMB(pid, 'VmRSS');
        }
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
  return r;
}
