/**
 * React access to the controller and to a view's stores (components subscribe to the slice
 * they need). Components inside `<ViewContext.Provider value={view}>` read that view; outside
 * any, the main view.
 */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { AppController } from './controller';
import type { BackendState } from './stores/backendStore';
import type { ConditionsState } from './stores/conditionsStore';
import type { EngineState } from './stores/engineStore';
import type { ViewerState } from './stores/viewerStore';
import type { ViewSession } from './view';

export const AppContext = createContext<AppController | null>(null);
export const ViewContext = createContext<ViewSession | null>(null);

export function useController(): AppController {
  const c = useContext(AppContext);
  if (!c) throw new Error('AppContext is missing');
  return c;
}

/** The view a component belongs to (the main view unless a ViewContext says otherwise). */
export function useView(): ViewSession {
  const view = useContext(ViewContext);
  const controller = useController();
  return view ?? controller.main;
}

export function useConditions<T>(selector: (s: ConditionsState) => T): T {
  return useStore(useView().conditions, selector);
}

export function useEngine<T>(selector: (s: EngineState) => T): T {
  return useStore(useView().engine, selector);
}

export function useViewerState<T>(selector: (s: ViewerState) => T): T {
  return useStore(useView().viewer, selector);
}

export function useBackend<T>(selector: (s: BackendState) => T): T {
  return useStore(useController().backend, selector);
}
