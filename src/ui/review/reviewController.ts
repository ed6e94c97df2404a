/**
 * The blinded reading session's glue (outside React; components call these methods and read
 * the review store):
 *
 *   setup: reviewer's NIfTI files (decoded in the upload worker; never sent anywhere) + age/sex/contrast
 *     └─ start(): a synthetic brain per real scan matched on them → the model's grid (the
 *        first synthetic's) → every case conformed (conform.ts) → shuffled → IndexedDB
 *   reading: each case blind on its own viewer (no name, no overlay) → answer → next
 *   done: accuracy (Wilson 95 %), per-case results revealed, CSV / JSON
 *
 * What is stored (storage.ts): the session (cases, answers, the grid) and the conformed real
 * volumes; synthetic cases are regenerated from conditions + seed after a reload.
 */
import type { SampledVolume } from '../../engine/types';
import type { ViewerLike } from '../../viewer/types';
import { createReviewStore, type PendingScan, type ReviewStore } from '../stores/reviewStore';
import type { PreparedUpload } from '../upload';
import { conform, foregroundCentroid, type ConformedVolume } from './conform';
import {
  buildCases,
  matchProblem,
  summarize,
  toCsv,
  toJson,
  type Match,
  type ReviewAnswer,
  type ReviewCase,
  type StoredSession,
} from './session';
import type { ReviewStorage } from './storage';

export const DEFAULT_CONTRAST = 'T1w';
/** Largest file accepted as a real scan (bytes), as "Open NIfTI…". */
export const MAX_REVIEW_FILE_BYTES = 512 * 1024 * 1024;

export interface ReviewDeps {
  sample(values: Record<string, unknown>, seed: number): Promise<SampledVolume>;
  model(): { id: string; version: string } | null;
  decode(bytes: ArrayBuffer): Promise<PreparedUpload>;
  createViewer(canvas: HTMLCanvasElement): Promise<ViewerLike>;
  save(blob: Blob, name: string): void;
  storage: ReviewStorage;
  now?: () => number;
  random?: () => number;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class ReviewController {
  readonly store: ReviewStore = createReviewStore();
  private viewer: ViewerLike | null = null;
  /** Conformed synthetic volumes of this page's life (regenerated after a reload). */
  private readonly synthetic = new Map<string, ConformedVolume>();
  private nextKey = 1;
  /** Cases put on screen (e2e waits on it). */
  shown = 0;

  constructor(private readonly deps: ReviewDeps) {}

  private get now() {
    return (this.deps.now ?? Date.now)();
  }

  private get random() {
    return this.deps.random ?? Math.random;
  }

  /** Reopen a session left unfinished (or finished) before a reload. */
  async restore(): Promise<void> {
    let s: StoredSession | null;
    try {
      s = await this.deps.storage.loadSession();
    } catch (err) {
      this.store.setState({ error: `Could not read the saved session: ${message(err)}` });
      return;
    }
    if (!s) return;
    const model = this.deps.model();
    const mismatch =
      model && (model.id !== s.model.id || model.version !== s.model.version)
        ? ` It was made with model ${s.model.id}@${s.model.version}; this is ${model.id}@${model.version}, so its synthetic cases will differ.`
        : '';
    const done = s.answers.length >= s.cases.length;
    this.store.setState({
      open: true,
      session: s,
      phase: done ? 'done' : 'reading',
      notice: `Session restored (${s.answers.length} of ${s.cases.length} cases read).${mismatch}`,
    });
    if (!done) await this.showCurrent();
  }

  /** Add the reviewer's files to the setup list (nothing is read yet). */
  addFiles(files: Iterable<File>): void {
    const added: PendingScan[] = [];
    for (const file of files)
      added.push({
        key: `scan-${this.nextKey++}`,
        name: file.name,
        file,
        age: null,
        sex: '',
        contrast: DEFAULT_CONTRAST,
      });
    this.store.setState((s) => ({ pending: [...s.pending, ...added], error: null }));
  }

  /** What stops the session from starting, or null. */
  setupProblem(): string | null {
    const { pending } = this.store.getState();
    if (pending.length === 0) return 'Add at least one real scan (NIfTI).';
    const names = pending.map((p) => p.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) return `${twice} was added twice; remove one.`;
    for (const p of pending) {
      const problem = matchProblem({
        age: p.age ?? undefined,
        sex: p.sex || undefined,
        contrast: p.contrast,
      });
      if (problem) return `${p.name}: ${problem}.`;
    }
    return null;
  }

  /** Build the session: decode + match + conform + shuffle + store. */
  async start(): Promise<void> {
    const problem = this.setupProblem();
    if (problem) {
      this.store.setState({ error: problem });
      return;
    }
    const model = this.deps.model();
    if (!model) {
      this.store.setState({ error: 'The model is not loaded yet; try again in a moment.' });
      return;
    }
    const { pending, perReal } = this.store.getState();
    this.store.setState({ phase: 'preparing', error: null, notice: null });
    try {
      const decoded: PreparedUpload[] = [];
      for (const [i, p] of pending.entries()) {
        this.store.setState({ progress: `Reading scan ${i + 1} of ${pending.length}` });
        if (p.file.size > MAX_REVIEW_FILE_BYTES)
          throw new Error(`${p.name}: file is larger than ${MAX_REVIEW_FILE_BYTES / 2 ** 20} MB`);
        try {
          decoded.push(await this.deps.decode(await p.file.arrayBuffer()));
        } catch (err) {
          throw new Error(`${p.name}: ${message(err)}`);
        }
      }
      const reals = pending.map((p) => ({
        age: p.age!,
        sex: p.sex as Match['sex'],
        contrast: p.contrast,
        source: p.name,
      }));
      const cases = buildCases(reals, perReal, this.random);
      const synth = cases.filter((c) => c.truth === 'synthetic');
      let grid: StoredSession['grid'] | null = null;
      let centroid: [number, number, number] | null = null;
      for (const [i, c] of synth.entries()) {
        this.store.setState({ progress: `Generating synthetic brain ${i + 1} of ${synth.length}` });
        const vol = await this.sampleCase(c);
        if (!grid) {
          grid = { dims: [...vol.dims], affine: vol.affine.map((r) => [...r]) };
          centroid = foregroundCentroid({ ...grid, data: vol.image });
        }
        this.synthetic.set(c.id, conform({ ...vol, data: vol.image }, grid));
      }
      if (!grid || !centroid) throw new Error('no synthetic case was made');
      await this.deps.storage.clear();
      const realCases = cases.filter((c) => c.truth === 'real');
      for (const [i, c] of realCases.entries()) {
        this.store.setState({ progress: `Conforming scan ${i + 1} of ${realCases.length}` });
        const up = decoded[pending.findIndex((p) => p.name === c.source)];
        let v: ConformedVolume;
        try {
          v = conform(up, grid, centroid);
        } catch (err) {
          throw new Error(`${c.source}: ${message(err)}`);
        }
        await this.deps.storage.putVolume(c.id, v);
      }
      const session: StoredSession = {
        version: 1,
        createdAt: new Date(this.now).toISOString(),
        model,
        grid,
        centroidMm: centroid,
        cases,
        answers: [],
        shownAt: null,
      };
      await this.deps.storage.saveSession(session);
      this.store.setState({ session, phase: 'reading', progress: null, pending: [] });
      await this.showCurrent();
    } catch (err) {
      this.store.setState({
        phase: 'setup',
        progress: null,
        error: `Could not build the session: ${message(err)}`,
      });
    }
  }

  private sampleCase(c: ReviewCase): Promise<SampledVolume> {
    if (c.seed === null) throw new Error('a real case has no recipe');
    return this.deps.sample({ age: c.age, sex: c.sex, contrast: c.contrast }, c.seed);
  }

  /** The current case (the first unanswered), or null when all are read. */
  current(): ReviewCase | null {
    const s = this.store.getState().session;
    return s && s.answers.length < s.cases.length ? s.cases[s.answers.length] : null;
  }

  private async volumeOf(c: ReviewCase, s: StoredSession): Promise<ConformedVolume> {
    if (c.truth === 'real') {
      const v = await this.deps.storage.getVolume(c.id);
      if (!v) throw new Error('its stored volume is missing from this browser');
      return v;
    }
    let v = this.synthetic.get(c.id);
    if (!v) {
      const vol = await this.sampleCase(c);
      v = conform({ ...vol, data: vol.image }, s.grid);
      this.synthetic.set(c.id, v);
    }
    return v;
  }

  /** Put the current case on the viewer (blind: "Case n", no overlay). */
  async showCurrent(): Promise<void> {
    const s = this.store.getState().session;
    const c = this.current();
    if (!s || !c) return;
    this.store.setState({ caseShown: false, progress: 'Loading the case' });
    try {
      const v = await this.volumeOf(c, s);
      if (this.current() !== c) return;
      if (!this.viewer) {
        // shown (and timed) once the session screen's viewer is attached
        this.store.setState({ progress: null });
        return;
      }
      await this.viewer.showUserVolume(v, 'case');
      this.viewer.setOverlayVisible(false);
      const shownAt = this.now;
      const session = { ...s, shownAt };
      await this.deps.storage.saveSession(session);
      this.shown++;
      this.store.setState({ session, caseShown: true, progress: null, error: null });
    } catch (err) {
      this.store.setState({
        progress: null,
        error: `Could not show case ${s.answers.length + 1}: ${message(err)}`,
      });
    }
  }

  /** Record the answer to the current case and move on. */
  async answer(a: Omit<ReviewAnswer, 'caseId' | 'timeMs'>): Promise<void> {
    const s = this.store.getState().session;
    const c = this.current();
    if (!s || !c) return;
    if (a.answer !== 'real' && a.answer !== 'synthetic') {
      this.store.setState({ error: 'Choose real or synthetic.' });
      return;
    }
    if (
      !(a.confidence >= 50 && a.confidence <= 100) ||
      !Number.isInteger(a.realism) ||
      a.realism < 1 ||
      a.realism > 5
    ) {
      this.store.setState({ error: 'Confidence is 50–100 % and realism 1–5.' });
      return;
    }
    const timeMs = s.shownAt === null ? 0 : Math.max(0, this.now - s.shownAt);
    const session: StoredSession = {
      ...s,
      answers: [...s.answers, { ...a, caseId: c.id, timeMs }],
      shownAt: null,
    };
    await this.deps.storage.saveSession(session);
    const done = session.answers.length >= session.cases.length;
    this.store.setState({ session, phase: done ? 'done' : 'reading', error: null, notice: null });
    if (!done) await this.showCurrent();
  }

  attachViewer(canvas: HTMLCanvasElement): () => void {
    let disposed = false;
    let inst: ViewerLike | null = null;
    this.deps
      .createViewer(canvas)
      .then(async (v) => {
        if (disposed) return v.dispose();
        inst = v;
        this.viewer = v;
        v.setRadiological(true);
        v.setOverlayVisible(false);
        if (this.current()) await this.showCurrent();
      })
      .catch((err) => {
        if (!disposed)
          this.store.setState({ error: `The viewer could not start: ${message(err)}` });
      });
    return () => {
      disposed = true;
      if (inst) {
        if (this.viewer === inst) this.viewer = null;
        inst.dispose();
      }
    };
  }

  summary() {
    const s = this.store.getState().session;
    return s ? summarize(s) : null;
  }

  exportResults(kind: 'csv' | 'json'): void {
    const s = this.store.getState().session;
    if (!s) return;
    const sum = summarize(s);
    const stamp = s.createdAt.replace(/[:.]/g, '-');
    if (kind === 'csv')
      this.deps.save(new Blob([toCsv(sum)], { type: 'text/csv' }), `reading-session-${stamp}.csv`);
    else
      this.deps.save(
        new Blob([toJson(s, sum)], { type: 'application/json' }),
        `reading-session-${stamp}.json`,
      );
  }

  /** Forget the session (and the stored real volumes) and go back to the setup. */
  async discard(): Promise<void> {
    await this.deps.storage.clear();
    this.synthetic.clear();
    this.store.setState({
      session: null,
      phase: 'setup',
      caseShown: false,
      error: null,
      notice: null,
    });
  }
}
