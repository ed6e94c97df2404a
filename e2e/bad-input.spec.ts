/**
 * Workflow (d): bad input is refused visibly and the app keeps working — invalid URL values,
 * and malformed NIfTI uploads (a small corpus).
 */
import { expect, test } from '@playwright/test';
import { gzipSync } from 'node:zlib';
import { afterSample, appState, canvasShot, nonBlackFraction, openApp } from './helpers';

for (const [query, param] of [
  ['?backend=cpu&age=200', 'age'],
  ['?backend=cpu&sex=robot', 'sex'],
] as const) {
  test(`refuses ${query.split('&')[1]} with a visible message and renders defaults`, async ({
    page,
  }) => {
    const state = await openApp(page, query);
    const alert = page.getByRole('alert', { name: 'Refused parameters' });
    await expect(alert).toBeVisible();
    await expect(alert).toContainText(param);
    await expect(alert).toContainText(/the default .* is used/);
    expect(state.errors.join(' ')).toContain(param);
    expect(state.conditions).toMatchObject({ age: 45, sex: 'female', pathology: 'none' });
    await expect(page.getByLabel('Age', { exact: true })).toHaveValue('45');
    const png = await canvasShot(page, `refused-${param}`);
    expect(await nonBlackFraction(page, png)).toBeGreaterThan(0.05);
  });
}

/** A minimal valid NIfTI-1 (float32, 8³, 2 mm). */
function tinyNifti(): Buffer {
  const n = 8;
  const buf = Buffer.alloc(352 + n * n * n * 4);
  buf.writeInt32LE(348, 0);
  [3, n, n, n, 1, 1, 1, 1].forEach((v, i) => buf.writeInt16LE(v, 40 + 2 * i));
  buf.writeInt16LE(16, 70); // float32
  buf.writeInt16LE(32, 72);
  [1, 2, 2, 2, 1, 1, 1, 1].forEach((v, i) => buf.writeFloatLE(v, 76 + 4 * i));
  buf.writeFloatLE(352, 108);
  buf.writeFloatLE(1, 112); // scl_slope
  buf.writeInt16LE(0, 252);
  buf.writeInt16LE(1, 254); // sform
  [
    [2, 0, 0, -8],
    [0, 2, 0, -8],
    [0, 0, 2, -8],
  ].forEach((row, r) => row.forEach((v, i) => buf.writeFloatLE(v, 280 + 16 * r + 4 * i)));
  buf.write('n+1\0', 344, 'latin1');
  for (let i = 0; i < n * n * n; i++) buf.writeFloatLE((i % 64) * 10, 352 + 4 * i);
  return buf;
}

function corpus(): { name: string; buffer: Buffer }[] {
  const good = tinyNifti();
  const random = Buffer.alloc(1000);
  let x = 12345;
  for (let i = 0; i < random.length; i++) random[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const hugeDims = Buffer.from(good.subarray(0, 352));
  [3, 30000, 30000, 30000].forEach((v, i) => hugeDims.writeInt16LE(v, 40 + 2 * i));
  const negDim = Buffer.from(good);
  negDim.writeInt16LE(-5, 42);
  const badType = Buffer.from(good);
  badType.writeInt16LE(1234, 70);
  return [
    { name: 'empty.nii.gz', buffer: Buffer.alloc(0) },
    { name: 'random.nii', buffer: random },
    { name: 'corrupt.nii.gz', buffer: Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), random]) },
    { name: 'truncated-header.nii.gz', buffer: gzipSync(good.subarray(0, 200)) },
    { name: 'truncated-data.nii', buffer: good.subarray(0, 1000) },
    { name: 'huge-dims.nii', buffer: hugeDims },
    { name: 'negative-dim.nii.gz', buffer: gzipSync(negDim) },
    { name: 'bad-datatype.nii', buffer: badType },
  ];
}

test('malformed NIfTI uploads show an error and the app keeps working', async ({ page }) => {
  await openApp(page, '?backend=cpu&seed=3');
  const input = page.getByLabel('Open NIfTI…');
  for (const file of corpus()) {
    await input.setInputFiles({
      name: file.name,
      mimeType: 'application/octet-stream',
      buffer: file.buffer,
    });
    const alert = page.getByRole('alert').filter({ hasText: `Could not open "${file.name}"` });
    await expect(alert, file.name).toBeVisible();
    const s = await appState(page);
    expect(s.viewer.userFile, file.name).toBeNull();
    expect(s.status).toBe('ready');
    await alert.getByRole('button', { name: 'Dismiss' }).click();
  }
  // still generating
  const after = await afterSample(page, () =>
    page.getByRole('button', { name: 'New subject' }).click(),
  );
  expect(after.seed).not.toBe(3);
  const png = await canvasShot(page, 'after-corrupt-uploads');
  expect(await nonBlackFraction(page, png)).toBeGreaterThan(0.05);

  // a valid file opens, and the generated brain comes back
  await input.setInputFiles({
    name: 'tiny.nii.gz',
    mimeType: 'application/gzip',
    buffer: gzipSync(tinyNifti()),
  });
  await expect(page.getByText('Showing uploaded file')).toBeVisible();
  expect((await appState(page)).viewer.userFile).toBe('tiny.nii.gz');
  await page.getByRole('button', { name: 'Back to generated brain' }).click();
  await expect(page.getByText('Showing uploaded file')).toBeHidden();
});
