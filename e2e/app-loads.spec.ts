/** Workflow (a): open the app → a brain appears; the status bar says which backend runs. */
import { expect, test } from '@playwright/test';
import { canvasShot, nonBlackFraction, openApp, pageShot } from './helpers';

test('loads, generates and renders a brain (CPU backend)', async ({ page }) => {
  const state = await openApp(page, '?backend=cpu&seed=1');
  await expect(page).toHaveTitle('BrainSynth — interactive brain MRI synthesizer');
  await expect(page.getByRole('status', { name: 'Status' })).toHaveText('Ready');
  await expect(page.getByTestId('backend')).toHaveText('CPU');
  expect(state.backend).toBe('cpu');
  expect(state.volume?.dims).toHaveLength(3);
  expect(state.lastSampleMs).toBeGreaterThan(0);
  await expect(page.getByTestId('sample-ms')).toHaveText(/^\d+ ms$/);
  // the shipped model has a distilled student: it is the default sampler
  expect(state.volume?.sampler).toBe('student');
  await expect(page.getByTestId('sampler')).toHaveText('Distilled');
  await expect(page.getByTestId('model')).toContainText(state.model!.id);
  await expect(page.getByText(/not for diagnosis/)).toBeVisible();

  const png = await canvasShot(page, 'app-cpu');
  const filled = await nonBlackFraction(page, png);
  expect(filled, 'share of non-black canvas pixels').toBeGreaterThan(0.05);
  await pageShot(page, 'app-cpu-page');
});

test('?sampler=exact: the exact sampler makes the same brain as the distilled student', async ({
  page,
}) => {
  const student = await openApp(page, '?backend=cpu&seed=1&age=70');
  const exact = await openApp(page, '?backend=cpu&seed=1&age=70&sampler=exact');
  expect(exact.volume?.sampler).toBe('exact');
  await expect(page.getByTestId('sampler')).toHaveText('Exact');
  expect(page.url()).toContain('sampler=exact');
  for (const region of ['cortex', 'cerebral-wm', 'lateral-ventricles', 'hippocampus']) {
    const a = student.volume!.regionalVolumesMl[region];
    const b = exact.volume!.regionalVolumesMl[region];
    expect(Math.abs(a / b - 1), `${region}: student ${a} vs exact ${b} mL`).toBeLessThan(0.03);
  }
  const png = await canvasShot(page, 'app-exact-sampler');
  expect(await nonBlackFraction(page, png)).toBeGreaterThan(0.05);
});

test('runs on WebGPU in this Chromium when asked, making the same brain as the CPU', async ({
  page,
}) => {
  test.slow(); // software WebGPU (SwiftShader) is slow
  type Summary = {
    labelsChecksum: string;
    regionalVolumesMl: Record<string, number>;
    labelCentroidsMm: Record<string, number[]>;
  };
  const state = await openApp(page, '?backend=webgpu&seed=1&age=70&pathology=ms');
  expect(state.backend).toBe('webgpu');
  await expect(page.getByTestId('backend')).toHaveText('WebGPU');
  const png = await canvasShot(page, 'app-webgpu');
  expect(await nonBlackFraction(page, png)).toBeGreaterThan(0.05);
  // parity of the GPU path (tfjs ops on WebGPU) with the CPU path, same recipe
  const gpu = state.volume as unknown as Summary;
  const cpuState = await openApp(page, '?backend=cpu&seed=1&age=70&pathology=ms');
  expect(cpuState.backend).toBe('cpu');
  const cpu = cpuState.volume as unknown as Summary;
  console.log(
    `WebGPU vs CPU: labels checksum ${gpu.labelsChecksum} vs ${cpu.labelsChecksum}; ` +
      Object.keys(cpu.regionalVolumesMl)
        .map(
          (r) =>
            `${r} ${gpu.regionalVolumesMl[r]?.toFixed(2)}/${cpu.regionalVolumesMl[r].toFixed(2)}`,
        )
        .join(', '),
  );
  expect(Object.keys(gpu.labelCentroidsMm).sort()).toEqual(
    Object.keys(cpu.labelCentroidsMm).sort(),
  );
  for (const [region, ml] of Object.entries(cpu.regionalVolumesMl))
    expect(gpu.regionalVolumesMl[region], region).toBeCloseTo(ml, 0);
  expect(gpu.labelsChecksum).toBe(cpu.labelsChecksum);
});

test("'auto' picks a backend and says why (hover)", async ({ page }) => {
  test.slow();
  const state = await openApp(page, '?seed=1');
  expect(['webgpu', 'webgl', 'wasm', 'cpu']).toContain(state.backend);
  expect(state.backendReason.length).toBeGreaterThan(3);
  const item = page.locator('.statusbar .item', { has: page.getByTestId('backend') });
  await expect(item).toHaveAttribute('title', state.backendReason);
});
