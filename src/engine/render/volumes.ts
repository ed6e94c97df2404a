/**
 * Regional volumes (MODEL_FORMAT.md §3 step 8): voxel counts × voxel volume, grouped by the
 * manifest's `regions`, plus `icv`, plus one entry per pathology label present (by its name).
 *
 * `icv` counts the manifest's `labelRanges.intracranial` values (brain, ventricles, CSF; not the
 * extra-cerebral classes) AND its `labelRanges.pathology` values: lesions replace intracranial
 * tissue, so leaving them out would shrink the ICV of a brain with a 3 cm glioma by ~100 mL.
 * The same rule as brainsynth.anatomy.region_volumes (whose key is also `icv`).
 */
import { isIcvValue, isPathologyValue } from '../model/labelRanges';
import type { Model } from '../model/loadModel';

export function labelCounts(labels: Int32Array, nLabels: number): Float64Array {
  const counts = new Float64Array(nLabels);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

export function regionalVolumesMl(model: Model, labels: Int32Array): Record<string, number> {
  return regionalVolumesFromCounts(model, labelCounts(labels, model.labels.infos.length));
}

/** `regionalVolumesMl` from voxel counts per label index (`labelCounts`). */
export function regionalVolumesFromCounts(
  model: Model,
  counts: Float64Array,
): Record<string, number> {
  const table = model.labels;
  const mlByValue = new Map<number, number>();
  table.infos.forEach((l, i) =>
    mlByValue.set(l.value, (mlByValue.get(l.value) ?? 0) + counts[i] * model.grid.voxelMl),
  );
  const out: Record<string, number> = {};
  for (const r of model.manifest.regions) {
    out[r.name] = r.labels.reduce((s, v) => s + (mlByValue.get(v) ?? 0), 0);
  }
  let icv = 0;
  for (const [v, ml] of mlByValue) if (isIcvValue(model.manifest, v)) icv += ml;
  out.icv = icv;
  table.infos.forEach((l, i) => {
    if (isPathologyValue(model.manifest, l.value) && counts[i] > 0)
      out[l.name] = counts[i] * model.grid.voxelMl;
  });
  return out;
}
