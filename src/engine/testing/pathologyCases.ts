import type { Conditions } from '../generated/conditions';

/**
 * One condition set per pathology (and each contrast once), for tests that compare two paths of
 * the same algorithm (TypedArray vs tfjs kernels, WebAssembly vs TypedArray) case by case.
 */
export const PATHOLOGY_CASES: Conditions[] = [
  { age: 60, sex: 'female', pathology: 'none', contrast: 'T1w' },
  { age: 80, sex: 'male', pathology: 'alzheimers', adSeverity: 0.7, contrast: 'T2w' },
  {
    age: 50,
    sex: 'female',
    pathology: 'glioma',
    gliomaRadiusMm: 14,
    gliomaCenterXMm: 20,
    gliomaCenterYMm: -10,
    gliomaCenterZMm: 15,
    contrast: 'T1c',
  },
  { age: 45, sex: 'male', pathology: 'ms', msLesionLoadMl: 6, contrast: 'FLAIR' },
  { age: 70, sex: 'female', pathology: 'stroke', strokeSize: 0.5, contrast: 'T1w' },
];
