import { describe, expect, it, vi } from 'vitest';
import { AppController } from './controller';
import { createFakeEngine, FakeViewer, flush, seedCounter, smallSchema } from './testing/fakes';
import { readUrl } from './url';

function setup(search: string) {
  const viewer = new FakeViewer();
  const history = { replaceState: vi.fn() };
  const controller = new AppController({
    engine: createFakeEngine(),
    modelUrl: '/m/',
    createViewer: async () => viewer,
    location: { search, pathname: '/', hash: '' },
    history,
    randomSeed: seedCounter(1),
    saveBlob: () => undefined,
  });
  return { controller, viewer, history };
}

describe('review mode', () => {
  it('?review=1: radiological convention, label overlay off; kept in the URL', async () => {
    const { controller, viewer, history } = setup('?seed=3&review=1');
    controller.attachViewer({} as HTMLCanvasElement);
    await controller.start();
    await flush();
    expect(controller.snapshot().viewer).toMatchObject({
      review: true,
      radiological: true,
      overlay: false,
    });
    expect(viewer.radiological).toBe(true);
    expect(viewer.overlay).toBe(false);
    expect(history.replaceState.mock.lastCall?.[2]).toContain('review=1');
    // off again: labels back, neurological; the URL follows
    controller.viewer.getState().setReview(false);
    expect(viewer.overlay).toBe(true);
    expect(viewer.radiological).toBe(false);
    expect(history.replaceState.mock.lastCall?.[2]).not.toContain('review');
  });

  it('a bad review value is refused with a reason', () => {
    const s = readUrl('?review=maybe', smallSchema, createFakeEngine(), seedCounter());
    expect(s.review).toBe(false);
    expect(s.errors).toEqual(['review: "maybe" is not 1 or 0']);
  });

  it('window presets of the generated volume set the viewer window', async () => {
    const { controller, viewer } = setup('?seed=3&contrast=T1w');
    controller.attachViewer({} as HTMLCanvasElement);
    await controller.start();
    await flush();
    const presets = controller.windowPresets();
    expect(presets.map((p) => p.name)).toContain('Full range');
    const full = presets.find((p) => p.name === 'Full range')!;
    controller.applyWindowPreset('Full range');
    expect(viewer.window).toEqual([full.min, full.max]);
    controller.applyWindowPreset('no such preset');
    expect(viewer.window).toEqual([full.min, full.max]);
  });
});

describe('opening window', () => {
  it("a generated volume opens at the brain's window (the Brain preset), not NiiVue's", async () => {
    const { controller, viewer } = setup('?seed=3&contrast=T1w');
    controller.attachViewer({} as HTMLCanvasElement);
    await controller.start();
    await flush();
    const brain = controller.windowPresets().find((p) => p.name === 'Brain');
    expect(brain).toBeDefined();
    expect(viewer.openingWindows).toEqual([[brain!.min, brain!.max]]);
    expect(brain!.max).toBeGreaterThan(brain!.min);
  });
});
