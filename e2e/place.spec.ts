/**
 * Workflow: place a lesion by clicking in the viewer. In Place mode a click in a slice puts the
 * glioma's centre there (a drag sets its radius) or the stroke on that side; the conditions
 * panel and the URL follow, the brain is resampled and the label map has the lesion at the
 * clicked place. A click outside the schema's range is refused with a message.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  afterSample,
  appState,
  canvasShot,
  diffFraction,
  openApp,
  SCREENSHOT_DIR,
  type AppState,
} from './helpers';

type Vec3 = [number, number, number];
type State = AppState & {
  viewer: {
    placeMode: boolean;
    placeMessage: { ok: boolean; text: string } | null;
    view: { crosshairMm: Vec3 };
  };
  volume: { labelCentroidsMm: Record<string, number[]> };
};
const state = async (page: Page) => (await appState(page)) as State;

const DOC_IMG = process.env.BRAINSYNTH_DOC_SHOTS
  ? path.join('docs', 'img')
  : path.join('test-results', 'doc-img');

/** The page position of a point (mm) on the axial slice the viewer shows. */
async function pagePoint(page: Page, mm: Vec3): Promise<{ x: number; y: number }> {
  const p = await page.evaluate(
    (m) =>
      (
        window as unknown as {
          __brainsynth: { canvasPoint(mm: number[]): [number, number] | null };
        }
      ).__brainsynth.canvasPoint(m),
    mm,
  );
  expect(p, `${mm} lies on the axial slice`).not.toBeNull();
  const box = (await page.getByTestId('viewer-canvas').boundingBox())!;
  return { x: box.x + p![0], y: box.y + p![1] };
}

const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

test('glioma: click places the tumour centre, drag sets its radius; out of range is refused', async ({
  page,
}) => {
  await openApp(page, '?backend=cpu&seed=5&pathology=glioma&gliomaRadiusMm=10');
  const before = await canvasShot(page, 'place-before');
  const place = page.getByRole('button', { name: 'Place by clicking' });
  await place.click();
  await expect(page.getByRole('button', { name: /Placing: click in the viewer/ })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  expect((await state(page)).viewer.placeMode).toBe(true);

  // a point on the axial slice on screen, in the left hemisphere (the default tumour is right)
  const z = (await state(page)).viewer.view.crosshairMm[2];
  const target: Vec3 = [-30, 0, z];
  const at = await pagePoint(page, target);
  let s = (await afterSample(page, () => page.mouse.click(at.x, at.y))) as State;
  const c = s.conditions as Record<string, number>;
  const centre = [c.gliomaCenterXMm, c.gliomaCenterYMm, c.gliomaCenterZMm];
  expect(dist(centre, target), `centre ${centre} vs click ${target}`).toBeLessThanOrEqual(1.5);
  expect(s.volume.conditions).toMatchObject({ gliomaCenterXMm: centre[0] });
  expect(s.seed).toBe(5); // the same subject
  // the lesion is where the click was: core (711) and rim (712) centred on it
  for (const label of ['711', '712']) {
    const got = s.volume.labelCentroidsMm[label];
    expect(got, `label ${label} present`).toBeDefined();
    expect(dist(got, target), `label ${label} centroid ${got}`).toBeLessThan(3);
  }
  // the panel and the URL follow
  await expect(page.getByRole('spinbutton', { name: /Tumour centre x/ })).toHaveValue(
    String(centre[0]),
  );
  expect(new URL(page.url()).searchParams.get('gliomaCenterXMm')).toBe(String(centre[0]));
  await expect(page.getByTestId('place-message')).toHaveText(/Tumour centre -30, 0, /);
  const after = await canvasShot(page, 'place-after');
  expect(await diffFraction(page, before, after)).toBeGreaterThan(0.005);

  // drag from the centre: the radius is the drag's length (15 mm)
  const from = await pagePoint(page, target);
  const to = await pagePoint(page, [target[0], target[1] + 15, target[2]]);
  s = (await afterSample(page, async () => {
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2);
    await page.mouse.move(to.x, to.y);
    await page.mouse.up();
  })) as State;
  const r = (s.conditions as Record<string, number>).gliomaRadiusMm;
  expect(Math.abs(r - 15)).toBeLessThanOrEqual(1);
  await expect(page.getByRole('spinbutton', { name: /Tumour radius/ })).toHaveValue(String(r));
  mkdirSync(DOC_IMG, { recursive: true });
  await page.locator('.app').screenshot({ path: path.join(DOC_IMG, 'place.png'), scale: 'css' });

  // out of the schema's range (x > 60 mm): refused with a message, nothing changes
  const samples = s.samples;
  const far = await pagePoint(page, [75, 0, target[2]]);
  await page.mouse.click(far.x, far.y);
  await expect(page.getByRole('alert').filter({ hasText: 'Tumour not placed' })).toContainText(
    'must be between -60 and 60',
  );
  const s2 = await state(page);
  expect(s2.samples).toBe(samples);
  expect((s2.conditions as Record<string, number>).gliomaCenterXMm).toBe(centre[0]);
  expect(s2.viewer.placeMessage).toMatchObject({ ok: false });

  // Place mode off: a click only moves the crosshair
  await page.getByRole('button', { name: /Placing: click in the viewer/ }).click();
  const kept = (await state(page)).conditions;
  await page.mouse.click(at.x, at.y);
  // the pointer's handlers have run when the click resolves: no condition changed, no sample
  const s3 = await state(page);
  expect(s3.conditions).toEqual(kept);
  expect(s3.status).toBe('ready');
  expect(s3.samples).toBe(samples);
});

test('stroke: the click chooses the side (x in RAS)', async ({ page }) => {
  await openApp(page, '?backend=cpu&seed=5&pathology=stroke&strokeSide=left&strokeSize=0.5');
  const left = (await state(page)).volume.labelCentroidsMm['721'];
  expect(left[0]).toBeLessThan(0);
  await page.getByRole('button', { name: 'Place by clicking' }).press('Enter'); // keyboard works
  const z = (await state(page)).viewer.view.crosshairMm[2];
  const at = await pagePoint(page, [40, -10, z]);
  const s = (await afterSample(page, () => page.mouse.click(at.x, at.y))) as State;
  expect(s.conditions).toMatchObject({ strokeSide: 'right' });
  expect(s.volume.labelCentroidsMm['721'][0], 'infarct on the right').toBeGreaterThan(10);
  await expect(page.getByRole('radio', { name: 'right' })).toBeChecked();
  await expect(page.getByTestId('place-message')).toHaveText('Stroke on the right side');
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await canvasShot(page, 'place-stroke-right');
});
