/**
 * Workflow (b): keep subject on, the same person at 30 and at 80 — the image changes and the
 * measured lateral ventricles grow; "New subject" shows another individual.
 */
import { expect, test } from '@playwright/test';
import {
  afterSample,
  appState,
  canvasShot,
  diffFraction,
  lateralVentriclesMl,
  openApp,
} from './helpers';

test('the same subject ages from 30 to 80; new subject changes the image', async ({ page }) => {
  const young = await openApp(page, '?backend=cpu&seed=42&age=30');
  expect(young.keepSubject).toBe(true);
  await expect(page.getByLabel('Keep subject')).toBeChecked();
  const shot30 = await canvasShot(page, 'subject-age30');

  const old = await afterSample(page, () => page.getByLabel('Age', { exact: true }).fill('80'));
  expect(old.conditions.age).toBe(80);
  expect(old.seed).toBe(42);
  expect(old.volume!.seed).toBe(42);
  await expect(page.getByLabel('Age value')).toHaveValue('80');
  const shot80 = await canvasShot(page, 'subject-age80');
  expect(await diffFraction(page, shot30, shot80), 'age 30 vs 80 differ').toBeGreaterThan(0.002);
  const v30 = lateralVentriclesMl(young);
  const v80 = lateralVentriclesMl(old);
  expect(v80, `lateral ventricles ${v30.toFixed(1)} → ${v80.toFixed(1)} mL`).toBeGreaterThan(v30);
  expect(page.url()).toContain('age=80');
  expect(page.url()).toContain('seed=42');

  const other = await afterSample(page, () =>
    page.getByRole('button', { name: 'New subject' }).click(),
  );
  expect(other.seed).not.toBe(42);
  const shotNew = await canvasShot(page, 'subject-new');
  expect(await diffFraction(page, shot80, shotNew), 'new subject differs').toBeGreaterThan(0.002);
});

test('dragging the age slider samples once, on release', async ({ page }) => {
  const start = await openApp(page, '?backend=cpu&seed=7&age=40');
  const slider = page.getByLabel('Age', { exact: true });
  const box = (await slider.boundingBox())!;
  const y = box.y + box.height / 2;
  // 40 of 20..90 is ~29 % along the track
  await page.mouse.move(box.x + box.width * 0.29, y);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + box.width * (0.29 + i * 0.06), y);
  const during = await appState(page);
  expect(during.samples, 'no sampling while dragging').toBe(start.samples);
  expect(during.status).toBe('ready');
  const after = await afterSample(page, () => page.mouse.up());
  expect(after.samples).toBe(start.samples + 1);
  expect(Number(after.conditions.age)).toBeGreaterThan(60);
});
