/**
 * Time-lapse: the main view's subject (its conditions and seed) stepped along age or its
 * disease's severity/load. Frames are sampled one after another in the worker lane
 * TIMELAPSE_LANE (so the views' own samples are never superseded) and cached as they arrive;
 * playing shows cached frames on the main viewer, waiting at a frame not yet computed. A change
 * of the main view's conditions or seed makes the cache stale: it is dropped and the time-lapse
 * closes (the viewer returns to the main sample).
 *
 * Fast playback: drawing a volume in NiiVue costs far more than a frame at 10+ frames/s (the
 * textures are re-uploaded and the 3D render is ray-cast again; ~0.5 s in software GL). So once
 * every frame is cached, Play first draws each frame once in the viewer and keeps the picture
 * (prepare), then plays the pictures on an overlay canvas over the viewer. Pause (or any
 * interaction with the viewer) hides the overlay and puts the frame's volume in the viewer, so
 * the crosshair and window/level work on it; a changed view (crosshair, zoom, display
 * settings, size) makes the pictures stale, and the next Play prepares them again.
 */
import type { SampledVolume } from '../../engine/types';
import type { AppController } from '../controller';
import {
  createTimelapseStore,
  planTrack,
  type TimelapseStore,
  type TimelapseTrack,
} from '../stores/timelapseStore';

export const TIMELAPSE_LANE = 'timelapse';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface TimelapseClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: TimelapseClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Turns a viewer screenshot (PNG data URL) into something an overlay canvas can draw. */
export type PictureDecoder = (dataUrl: string) => Promise<CanvasImageSource & { close?(): void }>;

const decodePicture: PictureDecoder = async (url) =>
  createImageBitmap(await (await fetch(url)).blob());

export class TimelapseController {
  readonly store: TimelapseStore = createTimelapseStore();
  private frames: (SampledVolume | null)[] = [];
  private pictures: ((CanvasImageSource & { close?(): void }) | null)[] = [];
  private overlay: HTMLCanvasElement | null = null;
  /** Copies what the viewer shows now (synchronously), or null; else a screenshot is decoded. */
  private capture: (() => (CanvasImageSource & { close?(): void }) | null) | null = null;
  /** Bumped whenever the cache is dropped: older computations stop. */
  private generation = 0;
  private timer: unknown = null;
  /** Times (ms) frames were put on screen during this playback (for frames/s). */
  private shownAt: number[] = [];
  private showing: Promise<void> = Promise.resolve();

  constructor(
    private readonly app: AppController,
    private readonly clock: TimelapseClock = realClock,
    private readonly decode: PictureDecoder = decodePicture,
  ) {
    app.main.unsubscribers.push(
      app.main.conditions.subscribe((s, prev) => {
        if (s.conditions !== prev.conditions || s.seed !== prev.seed) this.drop();
      }),
      app.main.viewer.subscribe((s, prev) => {
        if (
          s.overlay !== prev.overlay ||
          s.opacity !== prev.opacity ||
          s.radiological !== prev.radiological
        )
          this.invalidatePictures();
      }),
    );
  }

  /**
   * The canvas over the main viewer that fast playback draws on (null: none), and optionally
   * a synchronous copy of the viewer's canvas (cheaper than encoding and decoding a PNG).
   */
  attachOverlay(
    canvas: HTMLCanvasElement | null,
    capture: (() => (CanvasImageSource & { close?(): void }) | null) | null = null,
  ): void {
    this.overlay = canvas;
    this.capture = canvas ? capture : null;
    if (!canvas) this.invalidatePictures();
  }

  /** The view changed (crosshair, zoom, size, display): pictures must be drawn again. */
  invalidatePictures(): void {
    for (const p of this.pictures) p?.close?.();
    this.pictures = [];
    if (this.store.getState().pictures) this.leavePictures();
  }

  /** The viewer was touched: stop playing pictures (they no longer match what it shows). */
  interacted(): void {
    if (this.store.getState().pictures) this.pause();
    this.invalidatePictures();
  }

  /** Hide the overlay and put the current frame's volume in the viewer. */
  private leavePictures(): void {
    this.store.setState({ pictures: false });
    void this.show(this.store.getState().index);
  }

  /** The cached frame (tests and the difference map use it). */
  frame(i: number): SampledVolume | null {
    return this.frames[i] ?? null;
  }

  /** Open the time-lapse on the main viewer and start computing its frames. */
  open(): void {
    this.store.setState({ active: true, shown: 0 });
    if (this.store.getState().status === 'idle' || this.store.getState().status === 'error')
      void this.compute();
    else void this.show(this.store.getState().index);
  }

  /** Stop, and show the main view's own sample again (the cache stays for a later open). */
  close(): void {
    this.pause();
    if (!this.store.getState().active) return;
    this.store.setState({ active: false });
    void this.app.showGenerated(this.app.main);
  }

  setTrack(track: TimelapseTrack): void {
    if (track === this.store.getState().track) return;
    this.store.setState({ track });
    this.restart();
  }

  setAgeStep(ageStep: number): void {
    if (ageStep === this.store.getState().ageStep) return;
    this.store.setState({ ageStep });
    if (this.store.getState().track === 'age') this.restart();
  }

  setSpeed(speed: number): void {
    this.store.setState({ speed });
    this.shownAt = [];
  }

  setLoop(loop: boolean): void {
    this.store.setState({ loop });
  }

  private restart(): void {
    const wasActive = this.store.getState().active;
    this.drop();
    if (wasActive) this.open();
  }

  /** Forget the cache (conditions changed, other track); closes the time-lapse. */
  private drop(): void {
    this.generation++;
    this.frames = [];
    this.invalidatePictures();
    const wasActive = this.store.getState().active;
    this.pause();
    this.store.setState({
      status: 'idle',
      error: null,
      values: [],
      cached: [],
      index: 0,
      param: null,
      active: false,
      frameMs: null,
      preparing: null,
    });
    if (wasActive) void this.app.showGenerated(this.app.main);
  }

  /** Sample every frame in order, caching each; the first one goes on screen at once. */
  private async compute(): Promise<void> {
    const gen = ++this.generation;
    const schema = this.app.schema;
    const { conditions, seed } = this.app.main.conditions.getState();
    const { track, ageStep } = this.store.getState();
    if (!schema) return;
    let plan;
    try {
      plan = planTrack(schema, conditions, track, ageStep);
    } catch (err) {
      this.store.setState({ status: 'error', error: message(err) });
      return;
    }
    this.frames = plan.values.map(() => null);
    // start the readout at the subject's own value when it is on the track
    const own = Number(conditions[plan.param.name]);
    const start = Math.max(
      0,
      plan.values.findIndex((v) => v >= own),
    );
    this.store.setState({
      status: 'computing',
      error: null,
      param: plan.param,
      values: plan.values,
      cached: plan.values.map(() => false),
      index: start,
    });
    const t0 = this.clock.now();
    for (let i = 0; i < plan.values.length; i++) {
      let vol: SampledVolume;
      try {
        vol = await this.app.sampleIn(
          TIMELAPSE_LANE,
          { ...conditions, [plan.param.name]: plan.values[i] },
          seed,
        );
      } catch (err) {
        if (gen !== this.generation || this.app.isSuperseded(err)) return;
        this.store.setState({ status: 'error', error: `Time-lapse frame failed: ${message(err)}` });
        return;
      }
      if (gen !== this.generation) return;
      this.frames[i] = vol;
      const cached = [...this.store.getState().cached];
      cached[i] = true;
      this.store.setState({ cached, frameMs: (this.clock.now() - t0) / (i + 1) });
      const s = this.store.getState();
      if (s.active && !s.playing && i === s.index) void this.show(i);
    }
    this.store.setState({ status: 'ready' });
  }

  /** Put frame i on screen (when cached); resolves once it is drawn. */
  private show(i: number): Promise<void> {
    const vol = this.frames[i];
    if (!vol || !this.store.getState().active) return Promise.resolve();
    this.showing = this.showing.then(async () => {
      await this.app.showFrame(vol);
      this.store.setState((s) => ({ shown: s.shown + 1 }));
    });
    return this.showing;
  }

  /** Scrub: show frame i (pauses playback). */
  seek(i: number): void {
    const { values } = this.store.getState();
    if (!Number.isInteger(i) || i < 0 || i >= values.length) return;
    this.pause();
    this.store.setState({ index: i });
    void this.show(i);
  }

  step(delta: number): void {
    const { index, values } = this.store.getState();
    this.seek(Math.min(values.length - 1, Math.max(0, index + delta)));
  }

  play(): void {
    const s = this.store.getState();
    if (!s.active) this.open();
    if (this.store.getState().playing || this.store.getState().status === 'error') return;
    // at the end without looping: start over
    if (!s.loop && s.index >= s.values.length - 1) this.store.setState({ index: 0 });
    this.shownAt = [];
    this.store.setState({ playing: true });
    if (this.store.getState().status === 'ready' && this.overlay) void this.prepare();
    else this.schedule(0);
  }

  /** Draw every frame once in the viewer and keep its picture; then play the pictures. */
  private async prepare(): Promise<void> {
    const gen = this.generation;
    const n = this.store.getState().values.length;
    const start = this.store.getState().index;
    for (let i = 0; i < n; i++) {
      if (this.pictures[i]) continue;
      if (!this.store.getState().playing || gen !== this.generation) return;
      this.store.setState({ preparing: i, index: i });
      await this.show(i);
      // right after drawing, in the same task: the viewer's canvas still holds this frame
      let picture = this.capture?.() ?? null;
      try {
        if (!picture) {
          const url = this.app.screenshot(this.app.main);
          if (!url.startsWith('data:image/')) throw new Error('no screenshot');
          picture = await this.decode(url);
        }
      } catch {
        // no pictures (no canvas to read): play by drawing each volume instead
        this.store.setState({ preparing: null });
        this.schedule(0);
        return;
      }
      if (gen !== this.generation) return;
      this.pictures[i] = picture;
    }
    this.store.setState({ preparing: null, index: start });
    if (!this.store.getState().playing || gen !== this.generation) return;
    this.store.setState({ pictures: true });
    this.schedule(0);
  }

  /** Put picture i on the overlay; false when there is none. */
  private drawPicture(i: number): boolean {
    const p = this.pictures[i];
    const c = this.overlay;
    const ctx = c?.getContext('2d');
    if (!p || !c || !ctx) return false;
    const w = (p as { width: number }).width;
    const h = (p as { height: number }).height;
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    ctx.drawImage(p, 0, 0);
    return true;
  }

  pause(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    const s = this.store.getState();
    if (s.playing) this.store.setState({ playing: false, preparing: null });
    if (s.pictures) this.leavePictures();
  }

  toggle(): void {
    if (this.store.getState().playing) this.pause();
    else this.play();
  }

  private schedule(ms: number): void {
    this.timer = this.clock.setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.timer = null;
    const s = this.store.getState();
    if (!s.playing) return;
    const interval = 1000 / s.speed;
    let next = s.index + 1;
    if (next >= s.values.length) {
      if (!s.loop) {
        this.pause();
        return;
      }
      next = 0;
    }
    if (!this.frames[next]) {
      // not computed yet: wait for it (no frame counts as shown meanwhile)
      this.shownAt = [];
      this.schedule(interval);
      return;
    }
    const t0 = this.clock.now();
    this.store.setState({ index: next });
    if (s.pictures) {
      if (!this.drawPicture(next)) {
        this.leavePictures();
        await this.show(next);
      } else this.store.setState((st) => ({ shown: st.shown + 1 }));
    } else await this.show(next);
    if (!this.store.getState().playing) return;
    const t = this.clock.now();
    this.shownAt.push(t);
    if (this.shownAt.length > 30) this.shownAt.shift();
    if (this.shownAt.length >= 3) {
      const span = t - this.shownAt[0];
      if (span > 0) this.store.setState({ measuredFps: ((this.shownAt.length - 1) * 1000) / span });
    }
    this.schedule(Math.max(0, interval - (t - t0)));
  }

  snapshot() {
    const s = this.store.getState();
    return {
      active: s.active,
      track: s.track,
      status: s.status,
      error: s.error,
      param: s.param?.name ?? null,
      values: [...s.values],
      cached: s.cached.filter(Boolean).length,
      index: s.index,
      value: s.values[s.index] ?? null,
      playing: s.playing,
      pictures: s.pictures,
      preparing: s.preparing,
      loop: s.loop,
      speed: s.speed,
      measuredFps: s.measuredFps,
      shown: s.shown,
      frameMs: s.frameMs,
      frameSeeds: this.frames.map((f) => f?.metadata.seed ?? null),
    };
  }

  dispose(): void {
    this.pause();
    this.generation++;
    this.frames = [];
    this.invalidatePictures();
  }
}
