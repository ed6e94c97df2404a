/**
 * Regional volumes (MODEL_FORMAT.md §3 step 8): voxel counts × voxel volume, grouped by the
 * manifest's `regions`, plus `icv`, plus one entry per pathology label present (by its name).
 *
 * `icv` counts label values 1..499 as the spec says (brain, ventricles, CSF; not the 502+
 * extra-cerebral classes) AND the pathology labels 700..799: lesions replace intracranial
 * tissue, so leaving them out would shrink the ICV of a brain with a 3 cm glioma by ~100 mL.
 * Without pathology this is identical to the spec (and to brainsynth.anatomy.region_volumes_ml,
 * whose key is also `icv`).
 */
import type { Model } from '../model/loadModel';

export function labelCounts(labels: Int32Array, nLabels: number): Float64Array {
  const counts = new Float64Array(nLabels);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

export function regionalVolumesMl(model: Model, labels: Int32Array): Record<string, number> {
  const table = model.labels;
  const counts = labelCounts(labels, table.infos.length);
  const mlByValue = new Map<number, number>();
  table.infos.forEach((l, i) =>
    mlByValue.set(l.value, (mlByValue.get(l.value) ?? 0) + counts[i] * model.grid.voxelMl),
  );
  const out: Record<string, number> = {};
  for (const r of model.manifest.regions) {
    out[r.name] = r.labels.reduce((s, v) => s + (mlByValue.get(v) ?? 0), 0);
  }
  let icv = 0;
  for (const [v, ml] of mlByValue) if ((v >= 1 && v <= 499) || (v >= 700 && v <= 799)) icv += ml;
  out.icv = icv;
  table.infos.forEach((l, i) => {
    if (l.value >= 700 && l.value <= 799 && counts[i] > 0)
      out[l.name] = counts[i] * model.grid.voxelMl;
  });
  return out;
}
