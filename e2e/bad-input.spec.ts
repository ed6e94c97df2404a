/**
 * Workflow (d): bad input is refused visibly and the app keeps working — invalid URL values,
 * and malformed NIfTI uploads (a small corpus).
 */
import { expect, test } from '@playwright/test';
import { gzipSync } from 'node:zlib';
import { afterSample, appState, canvasShot, nonBlackFraction, openApp, pageShot } from './helpers';

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

/** NIfTI-1 header + data: `dims` (3 or 4 of them), datatype uint8 (2) or float32 (16). */
function nifti(dims: number[], datatype: 2 | 16, fill: (i: number) => number): Buffer {
  const bpv = datatype === 2 ? 1 : 4;
  const nvox = dims.reduce((a, b) => a * b, 1);
  const buf = Buffer.alloc(352 + nvox * bpv);
  buf.writeInt32LE(348, 0);
  [dims.length, ...dims, 1, 1, 1, 1, 1, 1, 1].slice(0, 8).forEach((v, i) => {
    buf.writeInt16LE(v, 40 + 2 * i);
  });
  buf.writeInt16LE(datatype, 70);
  buf.writeInt16LE(bpv * 8, 72);
  [1, 1, 1, 1, 1, 1, 1, 1].forEach((v, i) => buf.writeFloatLE(v, 76 + 4 * i));
  buf.writeFloatLE(352, 108);
  buf.writeFloatLE(1, 112);
  buf.writeInt16LE(1, 254); // sform: 1 mm, centred
  [
    [1, 0, 0, -dims[0] / 2],
    [0, 1, 0, -dims[1] / 2],
    [0, 0, 1, -dims[2] / 2],
  ].forEach((row, r) => row.forEach((v, i) => buf.writeFloatLE(v, 280 + 16 * r + 4 * i)));
  buf.write('n+1\0', 344, 'latin1');
  if (datatype === 2) for (let i = 0; i < nvox; i++) buf[352 + i] = fill(i);
  else for (let i = 0; i < nvox; i++) buf.writeFloatLE(fill(i), 352 + 4 * i);
  return buf;
}

test('bad uploads: all-NaN and 4D are refused with a reason; nothing else breaks', async ({
  page,
}) => {
  await openApp(page, '?backend=cpu&seed=3');
  const input = page.getByLabel('Open NIfTI…');
  for (const [name, buffer, reason] of [
    ['all-nan.nii', nifti([16, 16, 16], 16, () => NaN), /no finite values/],
    ['series-4d.nii.gz', gzipSync(nifti([16, 16, 16, 5], 16, (i) => i % 7)), /4D image.*5 volumes/],
  ] as const) {
    await input.setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
    const alert = page.getByRole('alert').filter({ hasText: `Could not open "${name}"` });
    await expect(alert, name).toBeVisible();
    await expect(alert).toContainText(reason);
    const s = await appState(page);
    expect(s.viewer.userFile).toBeNull();
    await pageShot(page, `upload-refused-${name.split('.')[0]}`);
    await alert.getByRole('button', { name: 'Dismiss' }).click();
  }
  // a partly NaN image opens, and says what was done
  await input.setInputFiles({
    name: 'some-nan.nii',
    mimeType: 'application/octet-stream',
    buffer: nifti([32, 32, 32], 16, (i) => (i % 97 === 0 ? NaN : (i % 32) * 3)),
  });
  await expect(page.getByTestId('upload-notes')).toContainText('NaN/infinite voxels shown as 0');
  // the banner sits above the canvas, never over it (nor over its orientation letters)
  const banner = await page.locator('.banner').first().boundingBox();
  const canvas = await page.getByTestId('viewer-canvas').boundingBox();
  expect(banner!.y + banner!.height).toBeLessThanOrEqual(canvas!.y + 0.5);
  await page.getByRole('button', { name: 'Back to generated brain' }).click();
});

test('a 512³ uint8 file is decoded off the main thread and downsampled for display', async ({
  page,
}) => {
  test.slow();
  await openApp(page, '?backend=cpu&seed=3');
  const n = 512;
  const c = n / 2;
  // a bright ball in a dark box (so the view is not black)
  const big = gzipSync(
    nifti([n, n, n], 2, (i) => {
      const x = i % n;
      const y = Math.floor(i / n) % n;
      const z = Math.floor(i / (n * n));
      return (x - c) ** 2 + (y - c) ** 2 + (z - c) ** 2 < (0.4 * n) ** 2 ? 200 : 10;
    }),
    { level: 1 },
  );
  // the longest gap between main-thread timer ticks while the file opens
  await page.evaluate(() => {
    const w = window as unknown as {
      __gap: number;
      __gaps: number[][];
      __tick: number;
      __timer: number;
    };
    w.__gap = 0;
    w.__gaps = [];
    w.__tick = performance.now();
    w.__timer = window.setInterval(() => {
      const t = performance.now();
      w.__gap = Math.max(w.__gap, t - w.__tick);
      if (t - w.__tick > 200) w.__gaps.push([Math.round(w.__tick), Math.round(t - w.__tick)]);
      w.__tick = t;
    }, 20);
  });
  const t0 = Date.now();
  await page.getByLabel('Open NIfTI…').setInputFiles({
    name: 'big-512.nii.gz',
    mimeType: 'application/gzip',
    buffer: big,
  });
  await expect(page.getByText('Showing uploaded file')).toBeVisible({ timeout: 120_000 });
  const seconds = (Date.now() - t0) / 1000;
  const gap = await page.evaluate(() => {
    const w = window as unknown as { __gap: number; __gaps: number[][]; __timer: number };
    window.clearInterval(w.__timer);
    return { max: w.__gap, gaps: w.__gaps };
  });
  const timing = ((await appState(page)) as unknown as { viewer: { lastUploadMs: unknown } }).viewer
    .lastUploadMs;
  console.log(
    `512³ uint8 upload: shown after ${seconds.toFixed(1)} s, main-thread gaps ${JSON.stringify(gap.gaps)}, app timings ${JSON.stringify(timing)}`,
  );
  await expect(page.getByTestId('upload-notes')).toContainText(
    'downsampled 4× for display (512×512×512 → 128×128×128',
  );
  const s = await appState(page);
  expect(s.viewer.userFile).toBe('big-512.nii.gz');
  expect(s.viewer.fileError).toBeNull();
  // off the main thread = the page keeps ticking while the file decodes: no freeze covers more
  // than half of the decode (on the main thread one freeze would cover all of it). The viewer's
  // own load after the decode is main-thread work and is not counted here.
  const t = timing as { start: number; decode: number };
  expect(t.decode, 'the app timed the decode').toBeGreaterThan(0);
  const overlap = Math.max(
    0,
    ...gap.gaps.map(
      ([from, len]) => Math.min(from + len, t.start + t.decode) - Math.max(from, t.start),
    ),
  );
  expect(overlap, 'the page kept ticking while the file decoded').toBeLessThan(0.5 * t.decode);
  const png = await canvasShot(page, 'upload-512-downsampled');
  expect(await nonBlackFraction(page, png)).toBeGreaterThan(0.05);
});
