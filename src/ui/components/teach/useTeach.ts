import { useStore } from 'zustand';
import { useController } from '../../context';
import type { CompareState } from '../../stores/compareStore';
import type { ExplainState } from '../../stores/explainStore';
import type { TimelapseState } from '../../stores/timelapseStore';
import { teachOf, type Teach, type TeachUiState } from '../../teach';

export function useTeach(): Teach {
  return teachOf(useController());
}

export function useCompare<T>(selector: (s: CompareState) => T): T {
  return useStore(useTeach().compare.store, selector);
}

export function useTimelapse<T>(selector: (s: TimelapseState) => T): T {
  return useStore(useTeach().timelapse.store, selector);
}

export function useExplain<T>(selector: (s: ExplainState) => T): T {
  return useStore(useTeach().explain.store, selector);
}

export function useTeachUi<T>(selector: (s: TeachUiState) => T): T {
  return useStore(useTeach().ui, selector);
}
