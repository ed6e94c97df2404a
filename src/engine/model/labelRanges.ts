/**
 * The label-value ranges of the manifest (`labelRanges`, docs/MODEL_FORMAT.md §2): which label
 * values are intracranial, extra-cerebral and pathology. Read from the model, never written as
 * literals elsewhere.
 */
import type { ModelManifest } from './manifest';

type Range = readonly [number, number];

const within = (r: Range | undefined, v: number) => r !== undefined && v >= r[0] && v <= r[1];

/** A pathology label value (lesions, tumour, infarct). */
export function isPathologyValue(manifest: ModelManifest, value: number): boolean {
  return within(manifest.labelRanges.pathology, value);
}

/** An intracranial tissue value (brain, ventricles, CSF), not counting pathology. */
export function isIntracranialValue(manifest: ModelManifest, value: number): boolean {
  return within(manifest.labelRanges.intracranial, value);
}

/**
 * Counts towards the ICV: intracranial or pathology (lesions replace intracranial tissue, so
 * leaving them out would shrink the ICV of a brain with a 3 cm glioma by ~100 mL).
 */
export function isIcvValue(manifest: ModelManifest, value: number): boolean {
  return isIntracranialValue(manifest, value) || isPathologyValue(manifest, value);
}
