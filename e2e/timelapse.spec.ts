/**
 * Teaching — time-lapse: one subject ageing from 20 to 90 and a disease progressing; frames are
 * computed in their own lane and cached, then played from the cache. The frames/s shown is
 * measured and printed (never asserted: it depends on the machine).
 */
import { expect, test, type Page } from '@playwright/test';
import { canvasShot, diffFraction, nonBlackFraction, openApp, waitReady } from './helpers';
import { docShot, teachState, waitTeach } from './teach';

/** Frames shown per second over `ms` of playback, counted in the page. */
async function measureFps(page: Page, ms: number): Promise<number> {
  return page.evaluate(async (ms) => {
    const hook = () =>
      (window as unknown as { __brainsynth: { teach: { timelapse: { shown: number } } } })
        .__brainsynth.teach.timelapse;
    const n0 = hook().shown;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    return ((hook().shown - n0) * 1000) / (performance.now() - t0);
  }, ms);
}

test('time-lapse: the same subject ages 20 → 90; play, pause, scrub, loop, speed', async ({
  page,
}) => {
  await openApp(page, '?backend=cpu&seed=42&age=50');
  const controls = page.getByRole('complementary', { name: 'Controls' });
  await controls.getByRole('button', { name: 'Open time-lapse' }).click();
  const bar = page.getByRole('group', { name: 'Time-lapse' });
  await expect(bar).toBeVisible();
  const t0 = Date.now();
  let t = await waitTeach(page, "t.timelapse.status === 'ready'");
  const computeS = (Date.now() - t0) / 1000;
  expect(t.timelapse.param).toBe('age');
  expect(t.timelapse.values[0]).toBe(20);
  expect(t.timelapse.values.at(-1)).toBe(90);
  expect(t.timelapse.cached).toBe(t.timelapse.values.length);
  expect(new Set(t.timelapse.frameSeeds)).toEqual(new Set([42])); // one subject throughout
  console.log(
    `time-lapse: ${t.timelapse.values.length} frames computed in ${computeS.toFixed(1)} s ` +
      `(${((t.timelapse.frameMs ?? 0) / 1000).toFixed(2)} s per frame)`,
  );
  await expect(page.getByTestId('timelapse-readout')).toHaveText('Age 50 y');

  // scrub with the keyboard: Home = 20, End = 90
  const scrub = bar.getByRole('slider', { name: 'Time-lapse frame' });
  await scrub.focus();
  await page.keyboard.press('Home');
  await expect(page.getByTestId('timelapse-readout')).toHaveText('Age 20 y');
  await waitTeach(page, 't.timelapse.index === 0');
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
  const young = await canvasShot(page, 'timelapse-age20');
  await page.keyboard.press('End');
  await expect(page.getByTestId('timelapse-readout')).toHaveText('Age 90 y');
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
  const old = await canvasShot(page, 'timelapse-age90');
  expect(await nonBlackFraction(page, old)).toBeGreaterThan(0.05);
  expect(await diffFraction(page, young, old), 'age 20 vs 90 differ').toBeGreaterThan(0.002);
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('timelapse-readout')).toHaveText('Age 85 y');

  // play from the cache at 30 frames/s (looping), measure what is shown
  await bar.getByLabel('Speed (frames per second)').selectOption('30');
  const p0 = Date.now();
  await bar.getByRole('button', { name: 'Play' }).click();
  // first Play: each frame is drawn once in the viewer and kept as a picture, then pictures play
  await waitTeach(page, 't.timelapse.playing && t.timelapse.pictures');
  const prepareS = (Date.now() - p0) / 1000;
  await waitTeach(page, 't.timelapse.measuredFps !== null');
  const fps = await measureFps(page, 3000);
  t = await teachState(page);
  console.log(
    `time-lapse: pictures of ${t.timelapse.values.length} frames prepared in ${prepareS.toFixed(1)} s`,
  );
  const overlay = await page.getByTestId('timelapse-overlay').screenshot();
  expect(await nonBlackFraction(page, overlay), 'playback shows a brain').toBeGreaterThan(0.05);
  console.log(
    `time-lapse playback from the cache: ${fps.toFixed(1)} frames/s counted in the page ` +
      `(app's own measure ${t.timelapse.measuredFps?.toFixed(1)} frames/s; asked for 30)`,
  );
  expect(fps).toBeGreaterThan(0);
  await docShot(page, 'timelapse');

  // pause (keyboard: k), the frame stays, now as a volume in the viewer
  await scrub.focus();
  await page.keyboard.press('k');
  await waitTeach(page, '!t.timelapse.playing && !t.timelapse.pictures');
  await expect(page.getByTestId('timelapse-overlay')).toBeHidden();
  const paused = (await teachState(page)).timelapse.index;
  await page.waitForTimeout(400);
  expect((await teachState(page)).timelapse.index).toBe(paused);

  // no loop: playing stops at 90
  await bar.getByLabel('Loop').uncheck();
  await scrub.focus();
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await bar.getByRole('button', { name: 'Play' }).click();
  t = await waitTeach(page, '!t.timelapse.playing');
  expect(t.timelapse.value).toBe(90);
  await expect(bar.getByRole('button', { name: 'Play' })).toBeVisible();

  // close: back to the subject's own sample
  await controls.getByRole('button', { name: 'Close time-lapse' }).click();
  await expect(bar).toHaveCount(0);
  const s = await waitReady(page, 1);
  expect(s.volume!.conditions.age).toBe(50);
});

test("time-lapse: Alzheimer's disease progressing with its severity", async ({ page }) => {
  await openApp(page, '?backend=cpu&seed=42&age=70&pathology=alzheimers&adSeverity=0.5');
  const controls = page.getByRole('complementary', { name: 'Controls' });
  await controls.getByRole('radio', { name: 'Disease severity' }).check();
  await controls.getByRole('button', { name: 'Open time-lapse' }).click();
  const t = await waitTeach(page, "t.timelapse.status === 'ready'");
  expect(t.timelapse.param).toBe('adSeverity');
  expect([t.timelapse.values[0], t.timelapse.values.at(-1)]).toEqual([0, 1]);
  const readout = page.getByTestId('timelapse-readout');
  await expect(readout).toHaveText('AD severity 0.50');
  const scrub = page.getByRole('slider', { name: 'Time-lapse frame' });
  await scrub.focus();
  await page.keyboard.press('Home');
  await expect(readout).toHaveText('AD severity 0.00');
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
  const none = await canvasShot(page, 'timelapse-ad0');
  await page.keyboard.press('End');
  await expect(readout).toHaveText('AD severity 1.00');
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
  const severe = await canvasShot(page, 'timelapse-ad1');
  expect(await diffFraction(page, none, severe), 'severity 0 vs 1 differ').toBeGreaterThan(0.002);
  // a healthy brain has no disease track: it says so
  await controls.getByRole('button', { name: 'Close time-lapse' }).click();
  await controls.getByLabel('Pathology').selectOption('none');
  await waitReady(page, 1);
  await controls.getByRole('button', { name: 'Open time-lapse' }).click();
  await expect(controls.getByRole('alert')).toContainText('choose a pathology first');
});
