/**
 * Teaching — compare: two linked viewers of the same subject at 30 and 80, a difference map
 * A − B, other teaching pairs, and four viewers.
 */
import { expect, test } from '@playwright/test';
import { diffFraction, nonBlackFraction, openApp } from './helpers';
import { docShot, teachState, viewShot, waitTeach } from './teach';

const allReady = (n: number, extra = 'true') =>
  `t.compare.views.length === ${n} && t.compare.views.every((v) => v.status === 'ready' && v.rendered >= 1 && v.volumeSeed !== null) && (${extra})`;

test('compare: same subject at 30 vs 80, linked, with a difference map', async ({ page }) => {
  await openApp(page, '?backend=cpu&seed=42&age=50');
  const controls = page.getByRole('complementary', { name: 'Controls' });
  await controls.getByRole('button', { name: 'Age 30 vs 80' }).click();
  let t = await waitTeach(
    page,
    allReady(
      2,
      't.compare.views[0].volumeConditions.age === 30 && t.compare.views[1].volumeConditions.age === 80',
    ),
  );
  const [a, b] = t.compare.views;
  expect(a.volumeSeed).toBe(42);
  expect(b.volumeSeed).toBe(42); // the same subject
  expect(t.compare.linked).toBe(true);
  await expect(page.getByRole('region', { name: 'Viewer A' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Viewer B' })).toBeVisible();

  const shotA = await viewShot(page, a.id, 'compare-a30');
  const shotB = await viewShot(page, b.id, 'compare-b80');
  expect(await nonBlackFraction(page, shotA), 'A shows a brain').toBeGreaterThan(0.05);
  expect(await nonBlackFraction(page, shotB), 'B shows a brain').toBeGreaterThan(0.05);
  expect(await diffFraction(page, shotA, shotB), '30 and 80 look different').toBeGreaterThan(0.002);

  // linked: a click in A moves B's crosshair to the same place
  const box = (await page.locator(`[data-view="${a.id}"] canvas`).boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.3);
  await expect
    .poll(async () => {
      const s = await teachState(page);
      const [ca, cb] = s.compare.views.map((v) => v.crosshairMm!);
      return ca.join() !== a.crosshairMm!.join() && ca.every((x, i) => Math.abs(x - cb[i]) < 0.01);
    })
    .toBe(true);

  // difference map: a third viewer with A − B
  await controls.getByLabel('Difference map (A − B)').check();
  t = await waitTeach(
    page,
    't.compare.differenceView && t.compare.differenceView.rendered >= 1 && t.compare.differenceMaxAbs > 0',
  );
  expect(t.compare.differenceProblem).toBeNull();
  await expect(page.getByRole('region', { name: 'Difference A − B' })).toBeVisible();
  await expect(page.getByTestId('difference-status')).toContainText('A − B on screen');
  const shotD = await viewShot(page, t.compare.differenceView!.id, 'compare-diff');
  expect(await nonBlackFraction(page, shotD), 'the difference map is drawn').toBeGreaterThan(0.05);
  await docShot(page, 'compare');

  // off again: the third viewer goes
  await controls.getByLabel('Difference map (A − B)').uncheck();
  await expect(page.getByRole('region', { name: 'Difference A − B' })).toHaveCount(0);

  // healthy vs Alzheimer's, T1w vs FLAIR: the pairs of one subject
  await controls.getByRole('button', { name: 'T1w vs FLAIR' }).click();
  t = await waitTeach(
    page,
    allReady(
      2,
      "t.compare.views[0].volumeConditions.contrast === 'T1w' && t.compare.views[1].volumeConditions.contrast === 'FLAIR'",
    ),
  );
  expect(t.compare.views.map((v) => v.volumeSeed)).toEqual([42, 42]);
  const t1 = await viewShot(page, t.compare.views[0].id, 'compare-t1w');
  const flair = await viewShot(page, t.compare.views[1].id, 'compare-flair');
  expect(await diffFraction(page, t1, flair), 'T1w and FLAIR differ').toBeGreaterThan(0.01);

  // four viewers, each its own; back to one
  await controls.getByRole('radio', { name: '4 viewers' }).check();
  t = await waitTeach(page, allReady(4));
  expect(new Set(t.compare.views.map((v) => v.volumeSeed))).toEqual(new Set([42]));
  for (const name of ['A', 'B', 'C', 'D'])
    await expect(page.getByRole('region', { name: `Viewer ${name}` })).toBeVisible();
  // each viewer has its own conditions: C becomes male, the others stay
  const c = page.getByRole('region', { name: 'Viewer C' });
  await c.getByText('Conditions of C').click();
  await c.getByRole('radio', { name: 'male', exact: true }).check();
  t = await waitTeach(page, allReady(4, "t.compare.views[2].volumeConditions.sex === 'male'"));
  expect(t.compare.views.map((v) => v.volumeConditions!.sex)).toEqual([
    'female',
    'female',
    'male',
    'female',
  ]);
  await c.getByText('Conditions of C').click();
  await docShot(page, 'compare-4');
  await controls.getByRole('radio', { name: '1 viewer' }).check();
  await expect(page.getByTestId('compare-grid')).toHaveCount(0);
  await expect(page.getByTestId('viewer-canvas')).toHaveCount(1);
});
