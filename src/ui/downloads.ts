/**
 * File names and browser downloads for a generated volume.
 * brainsynth_<seed>_age<age>_<sex>[_<pathology>]_<contrast>.nii.gz   image
 * brainsynth_<seed>_age<age>_<sex>[_<pathology>]_dseg.nii.gz          label map (BIDS "dseg")
 * brainsynth_<seed>_age<age>_<sex>[_<pathology>]_<contrast>.json      sidecar
 */
import type { SampledVolume } from '../engine/types';

export type DownloadKind = 'image' | 'labels' | 'sidecar';

function ageToken(age: number): string {
  return Number.isInteger(age) ? String(age) : String(age).replace('.', 'p');
}

export function baseName(vol: Pick<SampledVolume, 'metadata'>): string {
  const { conditions: c, seed } = vol.metadata;
  const parts = ['brainsynth', String(seed), `age${ageToken(c.age)}`, c.sex];
  if (c.pathology && c.pathology !== 'none') parts.push(c.pathology);
  return parts.join('_');
}

export function fileName(vol: Pick<SampledVolume, 'metadata'>, kind: DownloadKind): string {
  const contrast = vol.metadata.conditions.contrast ?? 'T1w';
  const base = baseName(vol);
  if (kind === 'image') return `${base}_${contrast}.nii.gz`;
  if (kind === 'labels') return `${base}_dseg.nii.gz`;
  return `${base}_${contrast}.json`;
}

/** Save a blob through a temporary <a download> (the browser's normal download path). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
