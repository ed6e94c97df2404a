/**
 * Teaching — explain: the brain's regional volumes against the model's normative curve for its
 * age and sex (centile bands, the brain as a point), hover names the structure; then the
 * large-type presentation mode.
 */
import { expect, test, type Page } from '@playwright/test';
import { afterSample, openApp } from './helpers';
import { docShot, waitTeach } from './teach';

/** Fractions of curve-blue and point-yellow pixels in a PNG, decoded in the page. */
async function chartColours(page: Page, png: Buffer): Promise<{ blue: number; yellow: number }> {
  return page.evaluate(async (b64) => {
    const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
    const bmp = await createImageBitmap(blob);
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bmp, 0, 0);
    const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    let blue = 0;
    let yellow = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (b > 170 && r < 120 && g > 120) blue++;
      if (r > 200 && g > 150 && b < 120) yellow++;
    }
    const n = d.length / 4;
    return { blue: blue / n, yellow: yellow / n };
  }, png.toString('base64'));
}

test('explain: regional volumes on the normative curve; hover names the structure', async ({
  page,
}) => {
  await openApp(page, '?backend=cpu&seed=42&age=70&sex=female');
  const controls = page.getByRole('complementary', { name: 'Controls' });
  await controls.getByText('Explain: regional volumes').click();
  let t = await waitTeach(page, "t.explain.status === 'ready' && t.explain.rows.length >= 8");
  const hip = t.explain.rows.find((r) => r.region === 'hippocampus')!;
  expect(hip.ml).toBeGreaterThan(1);
  expect(hip.median).toBeGreaterThan(1);
  expect(hip.centile).toBeGreaterThan(0);
  expect(hip.centile).toBeLessThan(100);
  console.log(
    'explain rows (female, 70 y): ' +
      t.explain.rows
        .map(
          (r) =>
            `${r.region} ${r.ml.toFixed(1)} mL (median ${r.median.toFixed(1)}, c${r.centile.toFixed(0)})`,
        )
        .join('; '),
  );
  const chart = page.getByTestId('explain-chart');
  await expect(chart).toHaveAttribute('aria-label', /hippocampus volume by age for females/);
  await expect(chart.locator('canvas')).toBeVisible();
  const png = await chart.screenshot();
  const colours = await chartColours(page, png);
  expect(colours.blue, 'curve and bands drawn').toBeGreaterThan(0.002);
  expect(colours.yellow, 'this brain drawn as a point').toBeGreaterThan(0);

  // hover over the chart names the structure and the centiles at that age
  const box = (await chart.locator('canvas').first().boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await expect(page.getByTestId('explain-hover')).toContainText(
    /hippocampus, female \d+ y: median/,
  );
  // hover over a row names it too
  await controls
    .getByRole('row', { name: /lateral ventricles/ })
    .first()
    .hover();
  await expect(page.getByTestId('explain-hover')).toContainText(/^lateral ventricles: /);
  // choose another structure (keyboard-operable buttons and a select)
  await controls.getByRole('button', { name: 'lateral ventricles', exact: true }).click();
  await expect(chart).toHaveAttribute('aria-label', /lateral ventricles volume by age/);
  await docShot(page, 'explain');

  // an older brain: the medians follow its age
  const lvAt70 = t.explain.rows.find((r) => r.region === 'lateral-ventricles')!;
  await afterSample(page, () => controls.getByLabel('Age', { exact: true }).fill('85'));
  t = await waitTeach(page, 't.explain.rows.length >= 8');
  const lvAt85 = t.explain.rows.find((r) => r.region === 'lateral-ventricles')!;
  expect(lvAt85.median).toBeGreaterThan(lvAt70.median);
  expect(lvAt85.ml).toBeGreaterThan(lvAt70.ml);

  // presentation mode: larger type and controls, toggled by a named button
  const h1 = page.getByRole('heading', { level: 1 });
  const before = (await h1.boundingBox())!.height;
  const toggle = page.getByRole('button', { name: 'Presentation mode' });
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(async () => (await h1.boundingBox())!.height).toBeGreaterThan(before * 1.3);
  t = await waitTeach(page, 't.presentation');
  await docShot(page, 'presentation');
  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
});
