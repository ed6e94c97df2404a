/**
 * "Place" a lesion by clicking in the viewer: a click (RAS mm) becomes condition values of the
 * current pathology, checked against the conditions schema like any typed value (a refused
 * click changes nothing and says why). Pure: the controller commits the values, the engine
 * samples them, the viewer shows the result (conditions → engine → volume → viewer).
 *
 * - Glioma: the click sets the tumour centre (gliomaCenter{X,Y,Z}Mm, rounded to the schema's
 *   step); a drag from the centre sets the radius (gliomaRadiusMm, the drag's length in mm).
 * - Stroke: the click's x sets the side (x > 0 is the subject's right, RAS); the territory and
 *   size stay as set in the conditions panel (the engine does not expose its territory atlas
 *   to the UI). A click on the midline (|x| < 1 mm) is refused: it has no side.
 */
import { controlSpec, numberProblem, type ConditionValues, type ConditionsSchema } from './schema';

export type Vec3 = [number, number, number];

/** Pathologies that can be placed by a click. */
export const PLACEABLE = ['glioma', 'stroke'] as const;

/** Half-width of the midline band (mm) in which a stroke click has no side. */
export const MIDLINE_MM = 1;

/** A drag shorter than this (mm, in the slice) is a click: the radius is left as it was. */
export const MIN_DRAG_MM = 2;

export type PlaceResult =
  { ok: true; values: ConditionValues; summary: string } | { ok: false; error: string };

export function isPlaceable(pathology: unknown): boolean {
  return (PLACEABLE as readonly unknown[]).includes(pathology);
}

function roundToStep(v: number, step: number): number {
  const r = Math.round(v / step) * step;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return Number(r.toFixed(decimals));
}

/** A number condition from a raw value: rounded to its step, or the schema's refusal. */
function numberValue(
  schema: ConditionsSchema,
  name: string,
  raw: number,
): { value: number } | { error: string } {
  const prop = schema.properties[name];
  if (!prop) return { error: `this model has no condition "${name}"` };
  const spec = controlSpec(name, prop);
  if (spec.kind !== 'number') return { error: `"${name}" is not a number condition` };
  const value = roundToStep(raw, spec.step);
  const problem = numberProblem(spec, value);
  return problem ? { error: `${problem}; the click gives ${value}` } : { value };
}

/**
 * The condition values a click (and optional drag to `endMm`) at `centreMm` means for the
 * pathology in `values`, or why it is refused.
 */
export function placeValues(
  schema: ConditionsSchema,
  values: ConditionValues,
  centreMm: Vec3,
  endMm: Vec3 | null = null,
): PlaceResult {
  const pathology = values.pathology;
  if (!centreMm.every(Number.isFinite))
    return { ok: false, error: 'Click inside an image slice (not the 3D render) to place it.' };
  if (pathology === 'glioma') {
    const out: ConditionValues = {};
    const axes = ['gliomaCenterXMm', 'gliomaCenterYMm', 'gliomaCenterZMm'];
    const problems: string[] = [];
    axes.forEach((name, a) => {
      const r = numberValue(schema, name, centreMm[a]);
      if ('error' in r) problems.push(r.error);
      else out[name] = r.value;
    });
    let radius = '';
    if (endMm && endMm.every(Number.isFinite)) {
      const d = Math.hypot(endMm[0] - centreMm[0], endMm[1] - centreMm[1], endMm[2] - centreMm[2]);
      if (d >= MIN_DRAG_MM) {
        const r = numberValue(schema, 'gliomaRadiusMm', d);
        if ('error' in r) problems.push(r.error);
        else {
          out.gliomaRadiusMm = r.value;
          radius = `, radius ${r.value} mm`;
        }
      }
    }
    if (problems.length > 0)
      return { ok: false, error: `Tumour not placed: ${problems.join('; ')}.` };
    const c = axes.map((n) => out[n]).join(', ');
    return { ok: true, values: out, summary: `Tumour centre ${c} mm${radius}` };
  }
  if (pathology === 'stroke') {
    const x = centreMm[0];
    if (Math.abs(x) < MIDLINE_MM)
      return {
        ok: false,
        error: `Stroke not placed: x = ${x.toFixed(1)} mm is on the midline; click left or right of it.`,
      };
    const side = x > 0 ? 'right' : 'left';
    const prop = schema.properties.strokeSide;
    if (!prop || !('enum' in prop) || !prop.enum.includes(side))
      return { ok: false, error: `Stroke not placed: this model has no stroke side "${side}".` };
    return { ok: true, values: { strokeSide: side }, summary: `Stroke on the ${side} side` };
  }
  return {
    ok: false,
    error: `Choose Glioma or Chronic stroke as the pathology to place a lesion by clicking.`,
  };
}
