/**
 * Accessibility: axe-core (via @axe-core/playwright) finds no serious or critical violation in
 * the app as it opens, with the recipe and measured volumes open, and in review mode; every
 * control can be reached with the keyboard.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { openApp } from './helpers';

async function seriousViolations(page: Page): Promise<string[]> {
  const res = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
  return res.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
}

test('no serious accessibility violations (axe-core)', async ({ page }) => {
  await openApp(page, '?backend=cpu&seed=8&pathology=ms');
  expect(await seriousViolations(page)).toEqual([]);

  await page.getByText('Recipe (reproduce this brain)').click();
  await page.getByText('Measured volumes').click();
  expect(await seriousViolations(page)).toEqual([]);

  await page.getByLabel('Review mode (radiological, no labels)').check();
  await expect(page.getByLabel('Label overlay')).not.toBeChecked();
  await expect(page.getByLabel('Radiological convention')).toBeChecked();
  expect(page.url()).toContain('review=1');
  expect(await seriousViolations(page)).toEqual([]);
});

test('Place by clicking and the batch export: no serious violations; keyboard operable', async ({
  page,
}) => {
  await openApp(page, '?backend=cpu&seed=8&pathology=glioma');
  const place = page.getByRole('button', { name: 'Place by clicking' });
  await place.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: /Placing: click in the viewer/ })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  const batch = page.getByRole('region', { name: 'Batch export (BIDS)' });
  await batch.getByLabel('Subjects').fill('0');
  await batch.getByRole('button', { name: 'Export BIDS zip' }).press('Enter');
  await expect(batch.getByTestId('batch-problems')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
});

test('every button, input and select has an accessible name and takes keyboard focus', async ({
  page,
}) => {
  await openApp(page, '?backend=cpu&seed=8');
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('button, input, select, textarea')]
      .filter((el) => !(el as HTMLElement).hidden)
      .filter((el) => {
        const e = el as HTMLInputElement;
        const label = e.labels && e.labels.length > 0;
        return !label && !e.getAttribute('aria-label') && !(e.textContent ?? '').trim();
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  expect(unnamed).toEqual([]);
  // Tab reaches "New subject" from the top of the page
  let reached = false;
  for (let i = 0; i < 60 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.textContent === 'New subject');
  }
  expect(reached, 'Tab reaches New subject').toBe(true);
});
