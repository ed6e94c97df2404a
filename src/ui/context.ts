/** React access to the controller and its stores (components subscribe to the slice they need). */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { AppController } from './controller';
import type { BackendState } from './stores/backendStore';
import type { ConditionsState } from './stores/conditionsStore';
import type { EngineState } from './stores/engineStore';
import type { ViewerState } from './stores/viewerStore';

export const AppContext = createContext<AppController | null>(null);

export function useController(): AppController {
  const c = useContext(AppContext);
  if (!c) throw new Error('AppContext is missing');
  return c;
}

export function useConditions<T>(selector: (s: ConditionsState) => T): T {
  return useStore(useController().conditions, selector);
}

export function useEngine<T>(selector: (s: EngineState) => T): T {
  return useStore(useController().engine, selector);
}

export function useViewerState<T>(selector: (s: ViewerState) => T): T {
  return useStore(useController().viewer, selector);
}

export function useBackend<T>(selector: (s: BackendState) => T): T {
  return useStore(useController().backend, selector);
}
