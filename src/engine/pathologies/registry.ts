/**
 * The pathology registry: `conditions.pathology` → its module. The engine (sample.ts,
 * sampler/latents.ts `gainsFor`, student/forward.ts `studentFeatures`) iterates or looks up this
 * registry and holds no per-pathology code. Built-in modules are registered here; a new one is
 * registered by adding it to BUILT_IN (or, in a test, with `registerPathology`).
 */
import { alzheimers } from './alzheimers';
import { glioma } from './glioma';
import { ms } from './ms';
import { none } from './none';
import { stroke } from './stroke';
import type { PathologyModule, PathologyPlan } from './types';

// The modules' plan types differ; the registry only passes a module its own plans.
type AnyModule = PathologyModule<PathologyPlan>;

const BUILT_IN: readonly AnyModule[] = [none, alzheimers, ms, glioma, stroke];

const modules = new Map<string, AnyModule>(BUILT_IN.map((m) => [m.id, m]));

/** Add a pathology module; its id must be new. */
export function registerPathology<P extends PathologyPlan>(module: PathologyModule<P>): void {
  if (modules.has(module.id)) throw new Error(`Pathology '${module.id}' is already registered`);
  modules.set(module.id, module);
}

/** Remove a module added with registerPathology (built-in modules stay). */
export function unregisterPathology(id: string): void {
  if (BUILT_IN.some((m) => m.id === id)) throw new Error(`Pathology '${id}' is built in`);
  modules.delete(id);
}

/** The module for a pathology id; a clear error when none is registered. */
export function pathologyModule(id: string): AnyModule {
  const m = modules.get(id);
  if (!m) {
    throw new Error(
      `No pathology module '${id}' is registered (known: ${[...modules.keys()].join(', ')})`,
    );
  }
  return m;
}

/** Every registered module, built-in ones first. */
export function pathologyModules(): AnyModule[] {
  return [...modules.values()];
}
