/**
 * Blinded reading session (a visual Turing test): a real scan made in the test + one matched
 * synthetic brain, read blind, a reload in the middle, the results on screen and as CSV — and
 * no network request carries the real scan (every request's URL, method and body size).
 */
import { expect, test, type Request } from '@playwright/test';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { nonBlackFraction, openApp, SAMPLE_TIMEOUT, SCREENSHOT_DIR } from './helpers';

const REAL_NAME = 'my-real-scan.nii.gz';
const shotOf = (n: number) => path.join(SCREENSHOT_DIR, `review-case-${n}.png`);

/** A head-like float32 NIfTI-1: an ellipsoid with texture and noise, 1.5 mm, not centred. */
function realScan(): Buffer {
  const dims = [96, 112, 96];
  const vox = 1.5;
  const nvox = dims[0] * dims[1] * dims[2];
  const buf = Buffer.alloc(352 + nvox * 4);
  buf.writeInt32LE(348, 0);
  [3, ...dims, 1, 1, 1, 1].forEach((v, i) => buf.writeInt16LE(v, 40 + 2 * i));
  buf.writeInt16LE(16, 70);
  buf.writeInt16LE(32, 72);
  [1, vox, vox, vox, 1, 1, 1, 1].forEach((v, i) => buf.writeFloatLE(v, 76 + 4 * i));
  buf.writeFloatLE(352, 108);
  buf.writeFloatLE(1, 112);
  buf.writeInt16LE(1, 254); // sform, 1.5 mm, offset from the model's grid
  [
    [vox, 0, 0, -60],
    [0, vox, 0, -90],
    [0, 0, vox, -50],
  ].forEach((row, r) => row.forEach((v, i) => buf.writeFloatLE(v, 280 + 16 * r + 4 * i)));
  buf.write('n+1\0', 344, 'latin1');
  let s = 12345;
  const noise = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 40;
  for (let z = 0, i = 0; z < dims[2]; z++)
    for (let y = 0; y < dims[1]; y++)
      for (let x = 0; x < dims[0]; x++, i++) {
        const r = Math.hypot((x - 48) / 40, (y - 56) / 48, (z - 48) / 38);
        const v =
          r < 1 ? 400 + 300 * Math.cos(r * 9) + 100 * Math.sin(x / 3) * Math.cos(y / 4) : 10;
        buf.writeFloatLE(Math.max(0, v + noise()), 352 + 4 * i);
      }
  return gzipSync(buf);
}

test('a blinded reading session: blind cases, reload mid-session, results + CSV, nothing uploaded', async ({
  page,
}) => {
  const requests: { url: string; method: string; bodyBytes: number }[] = [];
  const log = (r: Request) =>
    requests.push({ url: r.url(), method: r.method(), bodyBytes: r.postDataBuffer()?.length ?? 0 });
  page.on('request', log);

  await openApp(page, '?backend=cpu&seed=3');
  await page.getByRole('button', { name: 'Blinded reading session' }).click();
  const dialog = page.getByRole('dialog', { name: 'Blinded reading session' });
  await expect(dialog).toBeVisible();

  const bytes = realScan();
  await dialog.getByLabel('Add real scans').setInputFiles({
    name: REAL_NAME,
    mimeType: 'application/gzip',
    buffer: bytes,
  });
  // age and sex are unknown for a NIfTI: the reviewer gives them (contrast defaults to T1w)
  await dialog.getByRole('button', { name: 'Start session' }).click();
  await expect(dialog.getByRole('alert')).toContainText(`${REAL_NAME}: enter the age`);
  await dialog.getByLabel(`Age of ${REAL_NAME}`).fill('64');
  await dialog.getByLabel(`Sex of ${REAL_NAME}`).selectOption('female');
  await expect(dialog.getByLabel(`Contrast of ${REAL_NAME}`)).toHaveValue('T1w');
  await dialog.getByRole('button', { name: 'Start session' }).click();

  await expect(dialog.getByRole('heading', { name: 'Case 1 of 2' })).toBeVisible({
    timeout: SAMPLE_TIMEOUT,
  });
  const next = dialog.getByRole('button', { name: 'Next case' });
  await dialog.getByLabel('real', { exact: true }).check();
  await expect(next).toBeEnabled({ timeout: SAMPLE_TIMEOUT });
  // blind: no file name, no conditions, no label overlay on the case
  await expect(dialog).not.toContainText(REAL_NAME);
  await expect(dialog).not.toContainText(/seed|female|64 y/);
  await page.waitForTimeout(500); // a frame for NiiVue
  const shot = await dialog.getByLabel('Case image').screenshot();
  expect(await nonBlackFraction(page, shot)).toBeGreaterThan(0.03);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: shotOf(1) });

  await dialog.getByLabel('Realism 4').check();
  await dialog.getByLabel('Comment').fill('smooth cortex, "too clean"');
  await next.click();
  await expect(dialog.getByRole('heading', { name: 'Case 2 of 2' })).toBeVisible({
    timeout: SAMPLE_TIMEOUT,
  });
  // the real scan, conformed, is in this browser's IndexedDB (and only there)
  const stored = await page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const req = indexedDB.open('brainsynth-review');
        req.onsuccess = () => {
          const c = req.result.transaction('volumes').objectStore('volumes').count();
          c.onsuccess = () => resolve(c.result);
          c.onerror = () => reject(c.error);
        };
        req.onerror = () => reject(req.error);
      }),
  );
  expect(stored).toBe(1);

  // reload mid-session: it comes back at case 2
  await page.reload();
  const again = page.getByRole('dialog', { name: 'Blinded reading session' });
  await expect(again.getByRole('heading', { name: 'Case 2 of 2' })).toBeVisible({
    timeout: SAMPLE_TIMEOUT,
  });
  await expect(again).toContainText('Session restored (1 of 2 cases read)');
  const finish = again.getByRole('button', { name: 'Finish' });
  await again.getByLabel('synthetic', { exact: true }).check();
  await expect(finish).toBeEnabled({ timeout: SAMPLE_TIMEOUT });
  await page.waitForTimeout(500);
  await page.screenshot({ path: shotOf(2) });
  await again.getByLabel('Realism 2').check();
  await finish.click();

  // results: accuracy with its interval, each case revealed
  await expect(again.getByText(/^Accuracy: \d+ % \(95 % CI \d+ %–\d+ %; \d of 2\)$/)).toBeVisible();
  const rows = again.locator('.review-table tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(again.locator('.review-table')).toContainText(REAL_NAME);
  await expect(again.locator('.review-table')).toContainText(
    /synthetic: 64 y, female, T1w, seed \d+/,
  );

  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    again.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  expect(dl.suggestedFilename()).toMatch(/^reading-session-.*\.csv$/);
  const csv = readFileSync(await dl.path(), 'utf8')
    .trim()
    .split('\n');
  expect(csv[0]).toBe(
    'case,truth,answer,correct,confidence_pct,realism_1to5,time_s,age,sex,contrast,seed,source,comment',
  );
  expect(csv).toHaveLength(3);
  const realRow = csv.find((l) => l.includes(REAL_NAME))!;
  const synthRow = csv.find((l) => !l.startsWith('case,') && !l.includes(REAL_NAME))!;
  // case 1 was answered "real", case 2 "synthetic": each row says whether that was right
  expect(realRow).toMatch(/^\d,real,(real,true|synthetic,false),/);
  expect(synthRow).toMatch(/^\d,synthetic,(synthetic,true|real,false),/);
  // the synthetic case's screenshot (the user guide's docs/img/review-session.png is one,
  // reduced to 128 colours; the real case here is the test's phantom)
  copyFileSync(
    shotOf(Number(synthRow.split(',')[0])),
    path.join(SCREENSHOT_DIR, 'review-synthetic.png'),
  );
  const shownCorrect = csv.slice(1).filter((l) => l.split(',')[3] === 'true').length;
  await expect(again.getByText(`; ${shownCorrect} of 2)`, { exact: false }).first()).toBeVisible();

  // nothing of the real scan went over the network: only bodiless GETs of the app's origin
  const origin = new URL(page.url()).origin;
  const remote = requests.filter((r) => !r.url.startsWith('data:') && !r.url.startsWith('blob:'));
  expect(remote.length).toBeGreaterThan(0);
  for (const r of remote) {
    expect(r.method, r.url).toBe('GET');
    expect(r.bodyBytes, r.url).toBe(0);
    expect(r.url.startsWith(origin), r.url).toBe(true);
    expect(r.url).not.toContain('my-real-scan');
  }
});
