/** Workflow (c): download image, labels and sidecar; check what is in the files. */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { openApp, type AppState } from './helpers';

async function download(page: Page, button: RegExp) {
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button }).click(),
  ]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), bytes: readFileSync(file) };
}

function checkNifti(gz: Buffer, state: AppState, datatypes: number[]) {
  expect(gz[0]).toBe(0x1f); // gzip magic
  expect(gz[1]).toBe(0x8b);
  const nii = gunzipSync(gz);
  const dv = new DataView(nii.buffer, nii.byteOffset, nii.byteLength);
  expect(dv.getInt32(0, true), 'sizeof_hdr').toBe(348);
  const dim = [0, 1, 2, 3].map((i) => dv.getInt16(40 + 2 * i, true));
  expect(dim).toEqual([3, ...state.volume!.dims]);
  const datatype = dv.getInt16(70, true);
  expect(datatypes).toContain(datatype);
  const bitpix = dv.getInt16(72, true);
  const pixdim = [1, 2, 3].map((i) => dv.getFloat32(76 + 4 * i, true));
  expect(pixdim).toEqual([2, 2, 2]);
  const voxOffset = dv.getFloat32(108, true);
  expect(voxOffset).toBeGreaterThanOrEqual(352);
  expect(dv.getInt16(254, true), 'sform_code').toBeGreaterThan(0);
  const srow = [280, 296, 312].map((o) => [0, 1, 2, 3].map((i) => dv.getFloat32(o + 4 * i, true)));
  // 2 mm, RAS+ (positive diagonal), no rotation; translation = the model grid's origin
  expect([srow[0][0], srow[1][1], srow[2][2]]).toEqual([2, 2, 2]);
  expect([srow[0][1], srow[0][2], srow[1][0], srow[1][2], srow[2][0], srow[2][1]]).toEqual([
    0, 0, 0, 0, 0, 0,
  ]);
  const affine = state.volume!.affine!;
  expect([srow[0][3], srow[1][3], srow[2][3]]).toEqual([affine[0][3], affine[1][3], affine[2][3]]);
  expect(String.fromCharCode(nii[344], nii[345], nii[346])).toBe('n+1');
  const nvox = dim[1] * dim[2] * dim[3];
  expect(nii.length).toBeGreaterThanOrEqual(voxOffset + (nvox * bitpix) / 8);
  return { nii, dv, datatype, voxOffset, nvox };
}

test('downloads image, labels and sidecar as valid files', async ({ page }) => {
  const state = await openApp(page, '?backend=cpu&seed=123&age=45&sex=female');
  const base = 'brainsynth_123_age45_female';

  const image = await download(page, /Download image/);
  expect(image.name).toBe(`${base}_T1w.nii.gz`);
  const img = checkNifti(image.bytes, state, [16]); // float32
  let nonzero = 0;
  for (let i = 0; i < img.nvox; i += 97)
    if (img.dv.getFloat32(img.voxOffset + 4 * i, true) > 0) nonzero++;
  expect(nonzero).toBeGreaterThan(0);

  const labels = await download(page, /Download labels/);
  expect(labels.name).toBe(`${base}_dseg.nii.gz`);
  const lab = checkNifti(labels.bytes, state, [2, 4, 8, 512, 768]); // integer types
  expect(lab.dv.getInt16(68, true), 'intent_code NIFTI_INTENT_LABEL').toBe(1002);

  const sidecar = await download(page, /Download sidecar/);
  expect(sidecar.name).toBe(`${base}_T1w.json`);
  const json = JSON.parse(sidecar.bytes.toString('utf8'));
  const text = JSON.stringify(json);
  expect(text).toContain('"seed":123');
  expect(text).toContain(state.model!.id);
  expect(text).toContain(state.model!.version);
  expect(text).toMatch(/"age":45/);
  expect(text).toMatch(/"sex":"female"/);
  expect(text).toMatch(/ventric/i); // measured regional volumes
});
