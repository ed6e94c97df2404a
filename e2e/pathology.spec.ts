/**
 * Workflow (e): each pathology renders, and its labels are in the generated label map
 * (Alzheimer's has no lesion label: it enlarges the ventricles instead).
 */
import { expect, test } from '@playwright/test';
import {
  afterSample,
  canvasShot,
  lateralVentriclesMl,
  nonBlackFraction,
  openApp,
  type AppState,
} from './helpers';

const LESION_LABELS: Record<string, number[]> = {
  ms: [701],
  glioma: [711, 712],
  stroke: [721],
};

test('every pathology renders with its labels', async ({ page }) => {
  test.slow();
  const healthy = await openApp(page, '?backend=cpu&seed=11&age=60');
  for (const labels of Object.values(LESION_LABELS))
    for (const l of labels) expect(healthy.volume!.labelsPresent).not.toContain(l);

  const select = page.getByLabel('Pathology');
  const results: Record<string, AppState> = {};
  for (const pathology of ['alzheimers', 'ms', 'glioma', 'stroke']) {
    const s = await afterSample(page, () => select.selectOption(pathology).then(() => undefined));
    results[pathology] = s;
    expect(s.conditions.pathology).toBe(pathology);
    expect(s.volume!.conditions.pathology).toBe(pathology);
    expect(s.seed).toBe(11);
    for (const l of LESION_LABELS[pathology] ?? [])
      expect(s.volume!.labelsPresent, `${pathology} label ${l}`).toContain(l);
    const png = await canvasShot(page, `pathology-${pathology}`);
    expect(await nonBlackFraction(page, png)).toBeGreaterThan(0.05);
    expect(page.url()).toContain(`pathology=${pathology}`);
  }
  // the pathology-specific controls follow the choice (x-showWhen)
  await expect(page.getByLabel('Stroke size', { exact: true })).toBeVisible();
  await expect(page.getByLabel('AD severity', { exact: true })).toHaveCount(0);

  expect(lateralVentriclesMl(results.alzheimers)).toBeGreaterThan(lateralVentriclesMl(healthy));
});

test('glioma in the post-contrast T1: the contrast selector offers T1c and the rim enhances', async ({
  page,
}) => {
  test.slow();
  await openApp(page, '?backend=cpu&seed=11&age=60&pathology=glioma&gliomaRadiusMm=20');
  const contrast = page.getByLabel('Contrast', { exact: true });
  await expect(contrast.locator('option[value="T1c"]')).toHaveText('T1 post-contrast (gadolinium)');
  const s = await afterSample(page, () => contrast.selectOption('T1c').then(() => undefined));
  expect(s.volume!.conditions.contrast).toBe('T1c');
  expect(s.volume!.labelsPresent).toEqual(expect.arrayContaining([711, 712, 713]));
  expect(page.url()).toContain('contrast=T1c');
  const png = await canvasShot(page, 'glioma-t1c');
  expect(await nonBlackFraction(page, png)).toBeGreaterThan(0.05);
});
