/**
 * Alzheimer's disease (docs/MODEL_FORMAT.md §4): atrophy through the regional gains only,
 * g += adSeverity · pathology.alzheimers.gainsAtSeverity1; no lesion labels.
 */
import type { PathologyModule, PathologyPlan } from './types';

export interface AlzheimersPlan extends PathologyPlan {
  pathology: 'alzheimers';
  severity: number;
}

const severityOf = (c: { adSeverity?: number }) => c.adSeverity ?? 0;

export const alzheimers: PathologyModule<AlzheimersPlan> = {
  id: 'alzheimers',
  labels: [],
  manifestProblems(m) {
    const ad = m.pathology.alzheimers;
    const R = m.regions.length;
    return ad && ad.gainsAtSeverity1.length !== R
      ? [
          `pathology.alzheimers.gainsAtSeverity1 has ${ad.gainsAtSeverity1.length} entries, expected ${R}`,
        ]
      : [];
  },
  gains(manifest, c, g) {
    const ad = manifest.pathology.alzheimers;
    if (!ad)
      throw new Error(`Model ${manifest.id} has no Alzheimer's gains (pathology.alzheimers)`);
    const sev = severityOf(c);
    ad.gainsAtSeverity1.forEach((v, r) => (g[r] += sev * v));
  },
  plan: (_model, c) => ({ pathology: 'alzheimers', severity: severityOf(c) }),
  draw: (_ctx, plan) => ({ type: 'alzheimers', severity: plan.severity }),
  studentFeatures: { adSeverity: severityOf },
};
