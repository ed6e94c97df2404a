/**
 * Compare: 2 or 4 viewers side by side, each its own view (own conditions, same seed when
 * made: the same subject), linked by default (crosshair, pan/zoom, 3D angle: NiiVue's
 * broadcastTo through controller.linkViewers). Presets set the first two views to a classic
 * teaching pair. The difference map is a third, static view showing A − B, recomputed whenever
 * either of the first two views gets a new sample.
 */
import type { AppController } from '../controller';
import { createCompareStore, type CompareLayout, type CompareStore } from '../stores/compareStore';
import type { ViewSession } from '../view';
import { differenceVolume } from './difference';

/** Teaching pairs: conditions of view A and view B (on top of the main view's). */
export const COMPARE_PRESETS = {
  age: { title: 'Age 30 vs 80', a: { age: 30 }, b: { age: 80 } },
  alzheimers: {
    title: "Healthy vs Alzheimer's",
    a: { pathology: 'none' },
    b: { pathology: 'alzheimers', adSeverity: 1 },
  },
  contrast: { title: 'T1w vs FLAIR', a: { contrast: 'T1w' }, b: { contrast: 'FLAIR' } },
} as const;
export type ComparePreset = keyof typeof COMPARE_PRESETS;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class CompareController {
  readonly store: CompareStore = createCompareStore();
  private diffView: ViewSession | null = null;
  private diffUnsubs: (() => void)[] = [];

  constructor(private readonly app: AppController) {}

  /** The views on screen, main first (without the difference map). */
  get views(): ViewSession[] {
    const ids = this.store.getState().viewIds;
    return [
      this.app.main,
      ...ids.flatMap((id) => {
        const v = this.app.view(id);
        return v ? [v] : [];
      }),
    ];
  }

  get differenceView(): ViewSession | null {
    return this.diffView;
  }

  setLayout(layout: CompareLayout): void {
    const s = this.store.getState();
    if (layout === s.layout) return;
    const ids = [...s.viewIds];
    while (ids.length > layout - 1) {
      const v = this.app.view(ids.pop()!);
      if (v) this.app.removeView(v);
    }
    while (ids.length < layout - 1) ids.push(this.alignOnFirstShow(this.app.addView()).id);
    this.store.setState({ layout, viewIds: ids });
    this.app.linkViewers(s.linked && layout > 1);
    this.updateDifference();
  }

  /**
   * Linked viewers follow each other only when one is moved; a view that just opened starts at
   * A's crosshair instead (once its first volume is on screen), so all show the same slices.
   */
  private alignOnFirstShow(view: ViewSession): ViewSession {
    const unsub = view.viewer.subscribe((s) => {
      if (!s.cursor) return;
      unsub();
      const mm = this.app.main.viewerInst?.viewState().crosshairMm;
      if (mm && this.store.getState().linked) view.viewerInst?.moveTo(mm);
    });
    view.unsubscribers.push(unsub);
    return view;
  }

  setLinked(linked: boolean): void {
    this.store.setState({ linked });
    this.app.linkViewers(linked && this.store.getState().layout > 1);
  }

  /** Set the first two views to a teaching pair (opens two viewers when only one is shown). */
  applyPreset(name: ComparePreset): void {
    if (this.store.getState().layout === 1) this.setLayout(2);
    const preset = COMPARE_PRESETS[name];
    const [a, b] = this.views;
    const seed = a.conditions.getState().seed;
    const set = (view: ViewSession, values: Record<string, number | string>) => {
      const st = view.conditions.getState();
      // the same subject: B takes A's seed, and keeps it while its conditions change
      st.setKeepSubject(true);
      st.setSeed(seed);
      for (const [k, v] of Object.entries(values)) view.conditions.getState().setCondition(k, v);
    };
    set(a, preset.a);
    set(b, preset.b);
  }

  /** Make view B the same subject as A (A's seed). */
  sameSubject(): void {
    const [a, b] = this.views;
    if (b) b.conditions.getState().setSeed(a.conditions.getState().seed);
  }

  setDifference(on: boolean): void {
    this.store.setState({ difference: on });
    this.updateDifference();
  }

  private updateDifference(): void {
    const { difference, layout } = this.store.getState();
    const want = difference && layout === 2;
    if (!want) {
      this.closeDifference();
      this.store.setState({
        differenceProblem: difference ? 'the difference map needs exactly two viewers' : null,
      });
      return;
    }
    if (!this.diffView) {
      const view = this.alignOnFirstShow(this.app.addStaticView());
      view.viewer.setState({ overlay: false });
      this.diffView = view;
      const [a, b] = this.views;
      for (const src of [a, b])
        this.diffUnsubs.push(
          src.engine.subscribe((s, prev) => {
            if (s.volume !== prev.volume) this.recompute();
          }),
        );
      this.store.setState({ differenceViewId: view.id });
      this.app.linkViewers(this.store.getState().linked);
    }
    this.recompute();
  }

  private recompute(): void {
    const view = this.diffView;
    if (!view) return;
    const [a, b] = this.views;
    const va = a.engine.getState().volume;
    const vb = b?.engine.getState().volume;
    if (!va || !vb) {
      this.store.setState({
        differenceProblem: 'waiting for both samples',
        differenceMaxAbs: null,
      });
      return;
    }
    try {
      const d = differenceVolume(va, vb);
      view.engine.setState({ volume: d.volume, error: null });
      this.store.setState({ differenceProblem: null, differenceMaxAbs: d.maxAbs });
      void this.app.showGenerated(view);
    } catch (err) {
      this.store.setState({ differenceProblem: message(err), differenceMaxAbs: null });
    }
  }

  private closeDifference(): void {
    for (const u of this.diffUnsubs.splice(0)) u();
    if (this.diffView) this.app.removeView(this.diffView);
    this.diffView = null;
    this.store.setState({ differenceViewId: null, differenceMaxAbs: null });
  }

  snapshot() {
    const s = this.store.getState();
    const describe = (v: ViewSession) => {
      const e = v.engine.getState();
      return {
        id: v.id,
        status: e.status,
        error: e.error,
        rendered: v.rendered,
        seed: v.conditions.getState().seed,
        conditions: { ...v.conditions.getState().conditions },
        volumeSeed: e.volume?.metadata.seed ?? null,
        volumeConditions: e.volume ? { ...e.volume.metadata.conditions } : null,
        crosshairMm: v.viewerInst?.viewState().crosshairMm ?? null,
      };
    };
    return {
      layout: s.layout,
      linked: s.linked,
      views: this.views.map(describe),
      difference: s.difference,
      differenceView: this.diffView ? describe(this.diffView) : null,
      differenceProblem: s.differenceProblem,
      differenceMaxAbs: s.differenceMaxAbs,
    };
  }

  dispose(): void {
    this.closeDifference();
  }
}
