/** The healthy brain: no gain terms, no lesions. */
import type { PathologyModule, PathologyPlan } from './types';

export const none: PathologyModule<PathologyPlan> = {
  id: 'none',
  labels: [],
  plan: () => ({ pathology: 'none' }),
  draw: () => ({ type: 'none' }),
};
