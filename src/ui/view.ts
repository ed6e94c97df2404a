/**
 * A view: one brain on screen with its own conditions, its own engine store (status, latest
 * volume), its own viewer store (overlay, cursor, uploaded file) and its own viewer handle.
 * The controller holds N views; they share the engine client, each sampling in its own worker
 * lane, so a newer request of one view never supersedes another view's.
 */
import { DEFAULT_LANE } from '../engine/protocol';
import type { ViewerLike } from '../viewer/types';
import { createConditionsStore, type ConditionsStore } from './stores/conditionsStore';
import { createEngineStore, type EngineStore } from './stores/engineStore';
import { createViewerStore, type ViewerStore } from './stores/viewerStore';

/** The id of the view the app starts with (it owns the URL and the "Full size" workflow). */
export const MAIN_VIEW = 'main';

/**
 * The view's source of new seeds, one drawn ahead: `peek()` tells which seed the next "New
 * subject" (or a change without keep-subject) will get, so the engine can prepare it in idle
 * time; `take()` hands it out and draws the following one lazily. Same distribution as drawing
 * each seed when needed.
 */
export class SeedQueue {
  private next: number | null = null;

  constructor(private readonly draw: () => number) {}

  peek(): number {
    if (this.next === null) this.next = this.draw();
    return this.next;
  }

  take(): number {
    const seed = this.peek();
    this.next = null;
    return seed;
  }
}

export class ViewSession {
  readonly conditions: ConditionsStore;
  readonly engine: EngineStore;
  readonly viewer: ViewerStore;
  /** The worker lane of this view's requests (the main view uses the default lane). */
  readonly lane: string;
  /** The seeds "New subject" hands out, the next one known in advance (engine prefetch). */
  readonly seeds: SeedQueue;
  /** The viewer on this view's canvas, once attached. */
  viewerInst: ViewerLike | null = null;
  /** Id of this view's newest sample request (older answers are dropped). */
  requestId = 0;
  /** Volumes this view's viewer has put on screen (e2e waits on the main view's). */
  rendered = 0;
  /** The pathology of the last volume shown (a new kind brings its lesion into view). */
  shownPathology: string | null = null;
  /** Store subscriptions to end when the view goes. */
  readonly unsubscribers: (() => void)[] = [];

  constructor(
    readonly id: string,
    nextSeed: () => number,
  ) {
    this.lane = id === MAIN_VIEW ? DEFAULT_LANE : `view:${id}`;
    this.seeds = new SeedQueue(nextSeed);
    this.conditions = createConditionsStore(() => this.seeds.take());
    this.engine = createEngineStore();
    this.viewer = createViewerStore();
  }

  dispose(): void {
    for (const u of this.unsubscribers.splice(0)) u();
    this.viewerInst?.dispose();
    this.viewerInst = null;
  }
}
