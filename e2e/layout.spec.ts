/**
 * Layout at common laptop sizes (1280×800, 1366×768): the page is exactly the viewport (no
 * blank band under the status bar), the left panel scrolls so Full size, Measured volumes and
 * a file error are reachable and unclipped, banners and the readout sit outside the canvas
 * (never over NiiVue's orientation letters). Screenshots: test-results/screenshots/layout-*.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { appState, openApp, pageShot } from './helpers';

async function box(l: Locator) {
  const b = await l.boundingBox();
  expect(b, 'element has a box').not.toBeNull();
  return b!;
}

/** Scrolled into view, the element lies wholly inside the (scrolling) left panel. */
async function expectReachable(page: Page, l: Locator, what: string) {
  await l.scrollIntoViewIfNeeded();
  const p = await box(page.getByRole('complementary', { name: 'Controls' }));
  const b = await box(l);
  expect(b.y, `${what}: top`).toBeGreaterThanOrEqual(p.y - 0.5);
  expect(b.y + b.height, `${what}: bottom`).toBeLessThanOrEqual(p.y + p.height + 0.5);
  expect(b.x + b.width, `${what}: right edge`).toBeLessThanOrEqual(p.x + p.width + 0.5);
}

for (const [width, height] of [
  [1280, 800],
  [1366, 768],
] as const) {
  test(`layout at ${width}×${height}`, async ({ page }) => {
    await page.setViewportSize({ width, height });
    await openApp(page, '?backend=cpu&seed=5&pathology=ms');
    // the page is the viewport: nothing below the footer, no page scroll
    const size = await page.evaluate(() => ({
      scroll: document.documentElement.scrollHeight,
      body: document.body.scrollHeight,
      inner: window.innerHeight,
      scrollW: document.documentElement.scrollWidth,
      innerW: window.innerWidth,
    }));
    expect(size.scroll).toBe(size.inner);
    expect(size.body).toBe(size.inner);
    expect(size.scrollW).toBe(size.innerW);
    const footer = await box(page.locator('.footer'));
    expect(footer.y + footer.height).toBeCloseTo(height, 0);
    await pageShot(page, `layout-${width}x${height}`);

    await expectReachable(
      page,
      page.getByRole('button', { name: 'Full size (1 mm)' }),
      'Full size',
    );
    const volumes = page.getByText('Measured volumes');
    await volumes.click();
    await expectReachable(page, page.locator('.volumes table'), 'Measured volumes');
    await volumes.click();

    // a file error with a long name: reachable, wrapped, not clipped
    const name = `${'a-very-long-file-name-'.repeat(4)}.nii.gz`;
    await page
      .getByLabel('Open NIfTI…')
      .setInputFiles({ name, mimeType: 'application/gzip', buffer: Buffer.from([1, 2, 3]) });
    const err = page.getByRole('alert').filter({ hasText: 'Could not open' });
    await expect(err).toBeVisible();
    await expectReachable(page, err, 'file error');
    await pageShot(page, `layout-${width}x${height}-file-error`);
    await err.getByRole('button', { name: 'Dismiss' }).click();

    // the readout sits below the canvas, not over it
    const canvas = await box(page.getByTestId('viewer-canvas'));
    const readout = await box(page.locator('.readout'));
    expect(readout.y).toBeGreaterThanOrEqual(canvas.y + canvas.height - 0.5);
    expect((await appState(page)).status).toBe('ready');
  });
}

/**
 * The Full size result line at both laptop sizes: every fact ("seed …", "age …", "12.3 s on
 * cpu") is whole on one line (the line wraps only between facts), no two facts overlap and
 * all lie inside the left panel. Uses the real backend of playwright.config.ts (a glioma at a
 * 10-digit seed: the longest line the panel shows).
 */
const BACKEND = `http://127.0.0.1:${process.env.BRAINSYNTH_E2E_BACKEND_PORT ?? '8765'}`;

for (const [width, height] of [
  [1280, 800],
  [1366, 768],
] as const) {
  test(`Full size result line at ${width}×${height}`, async ({ page }) => {
    await page.setViewportSize({ width, height });
    await openApp(page, `?backend=cpu&seed=4294967295&pathology=glioma&backend_url=${BACKEND}`);
    await page.getByRole('button', { name: 'Full size (1 mm)' }).click();
    const line = page.getByTestId('fullsize-result');
    await expect(line).toBeVisible({ timeout: 200_000 });
    await line.scrollIntoViewIfNeeded();
    const facts = line.locator('.result-title, .result-fact');
    const n = await facts.count();
    expect(n).toBeGreaterThanOrEqual(5);
    const lineHeight = await line.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight));
    const boxes = [];
    for (let i = 0; i < n; i++) {
      const f = facts.nth(i);
      const b = await box(f);
      const text = (await f.textContent()) ?? '';
      // one line: a fact is never taller than one line box, and it has one client rect
      expect(b.height, `"${text}" on one line`).toBeLessThan(lineHeight * 1.5);
      expect(await f.evaluate((el) => el.getClientRects().length), `"${text}" rects`).toBe(1);
      await expectReachable(page, f, `"${text}"`);
      boxes.push(b);
    }
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const overlap =
          a.x < b.x + b.width - 0.5 &&
          b.x < a.x + a.width - 0.5 &&
          a.y < b.y + b.height - 0.5 &&
          b.y < a.y + a.height - 0.5;
        expect(overlap, `facts ${i} and ${j} overlap`).toBe(false);
      }
    // no clipping: the paragraph shows all of its content
    expect(await line.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    await line.screenshot({
      path: `test-results/screenshots/fullsize-result-${width}x${height}.png`,
    });
    if (width === 1366) {
      const dir = process.env.BRAINSYNTH_DOC_SHOTS ? 'docs/img' : 'test-results/doc-img';
      await page.locator('.fullsize-result').screenshot({ path: `${dir}/fullsize-result.png` });
    }
    const s = (await appState(page)) as unknown as { fullSize: { phase: string } };
    expect(s.fullSize.phase).toBe('done');
  });
}
