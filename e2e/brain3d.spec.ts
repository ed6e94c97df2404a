/**
 * The 3D pane shows the brain, not the scalp: by default the render leaves the head image out
 * and draws the labelled brain (extra-cerebral labels hidden); "3D: brain only" off shows the
 * whole head again, covering the brain (its red cortex no longer shows). The 3D tile's pixels
 * are compared; its screenshots are saved.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { appState, diffFraction, openApp, SCREENSHOT_DIR } from './helpers';

type Tile = [number, number, number, number];
const DOC_IMG = process.env.BRAINSYNTH_DOC_SHOTS
  ? path.join('docs', 'img')
  : path.join('test-results', 'doc-img');

/** PNG of the 3D tile as drawn now (a full scene drawn for the screenshot), plus its stats. */
async function renderTile(page: Page, name: string) {
  type State = { viewer: { view: { renderTile: Tile | null; brainOnly3D: boolean } } };
  const state = async () => (await appState(page)) as unknown as State;
  // on software GL the 3D pane is drawn once the viewer is idle, after the slices
  await expect
    .poll(async () => (await state()).viewer.view.renderTile, {
      message: 'the viewer has a 3D tile',
    })
    .not.toBeNull();
  const s = await state();
  const tile = s.viewer.view.renderTile;
  const res = await page.evaluate(async (t) => {
    const url = (
      window as unknown as { __brainsynth: { screenshot(): string } }
    ).__brainsynth.screenshot();
    const bmp = await createImageBitmap(await (await fetch(url)).blob());
    const c = new OffscreenCanvas(t[2], t[3]);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bmp, t[0], t[1], t[2], t[3], 0, 0, t[2], t[3]);
    const d = ctx.getImageData(0, 0, t[2], t[3]).data;
    let lit = 0;
    let warm = 0; // coloured (label) pixels: R, G, B clearly unequal
    let red = 0; // the cortex's label colour: red well above green and blue
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] + d[i + 1] + d[i + 2] > 30) lit++;
      if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) warm++;
      if (d[i] - Math.max(d[i + 1], d[i + 2]) > 40) red++;
    }
    const png = await c.convertToBlob({ type: 'image/png' });
    const b = new Uint8Array(await png.arrayBuffer());
    let bin = '';
    for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
    const n = d.length / 4;
    return { b64: btoa(bin), lit: lit / n, coloured: warm / n, red: red / n };
  }, tile!);
  const png = Buffer.from(res.b64, 'base64');
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  writeFileSync(path.join(SCREENSHOT_DIR, `${name}.png`), png);
  return {
    png,
    lit: res.lit,
    coloured: res.coloured,
    red: res.red,
    brainOnly: s.viewer.view.brainOnly3D,
  };
}

test('3D render: brain only by default, the whole head with the toggle off', async ({ page }) => {
  await openApp(page, '?backend=cpu&seed=5');
  const toggle = page.getByLabel('3D: brain only');
  await expect(toggle).toBeChecked();
  const brain = await renderTile(page, 'render3d-brain');
  expect(brain.brainOnly).toBe(true);
  expect(brain.lit, 'something is drawn').toBeGreaterThan(0.05);
  expect(brain.coloured, 'the labelled brain (coloured)').toBeGreaterThan(0.05);
  expect(brain.red, 'the cortex (red label colour) is visible').toBeGreaterThan(0.03);

  await toggle.uncheck();
  await expect.poll(async () => (await renderTile(page, 'render3d-head')).brainOnly).toBe(false);
  const head = await renderTile(page, 'render3d-head');
  expect(head.lit, 'the head is bigger than the brain').toBeGreaterThan(brain.lit);
  // the scalp covers the brain: the cortex's red label colour is hidden (the scalp's own
  // labels tint it, so "coloured" alone says little)
  expect(head.red, 'the scalp hides the cortex').toBeLessThan(brain.red / 2);
  expect(await diffFraction(page, brain.png, head.png)).toBeGreaterThan(0.05);

  // keyboard: Space toggles it back
  await toggle.focus();
  await page.keyboard.press('Space');
  await expect(toggle).toBeChecked();
  const again = await renderTile(page, 'render3d-brain-again');
  expect(again.brainOnly).toBe(true);
  expect(await diffFraction(page, brain.png, again.png)).toBeLessThan(0.01);
  mkdirSync(DOC_IMG, { recursive: true });
  await page
    .getByTestId('viewer-canvas')
    .screenshot({ path: path.join(DOC_IMG, 'render3d.png'), scale: 'css' });
});
