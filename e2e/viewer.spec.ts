/**
 * Radiological review in the viewer: click to place the crosshair (the structure is named),
 * right-drag for window/level, and both survive a new sample; L/R convention and the label
 * overlay change what is on screen; a generated volume opens at the brain's window (the Brain
 * preset), per contrast.
 */
import { expect, test } from '@playwright/test';
import { afterSample, appState, canvasShot, diffFraction, openApp, type AppState } from './helpers';

type View = { crosshairMm: number[]; window: number[] | null; radiological: boolean };
const view = (s: AppState) => (s.viewer as unknown as { view: View }).view;

test('crosshair, window/level and display settings', async ({ page }) => {
  const start = await openApp(page, '?backend=cpu&seed=5&age=50');
  const canvas = page.getByTestId('viewer-canvas');
  const box = (await canvas.boundingBox())!;
  // the axial plane is the lower-left tile of the 2×2 layout
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.7);
  await expect
    .poll(async () => view(await appState(page)).crosshairMm.join())
    .not.toBe(view(start).crosshairMm.join());
  const placed = await appState(page);
  const cursor = placed.viewer.cursor as { name: string };
  expect(cursor.name.length).toBeGreaterThan(0);
  await expect(page.getByTestId('structure')).toHaveText(cursor.name);

  // right-drag = window/level
  const x = box.x + box.width * 0.25;
  const y = box.y + box.height * 0.72;
  await page.mouse.move(x, y);
  await page.mouse.down({ button: 'right' });
  await page.mouse.move(x + 40, y - 30, { steps: 6 });
  await page.mouse.up({ button: 'right' });
  await expect
    .poll(async () => view(await appState(page)).window?.join())
    .not.toBe(view(placed).window?.join());
  const windowed = view(await appState(page));

  // a new sample swaps the volume in place: crosshair and window/level stay
  const next = await afterSample(page, () => page.getByLabel('Age', { exact: true }).fill('75'));
  expect(view(next).crosshairMm).toEqual(windowed.crosshairMm);
  expect(view(next).window).toEqual(windowed.window);

  const before = await canvasShot(page, 'viewer-neurological');
  await page.getByLabel('Radiological convention').check();
  await expect.poll(async () => view(await appState(page)).radiological).toBe(true);
  const radiological = await canvasShot(page, 'viewer-radiological');
  expect(await diffFraction(page, before, radiological), 'L/R flipped').toBeGreaterThan(0.01);

  await page.getByLabel('Label overlay').uncheck();
  const plain = await canvasShot(page, 'viewer-no-overlay');
  expect(await diffFraction(page, radiological, plain), 'overlay hidden').toBeGreaterThan(0.01);
  await expect(page.getByLabel('Overlay opacity')).toBeDisabled();
});

test("a generated volume opens at the brain's window, and a new contrast at its own", async ({
  page,
}) => {
  const start = await openApp(page, '?backend=cpu&seed=5&contrast=T1w');
  const opened = view(start).window!;
  expect(opened[1]).toBeGreaterThan(opened[0]);
  const preset = page.getByLabel('Window preset');
  // another preset moves the window; the Brain preset brings back exactly the opening window
  await preset.selectOption('Full range');
  await expect.poll(async () => view(await appState(page)).window?.join()).not.toBe(opened.join());
  await preset.selectOption('Brain');
  await expect.poll(async () => view(await appState(page)).window?.join()).toBe(opened.join());
  // a new contrast opens at its own brain window (not the T1w's, not NiiVue's whole-field range)
  const t2 = await afterSample(page, () =>
    page
      .getByLabel('Contrast', { exact: true })
      .selectOption('T2w')
      .then(() => undefined),
  );
  const t2Window = view(t2).window!;
  expect(t2Window.join()).not.toBe(opened.join());
  await preset.selectOption('Full range');
  await expect
    .poll(async () => view(await appState(page)).window?.join())
    .not.toBe(t2Window.join());
  await preset.selectOption('Brain');
  await expect.poll(async () => view(await appState(page)).window?.join()).toBe(t2Window.join());
});
