/**
 * Offline (issue 12, teaching): once the production build has been opened, its service worker
 * has cached the app shell and the default model, and the app reloads and samples a new brain
 * with the network off.
 */
import { expect, test } from '@playwright/test';
import {
  afterSample,
  canvasShot,
  diffFraction,
  nonBlackFraction,
  openApp,
  waitReady,
} from './helpers';

test('works offline once loaded: reload and sample a new brain with no network', async ({
  page,
  context,
}) => {
  test.skip(!!process.env.BRAINSYNTH_E2E_URL, 'needs the production build (service worker)');
  const first = await openApp(page, '?backend=cpu&seed=5');

  // the service worker is active and controls the page (install finishes only once every
  // precache entry is stored)
  const sw = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r));
    }
    return { state: reg.active?.state, controlled: !!navigator.serviceWorker.controller };
  });
  expect(sw).toEqual({ state: 'activated', controlled: true });

  // the catalogue, the default model's files (student weights included) and the wasm binaries
  const cached = await page.evaluate(async () => {
    const paths: string[] = [];
    for (const name of await caches.keys()) {
      for (const req of await (await caches.open(name)).keys())
        paths.push(new URL(req.url).pathname);
    }
    return paths;
  });
  const model = first.model!.id;
  for (const p of [
    '/index.html',
    '/models/index.json',
    `/models/${model}/manifest.json`,
    `/models/${model}/student/model.json`,
    `/models/${model}/student/group1-shard1of1.bin.gz`,
  ]) {
    expect(cached, p).toContain(p);
  }
  expect(cached.filter((p) => p.endsWith('.wasm')).length).toBeGreaterThanOrEqual(3);

  await context.setOffline(true);
  // really offline: anything not cached fails
  const uncached = await page.evaluate(() =>
    fetch(`/not-cached-${Date.now()}.txt`).then(
      () => 'fetched',
      () => 'failed',
    ),
  );
  expect(uncached).toBe('failed');

  await page.reload();
  const reloaded = await waitReady(page, 1);
  expect(reloaded.model?.id).toBe(model);
  expect(reloaded.seed).toBe(5);
  const before = await canvasShot(page, 'offline-reloaded');
  expect(await nonBlackFraction(page, before)).toBeGreaterThan(0.05);

  const next = await afterSample(page, () =>
    page.getByRole('button', { name: 'New subject' }).click(),
  );
  expect(next.seed).not.toBe(5);
  expect(next.volume?.seed).toBe(next.seed);
  const after = await canvasShot(page, 'offline-new-subject');
  expect(await nonBlackFraction(page, after)).toBeGreaterThan(0.05);
  expect(await diffFraction(page, before, after), 'a different brain on screen').toBeGreaterThan(
    0.01,
  );
  await context.setOffline(false);
});
