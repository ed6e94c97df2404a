/**
 * Window/level presets per contrast, from the intensities inside the head's intracranial labels
 * (the manifest's `labelRanges.intracranial`), so they fit any intensity scale:
 * - every contrast: "Brain" (1st–99th percentile), "Full range" (min–max of the image);
 * - FLAIR: "Lesions" (median–99.9th: hyperintense lesions stand out of a dark brain);
 * - T2w: "CSF" (10th–99.9th: bright fluid, compressed tissue);
 * - T1w: "Grey/white" (5th–95th: the narrow window that separates cortex from white matter).
 * - T1c: "Enhancement" (20th–99.9th: the enhancing rim and vessels stand out).
 */
import type { LabelRange } from './lesionFocus';

export interface WindowPreset {
  name: string;
  min: number;
  max: number;
}

/** The preset a generated volume opens with (controller.ts `brainWindow`). */
export const BRAIN_PRESET = 'Brain';

/** At most this many voxels are sorted for the percentiles (an even stride over the volume). */
const MAX_SAMPLES = 200_000;

function percentile(sorted: Float32Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))));
  return sorted[i];
}

export function windowPresets(
  image: ArrayLike<number>,
  labels: ArrayLike<number>,
  contrast: string,
  intracranial: LabelRange,
): WindowPreset[] {
  let lo = Infinity;
  let hi = -Infinity;
  let inside = 0;
  for (let i = 0; i < image.length; i++) {
    const v = image[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (labels[i] >= intracranial[0] && labels[i] <= intracranial[1]) inside++;
  }
  if (!Number.isFinite(lo)) return [];
  const stride = Math.max(1, Math.ceil(inside / MAX_SAMPLES));
  const sample = new Float32Array(Math.ceil(inside / stride));
  let k = 0;
  let seen = 0;
  for (let i = 0; i < image.length; i++) {
    const l = labels[i];
    if (l < intracranial[0] || l > intracranial[1] || !Number.isFinite(image[i])) continue;
    if (seen++ % stride === 0 && k < sample.length) sample[k++] = image[i];
  }
  const sorted = sample.subarray(0, k).sort();
  const at = (name: string, a: number, b: number): WindowPreset => ({
    name,
    min: percentile(sorted, a),
    max: percentile(sorted, b),
  });
  const presets: WindowPreset[] = [];
  if (k > 0) {
    presets.push(at(BRAIN_PRESET, 1, 99));
    if (contrast === 'FLAIR') presets.push(at('Lesions', 50, 99.9));
    if (contrast === 'T2w') presets.push(at('CSF', 10, 99.9));
    if (contrast === 'T1w') presets.push(at('Grey/white', 5, 95));
    if (contrast === 'T1c') presets.push(at('Enhancement', 20, 99.9));
  }
  presets.push({ name: 'Full range', min: lo, max: hi });
  return presets.filter((p) => p.max > p.min);
}
