/**
 * Workflow: order a small dataset from the REAL backend (started by playwright.config.ts with
 * a fresh data folder) and follow it to its QA report — what a researcher sees in the panel.
 */
import { expect, test } from '@playwright/test';
import { existsSync } from 'node:fs';
import { openApp } from './helpers';

const BACKEND = `http://127.0.0.1:${process.env.BRAINSYNTH_E2E_BACKEND_PORT ?? '8765'}`;

test.beforeAll(() => {
  expect(existsSync('.venv/bin/python'), '.venv/bin/python is missing: run `npm test`').toBe(true);
});

test('order a dataset: a bad spec is refused with its reasons, a good one runs to its QA report', async ({
  page,
}) => {
  await openApp(page, `?backend=cpu&backend_url=${BACKEND}`);
  await page.getByText('Order a dataset').click();
  const spec = page.getByLabel('Dataset spec (JSON)');
  await expect(spec).toBeVisible();

  // not JSON: refused here, nothing sent
  await spec.fill('{"count": 2,');
  await page.getByRole('button', { name: 'Order dataset' }).click();
  await expect(page.getByTestId('dataset-error')).toContainText('not valid JSON');

  // JSON the server refuses (count 0, NaN-free but out of range): its reason is shown
  await spec.fill(JSON.stringify({ count: 0, seed: 1 }));
  await page.getByRole('button', { name: 'Order dataset' }).click();
  await expect(page.getByTestId('dataset-error')).toContainText('refused');
  await expect(page.getByTestId('dataset-error')).toContainText('count');

  // a real one: 2 subjects at 2 mm
  const posted = page.waitForRequest(
    (r) => r.url() === `${BACKEND}/api/v1/datasets` && r.method() === 'POST',
  );
  await spec.fill(
    JSON.stringify({ name: 'e2e', count: 2, seed: 7, resolutionMm: 2, contrasts: ['T1w'] }),
  );
  await page.getByRole('button', { name: 'Order dataset' }).click();
  expect((await posted).postDataJSON()).toMatchObject({ count: 2, seed: 7, resolutionMm: 2 });
  const status = page.getByTestId('dataset-status');
  await expect(status).toContainText(/queued|running|succeeded/);
  await expect(status).toContainText('succeeded', { timeout: 180_000 });
  await expect(status).toContainText('2 of 2 subjects');
  await expect(page.getByTestId('dataset-error')).toHaveCount(0);

  await page.screenshot({ path: 'test-results/screenshots/dataset-panel.png' });
  const qa = page.getByRole('link', { name: 'QA report' });
  await expect(qa).toBeVisible();
  const href = await qa.getAttribute('href');
  expect(href).toContain(`${BACKEND}/api/v1/datasets/`);
  const res = await page.request.get(href!);
  expect(res.status()).toBe(200);
  expect(await res.text()).toContain('<html');
});
