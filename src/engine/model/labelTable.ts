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
