/**
 * The contract of a pathology module (one file per pathology in this folder, listed in
 * registry.ts). A module owns everything the engine knows about its pathology: the gain terms
 * it adds to the anatomy (step 2 of docs/MODEL_FORMAT.md §3), an optional deformation of the
 * output→template mapping (the glioma's mass effect, §4), the random placement of its lesions
 * (`plan`, the only place randomness is drawn) and their deterministic drawing (`draw`), the
 * student features it feeds, and the label values it draws.
 *
 * `plan` → `draw` is the split of TorchIO's `Random*` transforms into "draw parameters" and
 * "apply them": a plan is plain data (JSON-serialisable), so a caller can change it (move a
 * lesion, place one by hand) and pass it back through `SampleOptions.pathologyPlan`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../model/loadModel';
import type { ModelManifest } from '../model/manifest';
import type { MassEffect } from '../sampler/anatomy';
import type { Conditions } from '../types';

/**
 * Validated conditions as a module sees them: the typed properties of the conditions schema
 * plus, for a module whose schema fragment is not (yet) part of the generated `Conditions`
 * type, its own properties by name (read them as `unknown` and narrow).
 */
export type ConditionValues = Conditions & { readonly [name: string]: unknown };

/** A module's placement: plain data, tagged with the pathology it belongs to. */
export interface PathologyPlan {
  pathology: string;
}

/** The displacement of §3 step 4 and the global scale of step 5 that produced the anatomy. */
export interface Deformation {
  /** u on the velocity grid, [3, Nv] component planes (x fastest), mm. */
  displacement: Float32Array;
  scale: number;
}

/**
 * What `draw` may read and change: the label map (as a tensor for tensor work or as a mutable
 * array for sequential work; the context converts between the two) and the anatomy's mapping.
 */
export interface DrawContext {
  readonly model: Model;
  readonly conditions: ConditionValues;
  readonly seed: number;
  /** The current label indices, int32 [N]. Owned by the context: do not dispose. */
  labelTensor(): tf.Tensor1D;
  /** Replace the label map by `t` (same shape, int32); the context takes ownership. */
  setLabelTensor(t: tf.Tensor1D): void;
  /**
   * The current label indices as an array the module may edit in place. The edits count until
   * the next `labelTensor()`/`setLabelTensor()` call (which supersedes the array).
   */
  labels(): Promise<Int32Array>;
  /** The flat template voxel each output voxel maps to (N when outside). */
  templateIndex(): Promise<Int32Array>;
  /** The anatomy's displacement and scale; only for modules with `needsDisplacement`. */
  deformation(): Promise<Deformation>;
}

/** What a pathology realised (lesion count, load, …); becomes `metadata.pathology`. */
export type PathologyInfo = Record<string, unknown> & { type: string };

export interface PathologyModule<P extends PathologyPlan = PathologyPlan> {
  /** The value of `conditions.pathology` that selects this module. */
  readonly id: string;
  /** Label values this module draws (they must lie in manifest.labelRanges.pathology). */
  readonly labels: readonly number[];
  /** What the model lacks for this module (checked by validateManifest at load time). */
  manifestProblems?(manifest: ModelManifest): string[];
  /** Step 2: add this pathology's gain terms to `g` (one per manifest region), in place. */
  gains?(manifest: ModelManifest, c: ConditionValues, g: Float64Array): void;
  /** Placement and amounts from conditions and seed: all of the module's randomness. */
  plan(model: Model, c: ConditionValues, seed: number): P;
  /** A deformation of the output→template mapping (step 6), from the plan. */
  deform?(model: Model, plan: P): MassEffect | undefined;
  /**
   * After `draw`: change step 7b's sulcal partial volume (per voxel, in place), e.g. the glioma
   * effaces the sulci around it.
   */
  adjustSulcalPartialVolume?(model: Model, plan: P, fraction: Float32Array): void;
  /** `draw` reads `ctx.deformation()` (the sampler then keeps the displacement). */
  readonly needsDisplacement?: boolean;
  /** Apply the plan to the label map: deterministic given the plan and the anatomy. */
  draw(ctx: DrawContext, plan: P): Promise<PathologyInfo> | PathologyInfo;
  /**
   * Student input features this module provides (docs/MODEL.md "Student"), by feature name;
   * a feature is 0 when another pathology is selected.
   */
  readonly studentFeatures?: Readonly<Record<string, (c: ConditionValues) => number>>;
}
