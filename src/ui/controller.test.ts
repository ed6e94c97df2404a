import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_LANE } from '../engine/protocol';
import { AppController } from './controller';
import type { ModelManifest } from './engineApi';
import { lesionFocusMm } from './lesionFocus';
import {
  createFakeEngine,
  FakeViewer,
  flush,
  seedCounter,
  smallManifest,
  type FakeEngine,
} from './testing/fakes';

function setup(search = '', engine: FakeEngine = createFakeEngine()) {
  const history = { replaceState: vi.fn() };
  const saved: { name: string; blob: Blob }[] = [];
  const viewer = new FakeViewer();
  /** Viewers for the next canvases (once empty, every canvas gets `viewer`). */
  const moreViewers: FakeViewer[] = [];
  const controller = new AppController({
    engine,
    modelUrl: '/models/fake/',
    createViewer: async () => moreViewers.shift() ?? viewer,
    location: { search, pathname: '/', hash: '' },
    history,
    randomSeed: seedCounter(500),
    saveBlob: (blob, name) => saved.push({ blob, name }),
  });
  return { controller, engine, viewer, moreViewers, history, saved };
}

describe('AppController', () => {
  it('starts: loads the model, reads the URL, samples once, syncs the URL', async () => {
    const { controller, engine, history } = setup('?age=72&seed=123&backend=cpu');
    await controller.start();
    const e = controller.engine.getState();
    expect(e.status).toBe('ready');
    expect(e.backend).toBe('cpu');
    expect(e.backendReason).toMatch(/cpu/);
    expect(e.lastSampleMs).toBe(12);
    expect(engine.calls).toHaveLength(1);
    expect(engine.calls[0]).toEqual({
      seed: 123,
      conditions: { age: 72, sex: 'female', pathology: 'none', contrast: 'T1w' },
      lane: DEFAULT_LANE,
    });
    expect(history.replaceState).toHaveBeenLastCalledWith(
      null,
      '',
      '/?age=72&sex=female&pathology=none&contrast=T1w&seed=123&backend=cpu&model=fake-model@0.0.1',
    );
  });

  it('?sampler=exact asks the engine for the exact sampler and keeps it in the URL', async () => {
    const { controller, engine, history } = setup('?seed=4&sampler=exact');
    await controller.start();
    expect(engine.calls[0]).toMatchObject({ seed: 4, sampler: 'exact' });
    expect(controller.snapshot().volume?.sampler).toBe('exact');
    expect(history.replaceState.mock.lastCall?.[2]).toMatch(
      /&sampler=exact&model=fake-model@0.0.1$/,
    );
    controller.conditions.getState().setCondition('age', 50);
    await flush();
    expect(engine.calls.at(-1)).toMatchObject({ sampler: 'exact', conditions: { age: 50 } });
  });

  it('without ?sampler= the engine picks its default (the student) and the URL has none', async () => {
    const { controller, engine, history } = setup('?seed=4');
    await controller.start();
    expect(engine.calls[0].sampler).toBeUndefined();
    expect(controller.snapshot().volume?.sampler).toBe('student');
    expect(history.replaceState.mock.lastCall?.[2]).not.toMatch(/sampler/);
  });

  it('refuses bad URL values, shows why and uses defaults', async () => {
    const { controller, engine } = setup('?age=200&sex=robot');
    await controller.start();
    expect(controller.conditions.getState().errors.length).toBeGreaterThanOrEqual(2);
    expect(engine.calls[0].conditions).toMatchObject({ age: 45, sex: 'female' });
    expect(controller.engine.getState().status).toBe('ready');
  });

  it('samples on each committed change; keep subject holds the seed', async () => {
    const { controller, engine } = setup('?seed=7');
    await controller.start();
    controller.conditions.getState().setCondition('age', 80);
    await flush();
    expect(engine.calls.at(-1)).toMatchObject({ seed: 7, conditions: { age: 80 } });
    controller.conditions.getState().newSubject();
    await flush();
    expect(engine.calls.at(-1)!.seed).toBe(500);
    expect(controller.snapshot().volume?.regionalVolumesMl['lateral-ventricles']).toBe(18);
  });

  it('hints the engine with the seed "New subject" will use next, and then uses it', async () => {
    const { controller, engine } = setup('?seed=7');
    await controller.start();
    await flush();
    const hinted = engine.client!.prefetches.at(-1);
    expect(hinted).toBe(500);
    controller.conditions.getState().setCondition('age', 80); // kept subject: the hint stays
    await flush();
    expect(engine.client!.prefetches.at(-1)).toBe(500);
    controller.conditions.getState().newSubject();
    await flush();
    expect(engine.calls.at(-1)!.seed).toBe(hinted);
    expect(engine.client!.prefetches.at(-1)).toBe(501);
  });

  it('sends only the properties relevant to the pathology', async () => {
    const { controller, engine } = setup();
    await controller.start();
    controller.conditions.getState().setCondition('pathology', 'ms');
    await flush();
    expect(engine.calls.at(-1)!.conditions).toHaveProperty('msLesionLoadMl', 8);
    expect(engine.calls.at(-1)!.conditions).not.toHaveProperty('adSeverity');
    expect(controller.snapshot().volume?.labelsPresent).toContain(701);
  });

  it('ignores superseded requests and shows only the newest result', async () => {
    const { controller, engine, viewer } = setup('?seed=1');
    const dispose = controller.attachViewer({} as HTMLCanvasElement);
    await controller.start();
    const client = engine.client!;
    client.manual = true;
    controller.conditions.getState().setCondition('age', 50);
    controller.conditions.getState().setCondition('age', 60);
    await flush();
    expect(controller.engine.getState().status).toBe('sampling');
    client.resolveNext();
    await flush();
    await flush();
    expect(controller.engine.getState().status).toBe('ready');
    expect(controller.engine.getState().error).toBeNull();
    expect(viewer.shown.at(-1)!.metadata.conditions.age).toBe(60);
    expect(viewer.shown.map((v) => v.metadata.conditions.age)).not.toContain(50);
    dispose();
    expect(viewer.disposed).toBe(true);
  });

  it('reports a failed sample and recovers on the next one', async () => {
    const { controller, engine } = setup();
    await controller.start();
    engine.client!.failNext = new Error('GPU lost');
    controller.conditions.getState().setCondition('age', 50);
    await flush();
    expect(controller.engine.getState()).toMatchObject({
      status: 'error',
      error: 'Sampling failed: GPU lost',
    });
    controller.conditions.getState().setCondition('age', 51);
    await flush();
    expect(controller.engine.getState()).toMatchObject({ status: 'ready', error: null });
  });

  it('reports a model that cannot load', async () => {
    const { controller } = setup(
      '',
      createFakeEngine({ failCreate: new Error('404 manifest.json') }),
    );
    await controller.start();
    expect(controller.engine.getState().status).toBe('error');
    expect(controller.engine.getState().error).toMatch(/404 manifest.json/);
  });

  it('downloads image, labels and sidecar with their names', async () => {
    const { controller, saved } = setup('?seed=123');
    await controller.start();
    controller.download('image');
    controller.download('labels');
    controller.download('sidecar');
    expect(saved.map((s) => s.name)).toEqual([
      'brainsynth_123_age45_female_T1w.nii.gz',
      'brainsynth_123_age45_female_dseg.nii.gz',
      'brainsynth_123_age45_female_T1w.json',
    ]);
    expect(JSON.parse(await saved[2].blob.text())).toMatchObject({ seed: 123 });
  });

  it('a corrupt upload gives a visible error and leaves the app working', async () => {
    const { controller, viewer } = setup();
    controller.attachViewer({} as HTMLCanvasElement);
    await controller.start();
    await flush();
    await controller.openFile(new File([new Uint8Array(10)], 'broken.nii.gz'));
    expect(controller.viewer.getState().fileError).toMatch(/broken\.nii\.gz.*too short/);
    expect(viewer.userShown).toEqual([]);
    await controller.openFile(new File([new Uint8Array(400)], 'ok.nii'));
    expect(controller.viewer.getState()).toMatchObject({ fileError: null, userFile: 'ok.nii' });
    controller.conditions.getState().setCondition('age', 60);
    await flush();
    expect(controller.viewer.getState().userFile).toBeNull();
    expect(controller.engine.getState().status).toBe('ready');
  });

  it('passes display settings to the viewer', async () => {
    const { controller, viewer } = setup();
    controller.attachViewer({} as HTMLCanvasElement);
    await flush();
    controller.viewer.getState().setOverlay(false);
    controller.viewer.getState().setOpacity(0.8);
    controller.viewer.getState().setRadiological(true);
    expect(viewer).toMatchObject({ overlay: false, opacity: 0.8, radiological: true });
    viewer.cursorCb!({ mm: [1, 2, 3], intensity: 5, label: 4, name: 'Left-Lateral-Ventricle' });
    expect(controller.snapshot().viewer.cursor?.name).toBe('Left-Lateral-Ventricle');
  });

  it("brings a new pathology's lesion into view once, then keeps the crosshair", async () => {
    const { controller, viewer } = setup('?seed=1');
    controller.attachViewer({} as HTMLCanvasElement);
    await controller.start();
    await flush();
    expect(viewer.movedTo).toEqual([]);
    controller.conditions.getState().setCondition('pathology', 'ms');
    await flush();
    expect(viewer.movedTo).toEqual([[-2, -1, -2]]);
    controller.conditions.getState().setCondition('age', 70);
    await flush();
    expect(viewer.movedTo).toHaveLength(1);
    controller.focusLesion();
    expect(viewer.movedTo).toHaveLength(2);
    expect(lesionFocusMm(controller.engine.getState().volume!, [700, 799])).toEqual([-2, -1, -2]);
  });

  it("the lesion is found by the manifest's labelRanges.pathology, not a fixed range", async () => {
    // a model whose pathology labels live elsewhere: the fake's 701 is then no lesion
    const engine = createFakeEngine({
      manifest: {
        ...smallManifest,
        labelRanges: { ...smallManifest.labelRanges, pathology: [800, 899] },
      },
    });
    const { controller, viewer } = setup('?seed=1&pathology=ms', engine);
    controller.attachViewer({} as HTMLCanvasElement);
    await controller.start();
    await flush();
    controller.focusLesion();
    expect(viewer.movedTo).toEqual([]);
    expect(lesionFocusMm(controller.engine.getState().volume!, [800, 899])).toBeNull();
  });
});

describe('AppController views', () => {
  it('two views sample concurrently in their own lanes without superseding each other', async () => {
    const { controller, engine } = setup('?seed=7');
    await controller.start();
    const client = engine.client!;
    client.manual = true;
    const second = controller.addView();
    expect(controller.views.map((v) => v.id)).toEqual(['main', second.id]);
    expect(second.lane).not.toBe(controller.main.lane);
    // the copy starts from the main view's subject, then goes its own way
    expect(second.conditions.getState().seed).toBe(7);
    second.conditions.getState().setCondition('age', 80);
    controller.conditions.getState().setCondition('age', 30);
    await flush();
    // both views' newest requests are in flight at once (the second view's first one was
    // superseded by its own newer request only)
    expect(client.pendingLanes).toEqual([second.lane, controller.main.lane]);
    expect(second.engine.getState().status).toBe('sampling');
    expect(controller.engine.getState().status).toBe('sampling');
    client.resolveNext(controller.main.lane);
    client.resolveNext(second.lane);
    await flush();
    expect(controller.engine.getState()).toMatchObject({ status: 'ready', error: null });
    expect(second.engine.getState()).toMatchObject({ status: 'ready', error: null });
    expect(controller.engine.getState().volume!.metadata.conditions.age).toBe(30);
    expect(second.engine.getState().volume!.metadata.conditions.age).toBe(80);
    expect(second.engine.getState().volume!.metadata.seed).toBe(7);
  });

  it('each view has its own viewer; a closed view stops following its stores', async () => {
    const { controller, engine, viewer, moreViewers } = setup('?seed=7');
    await controller.start();
    const second = controller.addView();
    const other = new FakeViewer();
    moreViewers.push(other);
    controller.attachViewer({} as HTMLCanvasElement, second);
    await flush();
    expect(other.shown).toHaveLength(1);
    expect(viewer.shown).toHaveLength(0);
    second.viewer.getState().setOverlay(false);
    expect(other.overlay).toBe(false);
    expect(controller.viewer.getState().overlay).toBe(true);
    const calls = engine.calls.length;
    controller.removeView(second);
    expect(controller.views).toHaveLength(1);
    expect(other.disposed).toBe(true);
    second.conditions.getState().setCondition('age', 66);
    await flush();
    expect(engine.calls).toHaveLength(calls);
    controller.removeView(controller.main); // the main view stays
    expect(controller.views).toHaveLength(1);
  });

  it('linked viewers drive each other, also one attached later; unlinking clears it', async () => {
    const { controller, viewer, moreViewers } = setup('?seed=7');
    await controller.start();
    controller.attachViewer({} as HTMLCanvasElement);
    await flush();
    controller.linkViewers(true);
    expect(viewer.linked).toEqual([]); // alone
    const second = controller.addView();
    const other = new FakeViewer();
    moreViewers.push(other);
    controller.attachViewer({} as HTMLCanvasElement, second);
    await flush();
    expect(viewer.linked).toEqual([other]);
    expect(other.linked).toEqual([viewer]);
    controller.linkViewers(false);
    expect(viewer.linked).toEqual([]);
    expect(other.linked).toEqual([]);
    controller.linkViewers(true);
    controller.removeView(second);
    expect(viewer.linked).toEqual([]);
  });
});

describe('AppController: Place by clicking and the 3D brain-only render', () => {
  const realSchema = JSON.parse(
    readFileSync(join(__dirname, '../../brainsynth/schema/conditions.schema.json'), 'utf8'),
  ) as ModelManifest['conditionsSchema'];
  const withRealSchema = () =>
    createFakeEngine({ manifest: { ...smallManifest, conditionsSchema: realSchema } });

  it('Place mode: a click commits the glioma centre (one sample) and says so', async () => {
    const { controller, engine, viewer, history } = setup(
      '?seed=9&pathology=glioma',
      withRealSchema(),
    );
    controller.attachViewer({} as HTMLCanvasElement);
    await controller.start();
    await flush();
    expect(viewer.pickCb).toBeNull(); // not in Place mode: clicks only move the crosshair
    controller.viewer.getState().setPlaceMode(true);
    expect(viewer.pickCb).not.toBeNull();
    const before = engine.calls.length;
    viewer.pick([-20.6, 11, 30.2], [-20.6, 23, 30.2]);
    await flush();
    expect(engine.calls).toHaveLength(before + 1);
    expect(engine.calls.at(-1)!.conditions).toMatchObject({
      pathology: 'glioma',
      gliomaCenterXMm: -20,
      gliomaCenterYMm: 12,
      gliomaCenterZMm: 30,
      gliomaRadiusMm: 12,
    });
    expect(engine.calls.at(-1)!.seed).toBe(9); // same subject
    expect(controller.snapshot().viewer.placeMessage).toEqual({
      ok: true,
      text: 'Tumour centre -20, 12, 30 mm, radius 12 mm',
    });
    expect(history.replaceState.mock.lastCall?.[2]).toMatch(/gliomaCenterXMm=-20/);
    controller.viewer.getState().setPlaceMode(false);
    expect(viewer.pickCb).toBeNull();
  });

  it('a click out of range is refused with the reason and samples nothing', async () => {
    const { controller, engine, viewer } = setup('?seed=9&pathology=glioma', withRealSchema());
    controller.attachViewer({} as HTMLCanvasElement);
    await controller.start();
    await flush();
    controller.viewer.getState().setPlaceMode(true);
    const before = engine.calls.length;
    const conditions = controller.conditions.getState().conditions;
    viewer.pick([0, -100, 20]);
    await flush();
    expect(engine.calls).toHaveLength(before);
    expect(controller.conditions.getState().conditions).toBe(conditions);
    expect(controller.snapshot().viewer.placeMessage).toEqual({
      ok: false,
      text: 'Tumour not placed: Tumour centre y (A+) must be between -90 and 60 (mm); the click gives -100.',
    });
    viewer.pick(null);
    expect(controller.snapshot().viewer.placeMessage?.text).toMatch(/inside an image slice/);
  });

  it('stroke: the click side becomes strokeSide', async () => {
    const { controller, engine } = setup(
      '?seed=9&pathology=stroke&strokeSide=left',
      withRealSchema(),
    );
    await controller.start();
    expect(controller.place([42, 0, 10], [42, 0, 10])).toBe(true);
    await flush();
    expect(engine.calls.at(-1)!.conditions).toMatchObject({ strokeSide: 'right' });
  });

  it('brain only in 3D is on by default, with the extra-cerebral range; the toggle reaches the viewer', async () => {
    const { controller, viewer } = setup('?seed=1');
    controller.attachViewer({} as HTMLCanvasElement);
    await controller.start();
    await flush();
    expect(viewer.brainOnly3D).toBe(true);
    expect(viewer.extraCerebral).toEqual([500, 599]);
    controller.viewer.getState().setBrainOnly3D(false);
    expect(viewer.brainOnly3D).toBe(false);
    expect(controller.snapshot().viewer.brainOnly3D).toBe(false);
  });
});
