import { describe, expect, it, vi } from 'vitest';
import { AppController } from '../controller';
import { planTrack } from '../stores/timelapseStore';
import {
  createFakeEngine,
  FakeViewer,
  fakeVolume,
  flush,
  seedCounter,
  smallSchema,
} from '../testing/fakes';
import { differenceVolume } from './difference';
import { CompareController } from './compare';
import { TIMELAPSE_LANE, TimelapseController, type TimelapseClock } from './timelapse';
import type { Conditions } from '../../engine/types';

async function started(search = '?seed=7&age=50') {
  const engine = createFakeEngine();
  const viewers: FakeViewer[] = [];
  const app = new AppController({
    engine,
    modelUrl: '/models/fake/',
    createViewer: async () => {
      const v = new FakeViewer();
      viewers.push(v);
      return v;
    },
    location: { search, pathname: '/', hash: '' },
    history: { replaceState: vi.fn() },
    randomSeed: seedCounter(500),
  });
  await app.start();
  app.attachViewer({} as HTMLCanvasElement);
  await flush();
  return { app, engine, viewers };
}

/** A clock the test advances by hand. */
function manualClock() {
  let t = 0;
  let next: { fn: () => void; at: number } | null = null;
  const clock: TimelapseClock = {
    now: () => t,
    setTimeout: (fn, ms) => {
      next = { fn, at: t + ms };
      return next;
    },
    clearTimeout: (h) => {
      if (next === h) next = null;
    },
  };
  return {
    clock,
    /** Time passing while something runs (e.g. a frame being drawn). */
    advance(ms: number) {
      t += ms;
    },
    /** Run the pending timer when it is due. */
    async tick() {
      const n = next;
      next = null;
      if (!n) return false;
      t = Math.max(t, n.at);
      n.fn();
      await flush();
      return true;
    },
  };
}

describe('planTrack', () => {
  it('steps age over the schema range and a disease over its parameter', () => {
    const age = planTrack(smallSchema, { age: 50, pathology: 'none' }, 'age', 5);
    expect(age.param.name).toBe('age');
    expect(age.values[0]).toBe(20);
    expect(age.values.at(-1)).toBe(90);
    expect(age.values).toHaveLength(15);
    expect(planTrack(smallSchema, {}, 'age', 20).values).toEqual([20, 40, 60, 80, 90]);
    const ad = planTrack(smallSchema, { pathology: 'alzheimers' }, 'disease', 5);
    expect(ad.param.name).toBe('adSeverity');
    expect(ad.values).toHaveLength(11);
    expect(ad.values[0]).toBe(0);
    expect(ad.values[5]).toBeCloseTo(0.5, 9);
    expect(ad.values.at(-1)).toBe(1);
    const ms = planTrack(smallSchema, { pathology: 'ms' }, 'disease', 5);
    expect(ms.param.name).toBe('msLesionLoadMl');
    expect([ms.values[0], ms.values.at(-1)]).toEqual([0.5, 40]);
    expect(() => planTrack(smallSchema, { pathology: 'none' }, 'disease', 5)).toThrow(
      /choose a pathology/,
    );
    expect(() => planTrack(smallSchema, { pathology: 'glioma' }, 'disease', 5)).toThrow(
      /no severity or load/,
    );
  });
});

describe('TimelapseController', () => {
  it('computes the frames of one subject in its own lane and caches them', async () => {
    const { app, engine, viewers } = await started();
    const tl = new TimelapseController(app, manualClock().clock);
    tl.setAgeStep(10);
    tl.open();
    await flush();
    await flush();
    const s = tl.store.getState();
    expect(s.status).toBe('ready');
    expect(s.values).toEqual([20, 30, 40, 50, 60, 70, 80, 90]);
    expect(s.cached.every(Boolean)).toBe(true);
    const calls = engine.calls.filter((c) => c.lane === TIMELAPSE_LANE);
    expect(calls.map((c) => c.conditions.age)).toEqual(s.values);
    expect(new Set(calls.map((c) => c.seed))).toEqual(new Set([7]));
    // the readout starts at the subject's own age, and that frame is on screen
    expect(s.values[s.index]).toBe(50);
    expect(viewers[0].shown.at(-1)!.metadata.conditions.age).toBe(50);
    expect(tl.snapshot().frameSeeds.every((x) => x === 7)).toBe(true);
  });

  it('plays cached frames in order, loops, measures frames/s, pauses and scrubs', async () => {
    const { app, viewers } = await started('?seed=3&age=20');
    const c = manualClock();
    const tl = new TimelapseController(app, c.clock);
    tl.setAgeStep(10);
    tl.setSpeed(10);
    tl.open();
    await flush();
    await flush();
    const shown0 = viewers[0].shown.length;
    // drawing a frame takes 25 ms
    const show = viewers[0].showVolume.bind(viewers[0]);
    viewers[0].showVolume = async (vol) => {
      c.advance(25);
      return show(vol);
    };
    tl.play();
    for (let i = 0; i < 10; i++) await c.tick();
    const ages = viewers[0].shown.slice(shown0).map((v) => v.metadata.conditions.age);
    expect(ages).toEqual([30, 40, 50, 60, 70, 80, 90, 20, 30, 40]); // looped after 90
    // 25 ms to draw each, the rest of the 100 ms waited: 10 frames/s
    expect(tl.store.getState().measuredFps).toBeCloseTo(10, 5);
    tl.pause();
    expect(await c.tick()).toBe(false);
    tl.seek(2);
    await flush();
    expect(viewers[0].shown.at(-1)!.metadata.conditions.age).toBe(40);
    tl.setLoop(false);
    tl.seek(6);
    tl.play();
    for (let i = 0; i < 4; i++) await c.tick();
    expect(tl.store.getState().playing).toBe(false);
    expect(tl.store.getState().index).toBe(7);
  });

  it('fast playback: draws each frame once, then plays the pictures on the overlay', async () => {
    const { app, viewers } = await started('?seed=3&age=20');
    const c = manualClock();
    const decoded: string[] = [];
    const tl = new TimelapseController(app, c.clock, async (url) => {
      decoded.push(url);
      return { width: 10, height: 8 } as unknown as ImageBitmap;
    });
    const drawn: unknown[] = [];
    const overlay = {
      width: 0,
      height: 0,
      getContext: () => ({ drawImage: (p: unknown) => drawn.push(p) }),
    } as unknown as HTMLCanvasElement;
    tl.attachOverlay(overlay);
    tl.setAgeStep(10);
    tl.open();
    await flush();
    await flush();
    const before = viewers[0].shown.length;
    tl.play();
    for (let i = 0; i < 12; i++) await flush();
    // prepared: every frame drawn in the viewer once and kept as a picture
    expect(decoded).toHaveLength(8);
    expect(viewers[0].shown.length - before).toBe(8);
    expect(tl.store.getState().pictures).toBe(true);
    const inViewer = viewers[0].shown.length;
    for (let i = 0; i < 5; i++) await c.tick();
    expect(drawn).toHaveLength(5);
    expect(viewers[0].shown.length).toBe(inViewer); // the pictures, not the viewer
    expect([overlay.width, overlay.height]).toEqual([10, 8]);
    expect(tl.store.getState().shown).toBeGreaterThanOrEqual(5);
    // pause: the overlay goes and the viewer shows the frame's volume
    tl.pause();
    await flush();
    expect(tl.store.getState().pictures).toBe(false);
    const age = tl.store.getState().values[tl.store.getState().index];
    expect(viewers[0].shown.at(-1)!.metadata.conditions.age).toBe(age);
    // a touched viewer makes the pictures stale: the next play prepares again
    tl.interacted();
    tl.play();
    for (let i = 0; i < 12; i++) await flush();
    expect(decoded).toHaveLength(16);
    // with a synchronous copy of the viewer's canvas no screenshot is decoded
    tl.pause();
    let copies = 0;
    tl.attachOverlay(overlay, () => {
      copies++;
      return { width: 10, height: 8 } as unknown as ImageBitmap;
    });
    tl.invalidatePictures();
    tl.play();
    for (let i = 0; i < 12; i++) await flush();
    expect(copies).toBe(8);
    expect(decoded).toHaveLength(16);
    expect(tl.store.getState().pictures).toBe(true);
  });

  it('waits at a frame that is not computed yet', async () => {
    const { app, engine, viewers } = await started('?seed=3&age=20');
    engine.client!.manual = true;
    const c = manualClock();
    const tl = new TimelapseController(app, c.clock);
    tl.setAgeStep(10);
    tl.open();
    await flush();
    engine.client!.resolveNext(TIMELAPSE_LANE);
    await flush();
    const n = viewers[0].shown.length;
    tl.play();
    await c.tick();
    await c.tick();
    expect(viewers[0].shown.length).toBe(n); // frame 30 not there yet
    expect(tl.store.getState().index).toBe(0);
    engine.client!.resolveNext(TIMELAPSE_LANE);
    await flush();
    await c.tick();
    expect(viewers[0].shown.at(-1)!.metadata.conditions.age).toBe(30);
  });

  it('a change of the subject drops the cache and returns to the main sample', async () => {
    const { app, viewers } = await started();
    const tl = new TimelapseController(app, manualClock().clock);
    tl.open();
    await flush();
    await flush();
    expect(tl.store.getState().active).toBe(true);
    app.conditions.getState().setCondition('sex', 'male');
    await flush();
    const s = tl.store.getState();
    expect(s.active).toBe(false);
    expect(s.status).toBe('idle');
    expect(s.cached).toEqual([]);
    expect(viewers[0].shown.at(-1)!.metadata.conditions.sex).toBe('male');
  });

  it('disease track of a healthy brain says why, visibly', async () => {
    const { app } = await started();
    const tl = new TimelapseController(app, manualClock().clock);
    tl.setTrack('disease');
    tl.open();
    await flush();
    expect(tl.store.getState().status).toBe('error');
    expect(tl.store.getState().error).toMatch(/choose a pathology/);
  });
});

describe('differenceVolume', () => {
  const c = { age: 30, sex: 'female', pathology: 'none', contrast: 'T1w' } as unknown as Conditions;
  it('subtracts B from A for the same subject on the same grid', () => {
    const a = fakeVolume(c, 5);
    const b = fakeVolume({ ...c, age: 80 } as Conditions, 5);
    b.image = b.image.map((v, i) => v - (i % 2));
    const d = differenceVolume(a, b);
    expect(Array.from(d.volume.image)).toEqual(Array.from(a.image).map((_, i) => i % 2));
    expect(d.maxAbs).toBe(1);
    expect(d.volume.labels).toBe(a.labels);
  });
  it('refuses two different subjects or grids', () => {
    expect(() => differenceVolume(fakeVolume(c, 5), fakeVolume(c, 6))).toThrow(
      /different subjects/,
    );
    const b = fakeVolume(c, 5);
    b.affine = b.affine.map((r) => [...r]);
    b.affine[0][3] += 2;
    expect(() => differenceVolume(fakeVolume(c, 5), b)).toThrow(/different grids/);
  });
});

describe('CompareController', () => {
  it('opens 2 and 4 linked views of the same subject, and closes them', async () => {
    const { app, engine } = await started();
    const cmp = new CompareController(app);
    cmp.setLayout(4);
    expect(app.views).toHaveLength(4);
    for (const v of app.views.slice(1)) app.attachViewer({} as HTMLCanvasElement, v);
    await flush();
    await flush();
    const lanes = engine.calls.map((x) => x.lane);
    expect(new Set(lanes).size).toBe(4);
    expect(cmp.views.every((v) => v.conditions.getState().seed === 7)).toBe(true);
    const [main, ...rest] = app.views.map((v) => v.viewerInst as FakeViewer);
    expect(main.linked).toHaveLength(3);
    expect(rest[0].linked).toContain(main);
    // the new views start at A's crosshair (the fake viewer reports [0, 0, 0])
    for (const v of rest) v.cursorCb?.({ mm: [1, 2, 3], intensity: 0, label: 0, name: '' });
    expect(rest.map((v) => v.movedTo.at(-1))).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    cmp.setLinked(false);
    expect(main.linked).toHaveLength(0);
    cmp.setLayout(1);
    expect(app.views).toHaveLength(1);
  });

  it('presets set A and B to a teaching pair of one subject; difference map A − B', async () => {
    const { app } = await started();
    const cmp = new CompareController(app);
    cmp.applyPreset('age');
    expect(cmp.store.getState().layout).toBe(2);
    const [a, b] = cmp.views;
    expect(a.conditions.getState().conditions.age).toBe(30);
    expect(b.conditions.getState().conditions.age).toBe(80);
    expect(b.conditions.getState().seed).toBe(a.conditions.getState().seed);
    cmp.setDifference(true);
    await flush();
    await flush();
    const d = cmp.differenceView!;
    expect(d).toBeTruthy();
    const vol = d.engine.getState().volume!;
    const va = a.engine.getState().volume!;
    const vb = b.engine.getState().volume!;
    expect(vol.image[3]).toBeCloseTo(va.image[3] - vb.image[3], 6);
    expect(d.viewer.getState().overlay).toBe(false);
    expect(cmp.store.getState().differenceProblem).toBeNull();
    // another subject in B: no difference map, and it says why
    b.conditions.getState().newSubject();
    await flush();
    await flush();
    expect(cmp.store.getState().differenceProblem).toMatch(/different subjects/);
    cmp.sameSubject();
    await flush();
    await flush();
    expect(cmp.store.getState().differenceProblem).toBeNull();
    cmp.setLayout(4);
    expect(cmp.differenceView).toBeNull();
    expect(cmp.store.getState().differenceProblem).toMatch(/exactly two/);
  });
});
