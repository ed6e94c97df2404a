/**
 * Shared helpers for the end-to-end specs: wait for the app's state (window.__brainsynth),
 * take canvas screenshots (what a person sees) and measure them in the page.
 */
import { expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { VolumeSummary } from '../src/ui/controller';

/** The test hook's summary of the volume on screen (one definition: src/ui/controller.ts). */
export type { VolumeSummary };

export const SCREENSHOT_DIR = path.join('test-results', 'screenshots');

/** Sampling can take several seconds on CI's software adapters. */
export const SAMPLE_TIMEOUT = 150_000;

export interface AppState {
  status: 'loading' | 'ready' | 'sampling' | 'error';
  backend: string | null;
  backendReason: string;
  lastSampleMs: number | null;
  samples: number;
  rendered: number;
  error: string | null;
  model: { id: string; version: string } | null;
  conditions: Record<string, unknown>;
  seed: number;
  keepSubject: boolean;
  errors: string[];
  viewer: { userFile: string | null; fileError: string | null; cursor: unknown };
  volume: VolumeSummary | null;
}

export async function appState(page: Page): Promise<AppState> {
  return page.evaluate(() => {
    const hook = (window as unknown as { __brainsynth?: { state: unknown } }).__brainsynth;
    return JSON.parse(JSON.stringify(hook?.state ?? null));
  });
}

/** Wait until the app is idle with at least `minRendered` volumes drawn by the viewer. */
export async function waitReady(page: Page, minRendered = 1): Promise<AppState> {
  await page.waitForFunction(
    (n) => {
      const s = (
        window as unknown as {
          __brainsynth?: { state: { status: string; rendered: number; error: string | null } };
        }
      ).__brainsynth?.state;
      if (!s) return false;
      if (s.status === 'error') return true; // surface the error in the assertion below
      return s.status === 'ready' && s.rendered >= n;
    },
    minRendered,
    { timeout: SAMPLE_TIMEOUT, polling: 250 },
  );
  const state = await appState(page);
  expect(state.error, 'app error').toBeNull();
  expect(state.status).toBe('ready');
  // give NiiVue a frame to present the swapped volume
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
  return state;
}

/** Open the app at a query string and wait for the first rendered sample. */
export async function openApp(page: Page, query: string): Promise<AppState> {
  await page.goto(`/${query.startsWith('?') || query === '' ? query : `?${query}`}`);
  return waitReady(page, 1);
}

/** Run an action that triggers exactly one new sample and wait for it to be on screen. */
export async function afterSample(page: Page, action: () => Promise<void>): Promise<AppState> {
  const before = await appState(page);
  await action();
  await page.waitForFunction(
    (n) =>
      (window as unknown as { __brainsynth?: { state: { samples: number } } }).__brainsynth!.state
        .samples > n,
    before.samples,
    { timeout: SAMPLE_TIMEOUT, polling: 250 },
  );
  return waitReady(page, before.rendered + 1);
}

/** PNG of the viewer canvas as it appears on screen; saved under test-results/screenshots. */
export async function canvasShot(page: Page, name: string): Promise<Buffer> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return page
    .getByTestId('viewer-canvas')
    .screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

export async function pageShot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** Fraction of pixels that are not (near) black, decoded in the page. */
export async function nonBlackFraction(page: Page, png: Buffer): Promise<number> {
  return page.evaluate(async (b64) => {
    const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
    const bmp = await createImageBitmap(blob);
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bmp, 0, 0);
    const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 30) n++;
    return n / (d.length / 4);
  }, png.toString('base64'));
}

/** Fraction of pixels that differ clearly between two same-size screenshots. */
export async function diffFraction(page: Page, a: Buffer, b: Buffer): Promise<number> {
  return page.evaluate(
    async ([a64, b64]) => {
      const pixels = async (s: string) => {
        const blob = await (await fetch(`data:image/png;base64,${s}`)).blob();
        const bmp = await createImageBitmap(blob);
        const c = new OffscreenCanvas(bmp.width, bmp.height);
        const ctx = c.getContext('2d')!;
        ctx.drawImage(bmp, 0, 0);
        return ctx.getImageData(0, 0, bmp.width, bmp.height).data;
      };
      const [pa, pb] = await Promise.all([pixels(a64), pixels(b64)]);
      if (pa.length !== pb.length) return 1;
      let n = 0;
      for (let i = 0; i < pa.length; i += 4) {
        const d =
          Math.abs(pa[i] - pb[i]) +
          Math.abs(pa[i + 1] - pb[i + 1]) +
          Math.abs(pa[i + 2] - pb[i + 2]);
        if (d > 24) n++;
      }
      return n / (pa.length / 4);
    },
    [a.toString('base64'), b.toString('base64')] as const,
  );
}

/** The measured lateral-ventricle volume (mL) from the state, whatever its exact key. */
export function lateralVentriclesMl(state: AppState): number {
  const vols = state.volume?.regionalVolumesMl ?? {};
  const key = Object.keys(vols).find((k) => /lat.*ventric/i.test(k));
  if (!key) throw new Error(`no lateral-ventricle volume in ${Object.keys(vols).join(', ')}`);
  return vols[key];
}
