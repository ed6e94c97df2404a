/**
 * Step 7c (MODEL_FORMAT.md §3): the temporal horns (inferior lateral ventricles) sized for age,
 * sex and Alzheimer's disease, on the label map, after the folding (7b).
 *
 * The 6 mm regional basis cannot steer these thin slits, so their size is set directly: per
 * side, n = the side's horn voxels, target m = floor(n·f(age, sex)·A^adSeverity + ½) (A only
 * under Alzheimer's disease); the horn grows into that side's cerebral WM one 6-neighbour layer
 * at a time (the last layer in increasing flat index, x fastest, until m), or shrinks back to
 * WM one rim layer at a time (the last layer in decreasing flat index). The same rule as
 * `brainsynth/horns.py`, so labels agree voxel for voxel with the teacher. Hand-written: the
 * rule acts on this model's own label map.
 */
import type { Conditions } from '../generated/conditions';
import type { Model } from '../model/loadModel';
import type { ModelManifest } from '../model/manifest';
import { interpAge } from './latents';

/** The manifest's `horns` parameters (type generated from manifest.schema.json). */
export type HornParams = NonNullable<ModelManifest['horns']>;

/** [horn, cerebral WM] label values per side (FreeSurfer). */
const SIDES: readonly [number, number][] = [
  [5, 2],
  [44, 41],
];

export function hasHorns(model: Model): boolean {
  return model.manifest.horns !== undefined;
}

/** f(age, sex)·A^severity (A only under Alzheimer's disease). */
export function hornFactor(p: HornParams, c: Conditions): number {
  const table = p.factor[c.sex].map((v) => [v]);
  let f = interpAge(p.ages, table, c.age)[0];
  if (c.pathology === 'alzheimers') f *= Math.pow(p.adFactor, c.adSeverity ?? 0);
  return f;
}

/** What step 7c did per side (horn label value → voxels before, target, after). */
export type HornReport = Record<string, { before: number; target: number; after: number }>;

/**
 * Step 7c on label *indices* (`labels`, x fastest), edited in place. Returns what was done.
 * A model without `horns` is left unchanged.
 */
export function applyHorns(model: Model, labels: Int32Array, c: Conditions): HornReport {
  const p = model.manifest.horns;
  const out: HornReport = {};
  if (!p) return out;
  const f = hornFactor(p, c);
  const [nx, ny, nz] = model.grid.shape;
  const sx = 1;
  const sy = nx;
  const sz = nx * ny;
  // each side's horn count and bounding box, both sides in one scan (a side's growing or
  // shrinking below only relabels its own horn and WM, so the other side's box is unaffected)
  const sides = SIDES.map(([hornValue, wmValue]) => ({
    hornValue,
    horn: model.labels.indexOfValue.get(hornValue),
    wm: model.labels.indexOfValue.get(wmValue),
    n: 0,
    box: [nx, ny, nz, -1, -1, -1],
  }));
  const h0 = sides[0].horn ?? -1;
  const h1 = sides[1].horn ?? -1;
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        const l = labels[i];
        if (l !== h0 && l !== h1) continue;
        const s = sides[l === h0 ? 0 : 1];
        s.n++;
        const b = s.box;
        if (x < b[0]) b[0] = x;
        if (x > b[3]) b[3] = x;
        if (y < b[1]) b[1] = y;
        if (y > b[4]) b[4] = y;
        if (z < b[2]) b[2] = z;
        if (z > b[5]) b[5] = z;
      }
    }
  }
  for (const side of sides) {
    const { hornValue, horn, wm, n } = side;
    if (horn === undefined || wm === undefined) continue;
    let [x0, y0, z0, x1, y1, z1] = side.box;
    const m = Math.floor(n * f + 0.5);
    let count = n;
    if (n > 0 && m !== n) {
      const layer: number[] = [];
      // does voxel (x, y, z) have an in-grid 6-neighbour for which `test` holds?
      const neighbour = (x: number, y: number, z: number, test: (j: number) => boolean) => {
        const i = x + nx * (y + ny * z);
        return (
          (x > 0 && test(i - sx)) ||
          (x < nx - 1 && test(i + sx)) ||
          (y > 0 && test(i - sy)) ||
          (y < ny - 1 && test(i + sy)) ||
          (z > 0 && test(i - sz)) ||
          (z < nz - 1 && test(i + sz))
        );
      };
      const isHorn = (j: number) => labels[j] === horn;
      const notHorn = (j: number) => labels[j] !== horn;
      while (count !== m) {
        layer.length = 0;
        const grow = m > count;
        // the front (grow) lies one voxel outside the horn's box
        const bx0 = grow ? Math.max(x0 - 1, 0) : x0;
        const by0 = grow ? Math.max(y0 - 1, 0) : y0;
        const bz0 = grow ? Math.max(z0 - 1, 0) : z0;
        const bx1 = grow ? Math.min(x1 + 1, nx - 1) : x1;
        const by1 = grow ? Math.min(y1 + 1, ny - 1) : y1;
        const bz1 = grow ? Math.min(z1 + 1, nz - 1) : z1;
        for (let z = bz0; z <= bz1; z++) {
          for (let y = by0; y <= by1; y++) {
            for (let x = bx0; x <= bx1; x++) {
              const i = x + nx * (y + ny * z);
              if (grow) {
                if (labels[i] === wm && neighbour(x, y, z, isHorn)) layer.push(i);
              } else if (labels[i] === horn && neighbour(x, y, z, notHorn)) layer.push(i);
            }
          }
        }
        if (layer.length === 0) break;
        if (grow) {
          const take = Math.min(layer.length, m - count);
          for (let k = 0; k < take; k++) labels[layer[k]] = horn;
          count += take;
          x0 = bx0;
          y0 = by0;
          z0 = bz0;
          x1 = bx1;
          y1 = by1;
          z1 = bz1;
        } else {
          const take = Math.min(layer.length, count - m);
          for (let k = 0; k < take; k++) labels[layer[layer.length - 1 - k]] = wm;
          count -= take;
        }
      }
    }
    out[String(hornValue)] = { before: n, target: m, after: count };
  }
  return out;
}
