/**
 * The teaching workflows (compare, time-lapse, explain, presentation mode) of one app
 * controller, made once per controller: `teachOf(controller)`.
 */
import { createStore } from 'zustand/vanilla';
import type { AppController } from '../controller';
import { CompareController } from './compare';
import { ExplainController } from './explain';
import { TimelapseController } from './timelapse';

export interface TeachUiState {
  /** Large type and controls for a projector. */
  presentation: boolean;
  toggle(): void;
}

export class Teach {
  readonly compare: CompareController;
  readonly timelapse: TimelapseController;
  readonly explain: ExplainController;
  readonly ui = createStore<TeachUiState>()((set, get) => ({
    presentation: false,
    toggle: () => set({ presentation: !get().presentation }),
  }));

  constructor(app: AppController) {
    this.compare = new CompareController(app);
    this.timelapse = new TimelapseController(app);
    this.explain = new ExplainController(app);
  }

  snapshot() {
    return {
      presentation: this.ui.getState().presentation,
      compare: this.compare.snapshot(),
      timelapse: this.timelapse.snapshot(),
      explain: this.explain.snapshot(),
    };
  }
}

const made = new WeakMap<AppController, Teach>();

export function teachOf(app: AppController): Teach {
  let t = made.get(app);
  if (!t) {
    t = new Teach(app);
    made.set(app, t);
  }
  return t;
}
