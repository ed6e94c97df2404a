/**
 * Research: the recipe (JSON) and the URL both reproduce the identical volume — the same
 * checksum of the label map — and a recipe from another model version says so.
 */
import { expect, test } from '@playwright/test';
import { afterSample, openApp, pageShot } from './helpers';

type Summary = { labelsChecksum: string; seed: number; modelVersion: string };

test('the recipe and the URL reproduce the identical volume', async ({ page }) => {
  test.slow();
  const first = await openApp(page, '?backend=cpu&seed=42&age=70&pathology=ms');
  const want = (first.volume as unknown as Summary).labelsChecksum;
  expect(want).toMatch(/^[0-9a-f]{8}$/);
  const link = page.url();
  expect(link).toContain(`model=${first.model!.id}@${first.model!.version}`);

  await page.getByText('Recipe (reproduce this brain)').click();
  const box = page.getByLabel('Recipe JSON');
  await expect(box).toBeVisible();
  const recipe = JSON.parse(await box.inputValue());
  expect(recipe).toMatchObject({
    format: 'brainsynth-recipe',
    model: first.model,
    seed: 42,
    conditions: { age: 70, pathology: 'ms' },
  });
  await pageShot(page, 'recipe-panel');

  // a different brain, then the recipe pasted and applied: the same labels again
  const other = await openApp(page, '?backend=cpu&seed=3&age=30');
  expect((other.volume as unknown as Summary).labelsChecksum).not.toBe(want);
  await page.getByText('Recipe (reproduce this brain)').click();
  const applied = await afterSample(page, async () => {
    await page.getByLabel('Recipe JSON').fill(JSON.stringify(recipe));
    await page.getByRole('button', { name: 'Apply recipe' }).click();
  });
  expect((applied.volume as unknown as Summary).labelsChecksum).toBe(want);
  expect(applied.seed).toBe(42);
  expect(applied.errors).toEqual([]);

  // the shared link, opened fresh
  const fromLink = await openApp(page, link.slice(link.indexOf('?')));
  expect((fromLink.volume as unknown as Summary).labelsChecksum).toBe(want);
  expect(fromLink.errors).toEqual([]);

  // a recipe from another model version: applied, with a notice
  await page.getByText('Recipe (reproduce this brain)').click();
  const older = { ...recipe, model: { ...recipe.model, version: '0.0.0-old' } };
  await page.getByLabel('Recipe JSON').fill(JSON.stringify(older));
  await page.getByRole('button', { name: 'Apply recipe' }).click();
  const notice = page.getByRole('alert', { name: 'Refused parameters' });
  await expect(notice).toContainText('This recipe was made with version 0.0.0-old');
  await expect(notice).toContainText('may give a different brain');
  await pageShot(page, 'recipe-other-version');
});
