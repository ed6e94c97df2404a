/** Accuracy of a reading session with its Wilson score interval (no DOM). */

export interface Proportion {
  correct: number;
  n: number;
  /** correct / n (NaN when n = 0). */
  p: number;
  /** Wilson score interval [low, high] at the given z (95 %: z = 1.96); [0, 1] when n = 0. */
  ci: [number, number];
}

/**
 * Wilson score interval for k successes in n trials. Chosen over the normal ("Wald")
 * interval because reading sessions are small (n ≈ 10–40) and accuracies near 0 or 1 are
 * common; Wald collapses to zero width there.
 */
export function wilson(k: number, n: number, z = 1.96): Proportion {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n)
    throw new Error(`wilson: need integers 0 ≤ k ≤ n (got k=${k}, n=${n})`);
  if (n === 0) return { correct: 0, n: 0, p: NaN, ci: [0, 1] };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { correct: k, n, p, ci: [Math.max(0, centre - half), Math.min(1, centre + half)] };
}
