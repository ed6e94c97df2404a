/** Label table helpers: index ↔ FreeSurfer value, groups, pathology labels (MODEL_FORMAT.md §4). */
import type { LabelInfo } from '../types';

/** Pathology label values of MODEL_FORMAT.md §4. */
export const PATHOLOGY_LABELS = {
  msLesion: 701,
  msBlackHole: 702,
  necroticCore: 711,
  enhancingRim: 712,
  oedema: 713,
  infarct: 721,
  gliosis: 722,
} as const;

export interface LabelTable {
  infos: LabelInfo[];
  /** index → FreeSurfer value */
  values: Int16Array;
  /** index → group name */
  groups: string[];
  indexOfValue: Map<number, number>;
}

export function buildLabelTable(labels: LabelInfo[]): LabelTable {
  const values = new Int16Array(labels.length);
  const groups: string[] = [];
  const indexOfValue = new Map<number, number>();
  labels.forEach((l, i) => {
    values[i] = l.value;
    groups.push(l.group);
    indexOfValue.set(l.value, i);
  });
  return { infos: labels, values, groups, indexOfValue };
}

/** Index of a label value; throws a clear error when the model does not define it. */
export function requireLabelIndex(table: LabelTable, value: number, what: string): number {
  const idx = table.indexOfValue.get(value);
  if (idx === undefined) {
    throw new Error(`The model's label table has no label ${value} (${what})`);
  }
  return idx;
}

/** 1 for label indices whose group is one of `groups`, else 0 (lookup table for masks). */
export function groupMask(table: LabelTable, ...groups: string[]): Uint8Array {
  const mask = new Uint8Array(table.infos.length);
  table.groups.forEach((g, i) => {
    if (groups.includes(g)) mask[i] = 1;
  });
  return mask;
}

/** 1 for the label indices of the label values `values` (values absent from the table are
 * ignored), else 0 (lookup table for masks). */
export function valueMask(table: LabelTable, values: readonly number[]): Uint8Array {
  const mask = new Uint8Array(table.infos.length);
  for (const v of values) {
    const idx = table.indexOfValue.get(v);
    if (idx !== undefined) mask[idx] = 1;
  }
  return mask;
}

/** A flat-index buffer reused by every call (the voxels of all groups; never escapes). */
let scratchIndices = new Int32Array(0);

/**
 * The voxels of each group, in flat order, from one pass over the volume: `groupOf[l]` is the
 * group (1-based) of label index l, 0 for none. Used by the depth layers (render) and step 7c
 * (sampler/sizing.ts).
 */
export function groupMembers(
  labels: Int32Array,
  groupOf: Uint8Array,
  nGroups: number,
): Int32Array[] {
  if (scratchIndices.length < labels.length) scratchIndices = new Int32Array(labels.length);
  const all = scratchIndices;
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (groupOf[labels[i]] !== 0) all[n++] = i;
  const counts = new Int32Array(nGroups + 1);
  for (let k = 0; k < n; k++) counts[groupOf[labels[all[k]]]]++;
  const out = Array.from({ length: nGroups + 1 }, (_, g) => new Int32Array(counts[g]));
  const at = new Int32Array(nGroups + 1);
  for (let k = 0; k < n; k++) {
    const i = all[k];
    const g = groupOf[labels[i]];
    out[g][at[g]++] = i;
  }
  return out.slice(1);
}
