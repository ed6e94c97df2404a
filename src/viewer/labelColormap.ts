/**
 * NiiVue label colormap from the model's label table (manifest.labels). Pure: no NiiVue import.
 * NiiVue's ColorMap for labels: parallel arrays R, G, B, A, I (label VALUES) and names.
 */
import type { LabelInfo } from '../engine/types';

export interface LabelColorMap {
  R: number[];
  G: number[];
  B: number[];
  A: number[];
  I: number[];
  labels: string[];
}

/**
 * `hidden`: label values drawn transparent (e.g. the extra-cerebral labels while the 3D render
 * shows the brain only).
 */
export function labelColormap(
  labels: LabelInfo[],
  hidden: (value: number) => boolean = () => false,
): LabelColorMap {
  const sorted = [...labels].sort((a, b) => a.value - b.value);
  const cm: LabelColorMap = { R: [], G: [], B: [], A: [], I: [], labels: [] };
  const seen = new Set<number>();
  for (const l of sorted) {
    if (seen.has(l.value)) continue;
    seen.add(l.value);
    cm.R.push(l.rgb[0]);
    cm.G.push(l.rgb[1]);
    cm.B.push(l.rgb[2]);
    cm.A.push(l.value === 0 || hidden(l.value) ? 0 : 255);
    cm.I.push(l.value);
    cm.labels.push(l.name);
  }
  if (!seen.has(0)) {
    // NiiVue's dense LUT starts at the smallest value; keep 0 transparent.
    cm.R.unshift(0);
    cm.G.unshift(0);
    cm.B.unshift(0);
    cm.A.unshift(0);
    cm.I.unshift(0);
    cm.labels.unshift('Unknown');
  }
  return cm;
}

/** value → name lookup for cursor read-outs. */
export function labelNames(labels: LabelInfo[]): Map<number, string> {
  return new Map(labels.map((l) => [l.value, l.name]));
}
