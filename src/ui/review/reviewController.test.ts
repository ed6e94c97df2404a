import { describe, expect, it } from 'vitest';
import type { Conditions } from '../../engine/types';
import { FakeViewer, fakeVolume, flush } from '../testing/fakes';
import type { PreparedUpload } from '../upload';
import { ReviewController } from './reviewController';
import { memoryStorage, type ReviewStorage } from './storage';

/** A "real" 1 mm scan: a bright block, far from the model's grid, values in the thousands. */
function realScan(): PreparedUpload {
  const n = 12;
  const data = new Float32Array(n * n * n).map((_, i) => (i % 5) * 300 + 1000);
  return {
    dims: [n, n, n],
    affine: [
      [1, 0, 0, 50],
      [0, 1, 0, 50],
      [0, 0, 1, 50],
      [0, 0, 0, 1],
    ],
    data,
    notes: [],
  };
}

function setup(storage: ReviewStorage = memoryStorage(), clock = { t: 1000 }) {
  const samples: { values: Record<string, unknown>; seed: number }[] = [];
  const saved: { name: string; blob: Blob }[] = [];
  const viewer = new FakeViewer();
  const shownData: Float32Array[] = [];
  viewer.showUserVolume = async (v, name) => {
    viewer.userShown.push(name);
    shownData.push(v.data as Float32Array);
  };
  let r = 0;
  const review = new ReviewController({
    sample: async (values, seed) => {
      samples.push({ values, seed });
      return fakeVolume({ ...values, pathology: 'none' } as unknown as Conditions, seed);
    },
    model: () => ({ id: 'fake-model', version: '0.0.1' }),
    decode: async () => realScan(),
    createViewer: async () => viewer,
    save: (blob, name) => saved.push({ blob, name }),
    storage,
    now: () => clock.t,
    random: () => (r = (r * 9301 + 49297) % 233280) / 233280,
  });
  return { review, samples, saved, viewer, shownData, storage, clock };
}

const file = (name = 'my-scan.nii.gz') => new File([new Uint8Array([1, 2, 3])], name);

async function started(t = setup()) {
  t.review.attachViewer({} as HTMLCanvasElement);
  await flush();
  t.review.addFiles([file()]);
  const p = t.review.store.getState().pending[0];
  t.review.store.getState().updatePending(p.key, { age: 62, sex: 'male' });
  await t.review.start();
  return t;
}

describe('ReviewController', () => {
  it('asks for age and sex before starting', async () => {
    const { review } = setup();
    await review.start();
    expect(review.store.getState().error).toMatch(/at least one real scan/);
    review.addFiles([file()]);
    await review.start();
    expect(review.store.getState().error).toMatch(/my-scan.nii.gz: enter the age/);
    expect(review.store.getState().phase).toBe('setup');
  });

  it('builds a matched, conformed, blind session and stores only the real volume', async () => {
    const t = await started();
    const s = t.review.store.getState();
    expect(s.error).toBeNull();
    expect(s.phase).toBe('reading');
    expect(s.session!.cases).toHaveLength(2);
    expect(t.samples[0].values).toEqual({ age: 62, sex: 'male', contrast: 'T1w' });
    const real = s.session!.cases.find((c) => c.truth === 'real')!;
    expect((t.storage as ReturnType<typeof memoryStorage>).volumeIds()).toEqual([real.id]);
    const stored = await t.storage.getVolume(real.id);
    expect(stored!.dims).toEqual([4, 3, 2]); // the synthetic grid
    expect(Math.max(...stored!.data)).toBeLessThanOrEqual(1);
    // blind: every case is shown under the same name, overlay off, radiological
    expect(t.viewer.userShown).toEqual(['case']);
    expect(t.viewer.overlay).toBe(false);
    expect(t.viewer.radiological).toBe(true);
    expect(t.shownData[0].length).toBe(24);
  });

  it('records answers with their time, survives a reload, and summarises', async () => {
    const t = await started();
    t.clock.t += 4200;
    await t.review.answer({ answer: 'real', confidence: 90, realism: 4, comment: 'ok' });
    const mid = t.review.store.getState().session!;
    expect(mid.answers[0].timeMs).toBe(4200);

    // reload: a new controller on the same storage regenerates the synthetic case
    const again = setup(t.storage, t.clock);
    await again.review.restore();
    again.review.attachViewer({} as HTMLCanvasElement);
    await flush();
    await flush();
    const st = again.review.store.getState();
    expect(st.open).toBe(true);
    expect(st.phase).toBe('reading');
    expect(st.notice).toMatch(/1 of 2 cases read/);
    expect(st.caseShown).toBe(true);
    expect(again.viewer.userShown.length).toBeGreaterThan(0);
    t.clock.t += 1000;
    await again.review.answer({ answer: 'synthetic', confidence: 60, realism: 2, comment: '' });
    expect(again.review.store.getState().phase).toBe('done');
    const sum = again.review.summary()!;
    expect(sum.accuracy.n).toBe(2);
    expect(sum.results.map((r) => r.answer.answer)).toEqual(['real', 'synthetic']);
    const correct = sum.results.filter((r) => r.correct).length;
    expect(sum.accuracy.correct).toBe(correct);

    again.review.exportResults('csv');
    again.review.exportResults('json');
    expect(again.saved.map((s) => s.name)).toEqual([
      expect.stringMatching(/^reading-session-.*\.csv$/),
      expect.stringMatching(/^reading-session-.*\.json$/),
    ]);
    const csv = await again.saved[0].blob.text();
    expect(csv.trim().split('\n')).toHaveLength(3);
    expect(csv).toContain('my-scan.nii.gz');

    await again.review.discard();
    expect(await t.storage.loadSession()).toBeNull();
  });

  it('refuses out-of-range answers with a message', async () => {
    const t = await started();
    await t.review.answer({ answer: 'real', confidence: 20, realism: 9, comment: '' });
    expect(t.review.store.getState().error).toMatch(/Confidence is 50–100/);
    expect(t.review.store.getState().session!.answers).toHaveLength(0);
  });

  it('reports a file that cannot be decoded and stays in the setup', async () => {
    const t = setup();
    const review = new ReviewController({
      sample: async () => {
        throw new Error('unused');
      },
      model: () => ({ id: 'm', version: '1' }),
      decode: async () => {
        throw new Error('not a NIfTI file');
      },
      createViewer: async () => t.viewer,
      save: () => undefined,
      storage: memoryStorage(),
    });
    review.addFiles([file('bad.nii')]);
    const p = review.store.getState().pending[0];
    review.store.getState().updatePending(p.key, { age: 40, sex: 'female' });
    await review.start();
    expect(review.store.getState().error).toMatch(/bad.nii: not a NIfTI file/);
    expect(review.store.getState().phase).toBe('setup');
  });
});
