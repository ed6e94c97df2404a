/**
 * Depth layers of the appearance (MODEL_FORMAT.md §5 step 0, manifest `appearance.depthLayers`),
 * the engine's twin of brainsynth/depth_layers.py.
 *
 * Real 2 mm T1s are not flat inside a tissue: WM next to the cortex is darker than deep WM,
 * cortex next to WM brighter than cortex at the pial surface. Each entry numbers the voxels of a
 * group of labels by 6-neighbour distance from its `from` labels (layer 1 touches them, layer k
 * touches layer k−1, the last layer takes every remaining group voxel) and renders each layer as
 * a row appended to the label table: mean + weight·(mean_partner − mean), the label's SD times
 * the row's `sdScale` (default 1), the label's WM flag. With `surface`, a group voxel with a
 * 6-neighbour among the surface labels (the cortex's pial side) takes the surface row of its
 * layer instead. The renderer's four steps are unchanged: only the voxels' table index is
 * remapped.
 * Row order: per entry, per label of the entry (labels absent from the table are skipped), its
 * layers then its surface layers — as the teacher's.
 */
import type { Model } from '../model/loadModel';
import { groupMembers, valueMask } from '../model/labelTable';
import { normalF32At, streamSeed } from '../rng';

export interface AppearanceTables {
  /** table index of every voxel (label index, or n_labels + row) */
  index: Int32Array;
  means: Float32Array;
  sds: Float32Array;
  wmMask: Uint8Array;
  /**
   * The voxel mix's SD per table entry (0 for labels; a row with `mixSd` m: m·(mean_partner −
   * mean)), or null when no row mixes: MODEL_FORMAT.md §5 step 1, `addVoxelMix`.
   */
  mix: Float32Array | null;
  /** the voxels (flat indices, ascending) whose row has `mixSd` > 0; null with `mix` */
  mixVoxels: Int32Array | null;
}

/** Whether voxel i (at x, y, z) has a 6-neighbour inside the grid whose label is flagged. */
function touches(
  labels: Int32Array,
  flagged: Uint8Array,
  i: number,
  nx: number,
  ny: number,
  nz: number,
): boolean {
  const plane = nx * ny;
  const yz = (i / nx) | 0;
  const x = i - yz * nx;
  const z = (yz / ny) | 0;
  const y = yz - z * ny;
  return (
    (x > 0 && flagged[labels[i - 1]] === 1) ||
    (x < nx - 1 && flagged[labels[i + 1]] === 1) ||
    (y > 0 && flagged[labels[i - nx]] === 1) ||
    (y < ny - 1 && flagged[labels[i + nx]] === 1) ||
    (z > 0 && flagged[labels[i - plane]] === 1) ||
    (z < nz - 1 && flagged[labels[i + plane]] === 1)
  );
}

/**
 * Layer numbers (1..nLayers) of the group's voxels `members` (flat indices), written into `out`
 * (0 elsewhere): breadth-first from the voxels flagged in `source` over 6-neighbours inside the
 * grid and inside the group (`inGroup`, by label index).
 */
function numberLayers(
  labels: Int32Array,
  shape: readonly number[],
  members: Int32Array,
  inGroup: Uint8Array,
  source: Uint8Array,
  nLayers: number,
  out: Uint8Array,
): void {
  if (!(nLayers >= 1 && nLayers < 256))
    throw new Error(`a depth group needs 1–255 layers (got ${nLayers})`);
  const [nx, ny, nz] = shape;
  const plane = nx * ny;
  let front: number[] = [];
  if (nLayers > 1) {
    for (const i of members) {
      if (touches(labels, source, i, nx, ny, nz)) {
        out[i] = 1;
        front.push(i);
      }
    }
  }
  for (let k = 2; k < nLayers; k++) {
    const next: number[] = [];
    const visit = (j: number) => {
      if (out[j] === 0 && inGroup[labels[j]] === 1) {
        out[j] = k;
        next.push(j);
      }
    };
    for (const i of front) {
      const x = i % nx;
      const y = ((i - x) / nx) % ny;
      const z = (i - x - y * nx) / plane;
      if (x > 0) visit(i - 1);
      if (x < nx - 1) visit(i + 1);
      if (y > 0) visit(i - nx);
      if (y < ny - 1) visit(i + nx);
      if (z > 0) visit(i - plane);
      if (z < nz - 1) visit(i + plane);
    }
    front = next;
  }
  for (const i of members) if (out[i] === 0) out[i] = nLayers;
}

/**
 * Layer numbers (1..nLayers) of the voxels whose label index is flagged in `inGroup`, 0 elsewhere:
 * breadth-first from the voxels flagged in `source` over 6-neighbours inside the grid.
 */
export function depthLayerNumbers(
  labels: Int32Array,
  shape: readonly number[],
  inGroup: Uint8Array,
  source: Uint8Array,
  nLayers: number,
): Uint8Array {
  const out = new Uint8Array(labels.length);
  const [members] = groupMembers(labels, inGroup, 1);
  numberLayers(labels, shape, members, inGroup, source, nLayers, out);
  return out;
}

/**
 * The render tables for `labels` (label indices, x fastest): with the model's depth layers, the
 * remapped index and the tables with the rows appended; without, the inputs unchanged.
 */
export function appearanceTables(
  model: Model,
  labels: Int32Array,
  means: Float32Array,
  sds: Float32Array,
  wmMask: Uint8Array,
): AppearanceTables {
  const spec = model.manifest.appearance.depthLayers;
  if (!spec || spec.length === 0)
    return { index: labels, means, sds, wmMask, mix: null, mixVoxels: null };
  if (spec.length > 255) throw new Error('at most 255 depth groups');
  const f = Math.fround;
  const nLabels = means.length;
  const [nx, ny, nz] = model.grid.shape;
  const index = labels.slice();
  const rowLabel: number[] = [];
  const rowPartner: number[] = [];
  const rowWeight: number[] = [];
  const rowSd: number[] = [];
  const rowMix: number[] = [];
  const mixing: number[] = []; // voxels whose row has a voxel mix, group by group
  // one pass collects every group's voxels
  const groupOf = new Uint8Array(nLabels);
  spec.forEach((group, g) => {
    for (const v of group.labels) {
      const l = model.labels.indexOfValue.get(v);
      if (l === undefined) continue;
      if (groupOf[l] !== 0) throw new Error(`label ${v} is in two depth groups`);
      groupOf[l] = g + 1;
    }
  });
  const members = groupMembers(labels, groupOf, spec.length);
  const layer = new Uint8Array(labels.length);
  spec.forEach((group, g) => {
    const surface = group.surface;
    if (surface && surface.layers.length !== group.layers.length)
      throw new Error("a depth group's surface needs as many layers as the group");
    const inGroup = valueMask(model.labels, group.labels);
    const nRows = group.layers.length;
    numberLayers(
      labels,
      model.grid.shape,
      members[g],
      inGroup,
      valueMask(model.labels, group.from),
      nRows,
      layer,
    );
    // row of (label index, layer): the first row of each label in the group; its surface rows
    // follow its other rows
    const firstRow = new Int32Array(nLabels).fill(-1);
    group.labels.forEach((value, li) => {
      const l = model.labels.indexOfValue.get(value);
      if (l === undefined) return;
      firstRow[l] = nLabels + rowLabel.length;
      for (const row of [...group.layers, ...(surface?.layers ?? [])]) {
        rowLabel.push(l);
        rowPartner.push(model.labels.indexOfValue.get(row.toward[li]) ?? l);
        rowWeight.push(row.weight);
        rowSd.push(row.sdScale ?? 1);
        rowMix.push(row.mixSd ?? 0);
      }
    });
    const onSurface = surface ? valueMask(model.labels, surface.labels) : null;
    for (const i of members[g]) {
      const first = firstRow[labels[i]];
      if (first < 0) continue;
      const lift = onSurface && touches(labels, onSurface, i, nx, ny, nz) ? nRows : 0;
      index[i] = first + layer[i] - 1 + lift;
      if (rowMix[index[i] - nLabels] > 0) mixing.push(i);
    }
  });
  const total = nLabels + rowLabel.length;
  const mixes = rowMix.some((v) => v > 0);
  const m = new Float32Array(total);
  const s = new Float32Array(total);
  const w = new Uint8Array(total);
  const mix = mixes ? new Float32Array(total) : null;
  m.set(means);
  s.set(sds);
  w.set(wmMask);
  rowLabel.forEach((l, r) => {
    const p = rowPartner[r];
    m[nLabels + r] = f(means[l] + f(f(rowWeight[r]) * f(means[p] - means[l])));
    s[nLabels + r] = f(sds[l] * f(rowSd[r]));
    w[nLabels + r] = wmMask[l];
    if (mix) mix[nLabels + r] = f(f(rowMix[r]) * f(means[p] - means[l]));
  });
  // flat order across the groups
  const mixVoxels = mix ? Int32Array.from(mixing).sort() : null;
  return { index, means: m, sds: s, wmMask: w, mix, mixVoxels };
}

/**
 * The depth rows' voxel mix (MODEL_FORMAT.md §5 step 1, after the sulcal CSF mix, before the
 * partial-volume blur), in place: a voxel whose table entry has a mix SD adds
 * `mix[entry] · v_i`, v_i the i-th normal of stream s + 6 (`normalF32At`: only those voxels'
 * normals are drawn). At 2 mm a cortex voxel holds its own mix of grey matter with CSF or white
 * matter, unlike its neighbour's: variation from voxel to voxel, where the texture field's is
 * spatially correlated.
 */
export function addVoxelMix(
  img: Float32Array,
  tables: Pick<AppearanceTables, 'index' | 'mix' | 'mixVoxels'>,
  seed: number,
): void {
  const { index, mix, mixVoxels } = tables;
  if (!mix || !mixVoxels) return;
  const f = Math.fround;
  const stream = streamSeed(seed, 6);
  for (const i of mixVoxels) img[i] = f(img[i] + f(mix[index[i]] * normalF32At(stream, i)));
}
