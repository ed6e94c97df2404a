/**
 * Workflow: "Full size (1 mm)" against the REAL backend (`python -m brainsynth.server`, started
 * for this run by playwright.config.ts with a fresh data folder): the app sends the current
 * conditions and seed, shows the job's progress, then the same brain at 1 mm in the viewer, and
 * offers the 1 mm files. And: with no backend the app says how to start one and keeps working.
 */
import { expect, test, type Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  afterSample,
  appState,
  canvasShot,
  diffFraction,
  nonBlackFraction,
  openApp,
  pageShot,
  type AppState,
} from './helpers';

const BACKEND = `http://127.0.0.1:${process.env.BRAINSYNTH_E2E_BACKEND_PORT ?? '8765'}`;
/** 1 mm generation takes ~10–20 s on a 2-core CPU; more when the cores are shared. */
const JOB_TIMEOUT = 150_000;

interface FullSizeState {
  url: string;
  availability: string;
  device: string | null;
  phase: string;
  progress: number;
  stage: string;
  error: string | null;
  showing: 'browser' | 'full-size';
  result: {
    seconds: number;
    generationSeconds: number | null;
    timings: Record<string, number>;
    files: { image: string; labels: string; sidecar: string };
    volume: { dims: number[]; spacing: number[]; affine: number[][]; seed: number };
  } | null;
}
type View = { dims: number[] | null; spacing: number[] | null };
type State = AppState & { fullSize: FullSizeState; viewer: { view: View } };

const state = async (page: Page) => (await appState(page)) as State;

async function download(page: Page, button: RegExp) {
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button }).click(),
  ]);
  return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
}

/** NIfTI-1 header fields of a .nii.gz. */
function header(gz: Buffer) {
  expect([gz[0], gz[1]], 'gzip magic').toEqual([0x1f, 0x8b]);
  const nii = gunzipSync(gz);
  const dv = new DataView(nii.buffer, nii.byteOffset, nii.byteLength);
  expect(dv.getInt32(0, true), 'sizeof_hdr').toBe(348);
  expect(String.fromCharCode(nii[344], nii[345], nii[346])).toBe('n+1');
  const voxOffset = dv.getFloat32(108, true);
  const dim = [0, 1, 2, 3].map((i) => dv.getInt16(40 + 2 * i, true));
  const bitpix = dv.getInt16(72, true);
  expect(nii.length).toBeGreaterThanOrEqual(voxOffset + (dim[1] * dim[2] * dim[3] * bitpix) / 8);
  return {
    dim,
    datatype: dv.getInt16(70, true),
    pixdim: [1, 2, 3].map((i) => dv.getFloat32(76 + 4 * i, true)),
    sformCode: dv.getInt16(254, true),
    srow: [280, 296, 312].map((o) => [0, 1, 2, 3].map((i) => dv.getFloat32(o + 4 * i, true))),
  };
}

function expectRas1mm(h: ReturnType<typeof header>, affine: number[][]) {
  expect(h.dim).toEqual([3, 192, 240, 208]);
  expect(h.pixdim).toEqual([1, 1, 1]);
  expect(h.sformCode, 'sform_code').toBeGreaterThan(0);
  // RAS+: +1 on the diagonal, no rotation; the origin is the one the viewer shows
  expect([h.srow[0][0], h.srow[1][1], h.srow[2][2]]).toEqual([1, 1, 1]);
  expect([
    h.srow[0][1],
    h.srow[0][2],
    h.srow[1][0],
    h.srow[1][2],
    h.srow[2][0],
    h.srow[2][1],
  ]).toEqual([0, 0, 0, 0, 0, 0]);
  expect([h.srow[0][3], h.srow[1][3], h.srow[2][3]]).toEqual([
    affine[0][3],
    affine[1][3],
    affine[2][3],
  ]);
}

test.beforeAll(() => {
  // never skip: the backend is part of what this spec tests
  expect(
    existsSync('.venv/bin/python'),
    '.venv/bin/python is missing: run `npm test` (scripts/test.sh creates .venv) before the e2e',
  ).toBe(true);
});

test('Full size: the same brain at 1 mm from the backend, shown and downloadable', async ({
  page,
}) => {
  const query = `?backend=cpu&seed=123&age=45&sex=female&backend_url=${BACKEND}`;
  const start = (await openApp(page, query)) as State;
  expect(start.volume!.dims).toEqual([96, 120, 104]);
  await expect(page.getByTestId('backend-device')).toHaveText(/\S/); // found, device named
  const before = await canvasShot(page, 'fullsize-2mm');

  const requests: string[] = [];
  page.on('request', (r) => {
    if (r.url().startsWith(BACKEND))
      requests.push(`${r.method()} ${r.url().slice(BACKEND.length)}`);
  });
  const submitted = page.waitForRequest(
    (r) => r.url() === `${BACKEND}/api/v1/jobs` && r.method() === 'POST',
  );
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Full size (1 mm)' }).click();
  const body = (await submitted).postDataJSON();
  expect(body).toEqual({
    model_id: start.model!.id,
    conditions: start.conditions,
    seed: 123,
    resolution_mm: 1,
    contrasts: ['T1w'],
  });

  // the progress bar moves (never backwards) up to 100 %
  const bar = page.getByRole('progressbar', { name: 'Full-size progress' });
  await expect(bar).toBeVisible();
  const seen: number[] = [];
  await expect
    .poll(
      async () => {
        const v = Number(await bar.getAttribute('aria-valuenow'));
        if (seen.at(-1) !== v) seen.push(v);
        return v;
      },
      { timeout: JOB_TIMEOUT, intervals: [250] },
    )
    .toBe(100);
  const tJob = Date.now();
  expect(seen).toEqual([...seen].sort((a, b) => a - b));
  expect(
    seen.some((v) => v > 0 && v < 100),
    `intermediate progress in ${seen}`,
  ).toBe(true);

  // … then the 1 mm volume is what the viewer shows
  await expect(page.getByTestId('showing')).toContainText('Showing: full size 1 mm (backend)', {
    timeout: 60_000,
  });
  const tShown = Date.now();
  const s = await state(page);
  expect(s.fullSize.error).toBeNull();
  expect(s.fullSize.phase).toBe('done');
  expect(s.viewer.view.dims).toEqual([192, 240, 208]);
  expect(s.viewer.view.spacing).toEqual([1, 1, 1]);
  const full = s.fullSize.result!;
  expect(full.volume.dims).toEqual([192, 240, 208]);
  expect(full.volume.spacing).toEqual([1, 1, 1]);
  expect(full.volume.seed).toBe(123);
  // same brain: the 1 mm grid covers the 2 mm one (voxel centres half a 2 mm voxel inside)
  for (let r = 0; r < 3; r++)
    expect(full.volume.affine[r][3]).toBeCloseTo(start.volume!.affine![r][3] - 0.5, 5);
  await expect(page.getByTestId('fullsize-progress')).toHaveText('100 %');
  // progress came as Server-Sent Events (no polling), then the three files
  const job = requests.find((r) => r.startsWith('POST '))!;
  expect(requests.filter((r) => r.endsWith('/events'))).toHaveLength(1);
  expect(
    requests.filter((r) => /^GET \/api\/v1\/jobs\/[^/]+$/.test(r)),
    'polls',
  ).toEqual([]);
  expect(requests.filter((r) => r.includes('/files/'))).toHaveLength(3);
  expect(job).toBe('POST /api/v1/jobs');

  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
  const after = await canvasShot(page, 'fullsize-1mm');
  await pageShot(page, 'fullsize-page');
  expect(await nonBlackFraction(page, after), 'not blank').toBeGreaterThan(0.1);
  expect(await diffFraction(page, before, after), '1 mm differs from 2 mm').toBeGreaterThan(0.01);

  // the 1 mm files
  const image = await download(page, /Download 1 mm image/);
  expect(image.name).toBe('brainsynth_123_age45_female_1mm_T1w.nii.gz');
  const ih = header(image.bytes);
  expect(ih.datatype, 'float32').toBe(16);
  expectRas1mm(ih, full.volume.affine);
  const labels = await download(page, /Download 1 mm labels/);
  expect(labels.name).toBe('brainsynth_123_age45_female_1mm_dseg.nii.gz');
  const lh = header(labels.bytes);
  expect([2, 4, 8, 512, 768], 'integer labels').toContain(lh.datatype);
  expectRas1mm(lh, full.volume.affine);
  const sidecar = await download(page, /Download 1 mm sidecar/);
  expect(sidecar.name).toBe('brainsynth_123_age45_female_1mm_T1w.json');
  const json = JSON.parse(sidecar.bytes.toString('utf8'));
  expect(json).toMatchObject({
    seed: 123,
    resolutionMm: 1,
    dims: [192, 240, 208],
    conditions: { age: 45, sex: 'female' },
  });

  // and back: the browser's 2 mm sample
  await page.getByRole('button', { name: 'Back to browser 2 mm' }).click();
  await expect(page.getByTestId('showing')).toContainText('Showing: browser 2 mm');
  await expect.poll(async () => (await state(page)).viewer.view.dims).toEqual([96, 120, 104]);

  console.log(
    `full size: click → 100 % ${((tJob - t0) / 1000).toFixed(1)} s, → on screen ` +
      `${((tShown - t0) / 1000).toFixed(1)} s (app: ${full.seconds.toFixed(1)} s; ` +
      `${Object.entries(full.timings)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}; server generation ${full.generationSeconds} s on ${s.fullSize.device})`,
  );
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

test('Full size without a backend: says how to start one; the app keeps working', async ({
  page,
}) => {
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}`;
  await openApp(page, `?backend=cpu&seed=5&age=50&backend_url=${url}`);
  const absent = page.getByRole('status', { name: 'Backend absent' });
  await expect(absent).toContainText(`No full-size backend at ${url}`);
  await expect(absent).toContainText('npm run backend');

  await page.getByRole('button', { name: 'Full size (1 mm)' }).click();
  await expect(absent).toBeVisible();
  await expect.poll(async () => (await state(page)).fullSize.phase).toBe('idle');
  const s = await state(page);
  expect(s.fullSize).toMatchObject({ availability: 'absent', result: null, showing: 'browser' });
  expect(s.error).toBeNull();
  await expect(page.getByRole('progressbar', { name: 'Full-size progress' })).toHaveCount(0);
  await pageShot(page, 'fullsize-absent');

  // the browser's own generation is untouched
  const next = await afterSample(page, () =>
    page.getByRole('button', { name: 'New subject' }).click(),
  );
  expect(next.seed).not.toBe(5);
  expect(next.volume!.dims).toEqual([96, 120, 104]);
});
