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
 *   inputs come back to back, or --think-ms apart (a person looking at the brain between clicks:
 *   the app's idle-time work — next seed's fields, the 3D pane — then runs between inputs);
 * - where input → drawn goes (medians): the worker's sample(), the delivery to the main thread
 *   (input → volume received − sample()), the main thread before the viewer starts (store, React)
 *   and the viewer (swap, GL upload, 2D draw) — from `__brainsynthPerf.marks`;
 * - memory of the renderer process (the worker lives in it; /proc VmRSS / VmHWM): peak over one
 *   sample (VmHWM reset through clear_refs), and the growth over --memory-samples samples read
 *   after a forced garbage collection (Chromium runs with --js-flags=--expose-gc; gc() is called
 *   in the page and in every worker, twice, before each reading) at 5 checkpoints: the RSS and the
 *   page's JS heap, with the least-squares slope of the RSS per sample.
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
  /** Renderer VmRSS before and after `memorySamples` samples (after a forced GC), MB. */
  rssBeforeMB: number;
  rssAfterMB: number;
  memorySamples: number;
  /** Checkpoints over the memory run (after a forced GC): samples done, RSS MB, page JS heap MB. */
  memoryCheckpoints: { samples: number; rssMB: number; jsHeapMB: number }[];
  /** Input → drawn split (fresh and kept together): worker sample, delivery, main thread, viewer. */
  split: { sampleMs: number[]; deliveryMs: number[]; mainMs: number[]; viewerMs: number[] };
  /** Time-lapse of the subject ageing (age track, 5-year steps), or null when it failed. */
  timelapse: TimelapseBench | null;
}

export interface TimelapseBench {
  frames: number;
  /** Open → every frame computed and cached, s; the app's mean time per frame, ms. */
  computeS: number;
  frameMs: number;
  /** First Play → playback from the prepared pictures, s. */
  prepareS: number;
  /** Frames shown per second over `fpsWindowMs` of playback at the asked speed, counted in the page. */
  fps: number;
  askedFps: number;
  fpsWindowMs: number;
}

interface TimelapseHook {
  status: string;
  error: string | null;
  values: number[];
  playing: boolean;
  pictures: boolean;
  measuredFps: number | null;
  shown: number;
  frameMs: number | null;
}

/** The time-lapse state of the app's test hook (window.__brainsynth.teach.timelapse). */
async function waitTimelapse(page: Page, predicate: string): Promise<TimelapseHook> {
  // strings, not functions: tsx's transform would add helpers (__name) the page lacks
  const state =
    'window.__brainsynth && window.__brainsynth.teach && window.__brainsynth.teach.timelapse';
  await page.waitForFunction(
    `(() => { const t = ${state}; return t ? Boolean(${predicate}) : false; })()`,
    undefined,
    {
      timeout: 300_000,
      polling: 100,
    },
  );
  return (await page.evaluate(`JSON.parse(JSON.stringify(${state}))`)) as TimelapseHook;
}

/**
 * The time-lapse workflow as a user runs it (the same steps as e2e/timelapse.spec.ts): open it
 * (the subject's frames 20 → 90 y are computed in their own worker lane and cached), then Play at
 * `askedFps` (the first Play draws each frame once into a picture; playback shows pictures);
 * frames shown per second are counted in the page over `windowMs`.
 */
async function benchTimelapse(page: Page, askedFps = 30, windowMs = 3000): Promise<TimelapseBench> {
  const controls = page.getByRole('complementary', { name: 'Controls' });
  const t0 = Date.now();
  await controls.getByRole('button', { name: 'Open time-lapse' }).click();
  const ready = await waitTimelapse(page, "t.status === 'ready' || t.status === 'error'");
  if (ready.status === 'error') throw new Error(`time-lapse: ${ready.error}`);
  const computeS = (Date.now() - t0) / 1000;
  const bar = page.getByRole('group', { name: 'Time-lapse' });
  await bar.getByLabel('Speed (frames per second)').selectOption(String(askedFps));
  const p0 = Date.now();
  await bar.getByRole('button', { name: 'Play' }).click();
  await waitTimelapse(page, 't.playing && t.pictures');
  const prepareS = (Date.now() - p0) / 1000;
  await waitTimelapse(page, 't.measuredFps !== null');
  // a string, not a function: tsx's transform would add helpers (__name) the page lacks
  const fps = (await page.evaluate(`(async () => {
    const tl = () => window.__brainsynth.teach.timelapse;
    const n0 = tl().shown;
    const start = performance.now();
    await new Promise((r) => setTimeout(r, ${windowMs}));
    return ((tl().shown - n0) * 1000) / (performance.now() - start);
  })()`)) as number;
  return {
    frames: ready.values.length,
    computeS,
    frameMs: ready.frameMs ?? NaN,
    prepareS,
    fps,
    askedFps,
    fpsWindowMs: windowMs,
  };
}

declare global {
  interface Window {
    __brainsynthPerf?: { draws: number[]; marks?: [string, number][] };
  }
}

/** Preview port (BRAINSYNTH_BENCH_PORT, default 4190): worktrees benchmarking at once need their own. */
const PORT = Number(process.env.BRAINSYNTH_BENCH_PORT ?? 4190);

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

/** Where one input's time went (ms); NaN where a mark is missing. */
interface Split {
  sampleMs: number;
  deliveryMs: number;
  mainMs: number;
  viewerMs: number;
}

let lastSplit: Split | null = null;
/** Pause before each timed input (a person looks at the brain before the next click), ms. */
let thinkMs = 0;

/** Trigger an input in the page; returns [input → drawn ms, the sample's sampleMs]. */
async function timedInput(
  page: Page,
  kind: 'fresh' | 'kept',
  _step: number,
): Promise<[number, number]> {
  const step = kind === 'kept' ? ageStep++ : 0; // consecutive ages always differ
  if (thinkMs > 0) await page.waitForTimeout(thinkMs);
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
  const [drawnMs, sampleMs, received, viewer] = await page.evaluate(
    ({ t0, before }) => {
      const hook = (window as unknown as { __brainsynth: AppHook }).__brainsynth;
      const perf = window.__brainsynthPerf!;
      const drawn = perf.draws[before];
      // (no local function here: the bench's transpiler would wrap it in a helper the page lacks)
      const marks = perf.marks ?? [];
      let received = NaN;
      let viewer = NaN;
      for (const [n, t] of marks) {
        if (t > drawn) continue;
        if (n === 'received' && t >= t0 && Number.isNaN(received)) received = t;
        else if (n === 'viewer' && t >= received && Number.isNaN(viewer)) viewer = t;
      }
      return [drawn - t0, hook.state.lastSampleMs ?? NaN, received, viewer] as [
        number,
        number,
        number,
        number,
      ];
    },
    { t0, before },
  );
  lastSplit = {
    sampleMs,
    deliveryMs: received - t0 - sampleMs,
    mainMs: viewer - received,
    viewerMs: t0 + drawnMs - viewer,
  };
  await page.evaluate(() => {
    const m = window.__brainsynthPerf!.marks;
    if (m) m.length = 0;
  });
  return [drawnMs, sampleMs];
}

/** Collect garbage everywhere (page and workers: gc() from --expose-gc), twice. */
async function forceGc(page: Page): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await page.evaluate(() => (globalThis as { gc?: () => void }).gc?.());
    for (const w of page.workers())
      await w.evaluate(() => (globalThis as { gc?: () => void }).gc?.()).catch(() => undefined);
  }
}

/** The page's JS heap in use, MB (DevTools protocol; the worker's heap shows in the RSS). */
async function jsHeapMB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    return usedSize / 2 ** 20;
  } finally {
    await cdp.detach();
  }
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
    window.__brainsynthPerf = { draws: [], marks: [] };
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
  /** Pause before each timed input (default 0: inputs back to back). */
  thinkMs?: number;
}): Promise<AppBenchResult> {
  thinkMs = opts.thinkMs ?? 0;
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
    // gc() in the page and its workers: memory is read after a forced collection
    args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc', '--enable-precise-memory-info'],
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
    memoryCheckpoints: [],
    split: { sampleMs: [], deliveryMs: [], mainMs: [], viewerMs: [] },
    timelapse: null,
  };
  const keepSplit = () => {
    if (!lastSplit) return;
    for (const k of ['sampleMs', 'deliveryMs', 'mainMs', 'viewerMs'] as const)
      r.split[k].push(lastSplit[k]);
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
          if (k > 0) keepSplit();
          const [freshDrawn, freshMs] = await timedInput(page, 'fresh', k);
          if (k > 0) keepSplit();
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
          const checkpoint = async (samples: number) => {
            await page.waitForTimeout(600); // the viewer's idle 3D render is done
            await forceGc(page);
            r.memoryCheckpoints.push({
              samples,
              rssMB: procMB(pid, 'VmRSS'),
              jsHeapMB: await jsHeapMB(page),
            });
          };
          await checkpoint(0);
          r.rssBeforeMB = r.memoryCheckpoints[0].rssMB;
          const every = Math.max(1, Math.ceil(opts.memorySamples / 4));
          for (let k = 0; k < opts.memorySamples; k++) {
            await timedInput(page, k % 2 ? 'kept' : 'fresh', k);
            if ((k + 1) % every === 0 || k + 1 === opts.memorySamples) await checkpoint(k + 1);
          }
          r.rssAfterMB = r.memoryCheckpoints[r.memoryCheckpoints.length - 1].rssMB;
        }
        try {
          r.timelapse = await benchTimelapse(page);
        } catch (e) {
          process.stderr.write(`time-lapse bench failed: ${String(e)}\n`);
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
