/**
 * Validates a parsed manifest.json: structure with the JSON Schema in manifestSchema.ts, then
 * the cross-field rules of MODEL_FORMAT.md §2 (array shapes match the grids, per-label tables
 * have one entry per label, gains have one entry per region, …). Every problem is reported at
 * once in one Error, so a broken model is diagnosed in one look.
 */
import { compileSchema, formatAjvErrors } from '../jsonSchema';
import type { ArraySpec, GridSpec, ModelManifest } from './manifest';
import { manifestSchema } from './manifestSchema';
import { pathologyModules } from '../pathologies/registry';

export class ManifestError extends Error {
  constructor(
    readonly problems: string[],
    source: string,
  ) {
    super(`Invalid model manifest (${source}):\n- ${problems.join('\n- ')}`);
    this.name = 'ManifestError';
  }
}

export function validateManifest(input: unknown, source = 'manifest.json'): ModelManifest {
  const validate = compileSchema(manifestSchema);
  if (!validate(input)) {
    throw new ManifestError(formatAjvErrors(validate.errors, 'manifest'), source);
  }
  const m = input as ModelManifest;
  const problems = crossFieldProblems(m);
  if (problems.length > 0) throw new ManifestError(problems, source);
  return m;
}

function crossFieldProblems(m: ModelManifest): string[] {
  const p: string[] = [];
  p.push(...gridProblems('grid', m.grid), ...gridProblems('velocityGrid', m.velocityGrid));

  const nLabels = m.labels.length;
  m.labels.forEach((l, i) => {
    if (l.index !== i) p.push(`labels[${i}].index is ${l.index}, expected ${i} (index = position)`);
  });
  const values = new Set<number>();
  for (const l of m.labels) {
    if (values.has(l.value)) p.push(`label value ${l.value} appears twice`);
    values.add(l.value);
  }

  const [nx, ny, nz] = m.grid.shape;
  const [vx, vy, vz] = m.velocityGrid.shape;
  const K = m.shapeModel.components;
  const R = m.regions.length;
  const a = m.arrays;
  p.push(...shapeProblems('arrays.templateLabels', a.templateLabels, [nx, ny, nz]));
  if (a.templateLabels.dtype !== 'uint8' && a.templateLabels.dtype !== 'int16') {
    p.push('arrays.templateLabels.dtype must be uint8 or int16 (label indices)');
  }
  p.push(...shapeProblems('arrays.shapeComponents', a.shapeComponents, [K, vz, vy, vx, 3]));
  p.push(...shapeProblems('arrays.regionalBasis', a.regionalBasis, [R, vz, vy, vx, 3]));
  if (a.msLesionPrior)
    p.push(...shapeProblems('arrays.msLesionPrior', a.msLesionPrior, [nx, ny, nz]));
  if (a.territories) p.push(...shapeProblems('arrays.territories', a.territories, [nx, ny, nz]));
  if (a.strokeLogFrequency)
    p.push(...shapeProblems('arrays.strokeLogFrequency', a.strokeLogFrequency, [nx, ny, nz]));
  if (a.corticalDepth)
    p.push(...shapeProblems('arrays.corticalDepth', a.corticalDepth, [nx, ny, nz]));
  if (m.folding && !a.corticalDepth) p.push('folding needs arrays.corticalDepth');
  for (const [name, spec] of Object.entries(a)) {
    if (spec) p.push(...scaleProblems(`arrays.${name}`, spec));
  }

  if (m.shapeModel.sigma.length !== K) {
    p.push(`shapeModel.sigma has ${m.shapeModel.sigma.length} entries, expected ${K} (components)`);
  }

  const c = m.calibration;
  for (let i = 1; i < c.ages.length; i++) {
    if (!(c.ages[i] > c.ages[i - 1])) p.push('calibration.ages must be strictly increasing');
  }
  for (const sex of ['female', 'male'] as const) {
    const rows = c.gains[sex];
    if (rows.length !== c.ages.length) {
      p.push(`calibration.gains.${sex} has ${rows.length} rows, expected ${c.ages.length} (ages)`);
    }
    rows.forEach((r, i) => {
      if (r.length !== R)
        p.push(`calibration.gains.${sex}[${i}] has ${r.length} gains, expected ${R} (regions)`);
    });
  }

  p.push(...sizingProblems(m));

  // Each pathology module states what it needs from the model (gains, arrays, labels).
  for (const module of pathologyModules()) p.push(...(module.manifestProblems?.(m) ?? []));
  p.push(...studentProblems(m));
  const [lo, hi] = m.labelRanges.pathology;
  if (!(lo <= hi)) p.push(`labelRanges.pathology [${lo}, ${hi}] is empty`);

  for (const [name, t] of Object.entries(m.appearance.contrasts)) {
    if (t.mean.length !== nLabels)
      p.push(
        `appearance.contrasts.${name}.mean has ${t.mean.length} entries, expected ${nLabels} (labels)`,
      );
    if (t.sd.length !== nLabels)
      p.push(
        `appearance.contrasts.${name}.sd has ${t.sd.length} entries, expected ${nLabels} (labels)`,
      );
  }
  for (const [name, t] of Object.entries(m.appearance.ageSlopePerDecade ?? {})) {
    if (t && t.mean.length !== nLabels) {
      p.push(
        `appearance.ageSlopePerDecade.${name}.mean has ${t.mean.length} entries, expected ${nLabels}`,
      );
    }
  }
  return p;
}

/** Step 7c: every factor table has one row per age (and the ages increase). */
function sizingProblems(m: ModelManifest): string[] {
  const p: string[] = [];
  const { sizing, horns } = m;
  const sexes = ['female', 'male'] as const;
  let name = 'sizing';
  let ages: number[] = [];
  const tables: [string, number[]][] = [];
  if (sizing) {
    ages = sizing.ages;
    sizing.structures.forEach((s, i) => {
      for (const sex of sexes)
        tables.push([`sizing.structures[${i}].factor.${sex}`, s.factor[sex]]);
    });
  } else if (horns) {
    name = 'horns';
    ages = horns.ages;
    for (const sex of sexes) tables.push([`horns.factor.${sex}`, horns.factor[sex]]);
  }
  for (let i = 1; i < ages.length; i++)
    if (!(ages[i] > ages[i - 1])) p.push(`${name}.ages must be strictly increasing`);
  for (const [table, rows] of tables)
    if (rows.length !== ages.length)
      p.push(`${table} has ${rows.length} entries, expected ${ages.length} (ages)`);
  return p;
}

/** The student's input normalisation (docs/MODEL.md "Student"): finite offsets, non-zero scales. */
function studentProblems(m: ModelManifest): string[] {
  const arch = m.student?.architecture;
  if (!m.student || !arch) return [];
  const p: string[] = [];
  const norm = arch.featureNormalisation ?? {};
  for (const [name, n] of Object.entries(norm)) {
    if (!Number.isFinite(n?.offset) || !Number.isFinite(n?.scale) || n.scale === 0)
      p.push(
        `student.architecture.featureNormalisation.${name} needs a finite offset and scale ≠ 0`,
      );
  }
  const features = arch.features;
  if (Array.isArray(features) && features.includes('age') && !norm.age)
    p.push('student.architecture.featureNormalisation.age is missing (the student reads age)');
  return p;
}

function gridProblems(name: string, g: GridSpec): string[] {
  const p: string[] = [];
  // The engine samples with origin + spacing (axis-aligned grids, §2); the affine is what the
  // NIfTI files carry. They must agree, or volumes would be written at the wrong place.
  for (let r = 0; r < 3; r++) {
    for (let col = 0; col < 3; col++) {
      const expected = r === col ? g.spacing[r] : 0;
      if (Math.abs(g.affine[r][col] - expected) > 1e-4) {
        p.push(
          `${name}.affine must be axis-aligned with diagonal = spacing (row ${r}, column ${col})`,
        );
      }
    }
    if (Math.abs(g.affine[r][3] - g.origin[r]) > 1e-4) {
      p.push(`${name}.affine translation (row ${r}) differs from origin`);
    }
  }
  return p;
}

function shapeProblems(name: string, spec: ArraySpec, expected: number[]): string[] {
  const same =
    spec.shape.length === expected.length && spec.shape.every((v, i) => v === expected[i]);
  return same
    ? []
    : [`${name}.shape is [${spec.shape.join(', ')}], expected [${expected.join(', ')}]`];
}

function scaleProblems(name: string, spec: ArraySpec): string[] {
  if (Array.isArray(spec.scale) && spec.scale.length !== spec.shape[0]) {
    return [
      `${name}.scale has ${spec.scale.length} entries, expected ${spec.shape[0]} (one per component)`,
    ];
  }
  return [];
}
