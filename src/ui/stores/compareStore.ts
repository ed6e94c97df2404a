/**
 * Compare store: how many viewers are on screen (1, 2 or 4: the main view plus views made with
 * controller.addView), whether they move together, and the difference map (A − B of the first
 * two views, only when both show the same subject on the same grid).
 */
import { createStore } from 'zustand/vanilla';

export type CompareLayout = 1 | 2 | 4;
export const COMPARE_LAYOUTS: readonly CompareLayout[] = [1, 2, 4];

export interface CompareState {
  layout: CompareLayout;
  /** Ids of the views shown after the main one (controller.view(id)). */
  viewIds: string[];
  linked: boolean;
  /** The difference map was asked for. */
  difference: boolean;
  /** Id of the view showing A − B (null when off or not possible). */
  differenceViewId: string | null;
  /** Why there is no difference map although one was asked for (null: there is one, or off). */
  differenceProblem: string | null;
  /** Largest |A − B| of the map on screen. */
  differenceMaxAbs: number | null;
}

export type CompareStore = ReturnType<typeof createCompareStore>;

export function createCompareStore() {
  return createStore<CompareState>()(() => ({
    layout: 1,
    viewIds: [],
    linked: true,
    difference: false,
    differenceViewId: null,
    differenceProblem: null,
    differenceMaxAbs: null,
  }));
}
