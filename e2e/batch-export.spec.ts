/**
 * Workflow: batch export in the browser. Order 2 subjects (age range, share of women,
 * pathology), watch the progress, get one zip: a BIDS derivative dataset (description,
 * participants.tsv/.json, dseg.tsv, per subject image + label map + sidecars). Cancel stops a
 * longer batch midway and saves nothing.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { openApp, pageShot } from './helpers';
import { readZip } from './zip';

interface BatchState {
  phase: string;
  total: number;
  done: number;
  fileName: string | null;
  subjects: { participantId: string; age: number; sex: string; pathology: string; seed: number }[];
}
const batch = (page: Page): Promise<BatchState> =>
  page.evaluate(() =>
    JSON.parse(
      JSON.stringify(
        (window as unknown as { __brainsynth: { batch: unknown } }).__brainsynth.batch,
      ),
    ),
  );

async function fillForm(page: Page, count: string) {
  const panel = page.getByRole('region', { name: 'Batch export (BIDS)' });
  await panel.getByLabel('Subjects').fill(count);
  await panel.getByLabel('Youngest age').fill('60');
  await panel.getByLabel('Oldest age').fill('70');
  await panel.getByLabel('Women (%)').fill('50');
  await panel.getByLabel('Disease').selectOption('glioma');
  await panel.getByLabel('Batch seed').fill('21');
  return panel;
}

test('2 subjects as a BIDS zip, with progress', async ({ page }) => {
  await openApp(page, '?backend=cpu&seed=3');
  const panel = await fillForm(page, '2');
  const download = page.waitForEvent('download', { timeout: 200_000 });
  await panel.getByRole('button', { name: 'Export BIDS zip' }).click();
  // progress is shown while it runs (the page stays usable: the sample runs in the worker)
  await expect(panel.getByRole('progressbar', { name: 'Batch progress' })).toBeVisible();
  await expect(panel.getByTestId('batch-progress')).toHaveText(/of 2 subjects/);
  await pageShot(page, 'batch-running');
  const dl = await download;
  expect(dl.suggestedFilename()).toBe('brainsynth-batch-21.zip');
  await expect(panel.getByTestId('batch-progress')).toHaveText('2 of 2 subjects');
  await expect(panel.getByTestId('batch-file')).toHaveText('brainsynth-batch-21.zip');
  const docDir = process.env.BRAINSYNTH_DOC_SHOTS ? 'docs/img' : 'test-results/doc-img';
  await panel.screenshot({ path: `${docDir}/batch-export.png` });

  const files = readZip(readFileSync((await dl.path())!));
  const d = 'brainsynth-batch-21/';
  expect([...files.keys()].sort()).toEqual(
    [
      'README',
      'dataset_description.json',
      'dseg.tsv',
      'participants.json',
      'participants.tsv',
      'sub-00001/anat/sub-00001_T1w.json',
      'sub-00001/anat/sub-00001_T1w.nii.gz',
      'sub-00001/anat/sub-00001_dseg.json',
      'sub-00001/anat/sub-00001_dseg.nii.gz',
      'sub-00002/anat/sub-00002_T1w.json',
      'sub-00002/anat/sub-00002_T1w.nii.gz',
      'sub-00002/anat/sub-00002_dseg.json',
      'sub-00002/anat/sub-00002_dseg.nii.gz',
    ].map((f) => d + f),
  );
  const desc = JSON.parse(files.get(`${d}dataset_description.json`)!.toString());
  expect(desc.DatasetType).toBe('derivative');
  expect(desc.GeneratedBy[0]).toMatchObject({ Name: 'brainsynth' });
  expect(desc.GeneratedBy[0].Version).toMatch(/^\d+\.\d+\.\d+/);

  // participants.tsv: one row per subject, the covariates asked for
  const rows = files
    .get(`${d}participants.tsv`)!
    .toString()
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  expect(rows[0]).toEqual([
    'participant_id',
    'age',
    'sex',
    'pathology',
    'seed',
    'icv_ml',
    'lesion_ml',
  ]);
  expect(rows.slice(1).map((r) => r[0])).toEqual(['sub-00001', 'sub-00002']);
  expect(
    rows
      .slice(1)
      .map((r) => r[2])
      .sort(),
  ).toEqual(['female', 'male']); // 50 % women
  const state = await batch(page);
  for (const [i, r] of rows.slice(1).entries()) {
    expect(Number(r[1])).toBeGreaterThanOrEqual(60);
    expect(Number(r[1])).toBeLessThanOrEqual(70);
    expect(r[3]).toBe('glioma');
    expect(Number(r[5])).toBeGreaterThan(1000); // measured ICV, mL
    expect(Number(r[6])).toBeGreaterThan(1); // the tumour, mL
    expect(state.subjects[i]).toMatchObject({ participantId: r[0], seed: Number(r[4]) });
  }
  // the label map is a NIfTI of the model's grid with the tumour's labels
  const seg = gunzipSync(files.get(`${d}sub-00001/anat/sub-00001_dseg.nii.gz`)!);
  expect(seg.readInt32LE(0)).toBe(348);
  expect([1, 2, 3].map((i) => seg.readInt16LE(40 + 2 * i))).toEqual([96, 120, 104]);
  const side = JSON.parse(files.get(`${d}sub-00001/anat/sub-00001_T1w.json`)!.toString());
  expect(side).toMatchObject({ Seed: Number(rows[1][4]), SkullStripped: false });
  expect(side.Conditions).toMatchObject({ pathology: 'glioma', age: Number(rows[1][1]) });
  expect(files.get(`${d}dseg.tsv`)!.toString()).toMatch(/^index\tname\n0\tUnknown\n/);
});

test('Cancel stops a batch midway; nothing is saved', async ({ page }) => {
  await openApp(page, '?backend=cpu&seed=3');
  const panel = await fillForm(page, '10');
  const downloads: string[] = [];
  page.on('download', (d) => downloads.push(d.suggestedFilename()));
  await panel.getByRole('button', { name: 'Export BIDS zip' }).click();
  await expect(panel.getByTestId('batch-progress')).toHaveText(/^[1-9] of 10 subjects/, {
    timeout: 120_000,
  });
  await panel.getByRole('button', { name: 'Cancel batch' }).click();
  await expect(panel.getByTestId('batch-cancelled')).toContainText('nothing was saved');
  const s = await batch(page);
  expect(s.phase).toBe('cancelled');
  expect(s.done).toBeLessThan(10);
  expect(s.fileName).toBeNull();
  await expect(panel.getByRole('button', { name: 'Cancel batch' })).toHaveCount(0);
  // a new batch of 1 runs and is the only download: the cancelled one never saves
  await panel.getByLabel('Subjects').fill('1');
  const dl = page.waitForEvent('download', { timeout: 120_000 });
  await panel.getByRole('button', { name: 'Export BIDS zip' }).click();
  await dl;
  expect(downloads).toEqual(['brainsynth-batch-21.zip']);
  expect((await batch(page)).phase).toBe('done');

  // a wrong spec is refused, with the reason, before anything runs
  await panel.getByLabel('Subjects').fill('51');
  await panel.getByRole('button', { name: 'Export BIDS zip' }).click();
  await expect(panel.getByTestId('batch-problems')).toContainText(
    'Subjects must be a whole number from 1 to 50',
  );
});
