/** Number formatting for readouts (no DOM). */

/**
 * An image intensity with 3 significant digits: 0.4567 → "0.457", 12.345 → "12.3",
 * 812.6 → "813"; whole numbers from 1000 up (1234.5 → "1235"). Normalised images (0..1)
 * were unreadable when rounded to whole numbers.
 */
export function formatIntensity(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toString();
  return Number(v.toPrecision(3)).toString();
}
