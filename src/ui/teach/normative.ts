/**
 * The model's normative table (normative_table.csv: median regional volumes in mL by sex and
 * year of age, DLMUSE region definitions) turned into curves in THIS model's units, with bands.
 *
 * - Units: the model's regions are FreeSurfer-defined, the table's DLMUSE-defined, so their
 *   absolute volumes differ (deep grey matter 45 vs 16 mL at 45 y). The model was calibrated to
 *   follow the table's RELATIVE change with age (docs/MODEL.md §5), so the curve is the table's
 *   median × (model mL / table mL at the reference age), per region and sex, the factor from
 *   the manifest's `metrics.conditioning` rows (z = 0, the mean individual).
 * - Bands: the table holds medians only. The spread used is the head-size spread of the model
 *   (manifest `calibration.icvLogSd`, a log-normal SD): regional volume scales with head size,
 *   so the bands are median × exp(±1 SD) (16–84 %) and × exp(±1.96 SD) (2.5–97.5 %). This is
 *   the between-subject spread the model draws, not a fitted population centile.
 */

export type Sex = 'female' | 'male';

export interface NormativeTable {
  /** Column names after sex and age (region names, plus `icv`). */
  regions: string[];
  /** rows[sex] sorted by age: {age, values (per region, mL)}. */
  rows: Record<Sex, { age: number; values: number[] }[]>;
}

export function parseNormativeTable(text: string): NormativeTable {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length < 2) throw new Error('the normative table is empty');
  const head = lines[0].split(',');
  if (head[0] !== 'sex' || head[1] !== 'age')
    throw new Error('the normative table does not start with the columns "sex,age"');
  const regions = head.slice(2);
  const rows: NormativeTable['rows'] = { female: [], male: [] };
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',');
    const sex = cells[0];
    const age = Number(cells[1]);
    const values = cells.slice(2).map(Number);
    if (
      (sex !== 'female' && sex !== 'male') ||
      !Number.isFinite(age) ||
      values.length !== regions.length ||
      values.some((v) => !Number.isFinite(v) || v < 0)
    )
      throw new Error(
        `the normative table's row ${i + 2} is not "sex,age,<${regions.length} volumes>"`,
      );
    rows[sex].push({ age, values });
  });
  for (const sex of ['female', 'male'] as const) {
    if (rows[sex].length === 0) throw new Error(`the normative table has no rows for ${sex}`);
    rows[sex].sort((a, b) => a.age - b.age);
  }
  return { regions, rows };
}

/** Median (table units) of a region at an age: linear between the table's ages, no extrapolation. */
export function tableMedian(t: NormativeTable, sex: Sex, region: string, age: number): number {
  const r = t.regions.indexOf(region);
  if (r < 0) throw new Error(`the normative table has no region "${region}"`);
  const rows = t.rows[sex];
  if (age < rows[0].age || age > rows[rows.length - 1].age)
    throw new Error(
      `age ${age} is outside the normative table (${rows[0].age}–${rows[rows.length - 1].age})`,
    );
  let i = 0;
  while (i < rows.length - 1 && rows[i + 1].age <= age) i++;
  if (i === rows.length - 1 || rows[i].age === age) return rows[i].values[r];
  const f = (age - rows[i].age) / (rows[i + 1].age - rows[i].age);
  return rows[i].values[r] * (1 - f) + rows[i + 1].values[r] * f;
}

/** One `metrics.conditioning` row of the manifest (what is read of it). */
export interface ConditioningRow {
  sex: string;
  age: number;
  region: string;
  modelMl: number;
  normativeMl: number;
}

/**
 * Factor from table units to model units per sex and region: model mL / table mL at the age
 * nearest `refAge` that has a row for that region and sex.
 */
export function unitFactors(
  rows: ConditioningRow[],
  refAge = 45,
): Record<Sex, Record<string, number>> {
  const out: Record<Sex, Record<string, number>> = { female: {}, male: {} };
  const best: Record<string, number> = {};
  for (const r of rows) {
    if (r.sex !== 'female' && r.sex !== 'male') continue;
    if (!(r.modelMl > 0 && r.normativeMl > 0)) continue;
    const key = `${r.sex}/${r.region}`;
    const d = Math.abs(r.age - refAge);
    if (best[key] !== undefined && best[key] <= d) continue;
    best[key] = d;
    out[r.sex][r.region] = r.modelMl / r.normativeMl;
  }
  return out;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

export interface NormativeCurve {
  region: string;
  ages: number[];
  median: number[];
  lo95: number[];
  lo68: number[];
  hi68: number[];
  hi95: number[];
}

export class NormativeModel {
  constructor(
    readonly table: NormativeTable,
    readonly factors: Record<Sex, Record<string, number>>,
    /** Log-normal SD of the between-subject spread. */
    readonly logSd: number,
    /**
     * Regions the model does not steer to the table (calibration.tiedRegions: they follow a
     * neighbour's gain, so the table's curve is not what the model draws): not charted.
     */
    readonly notCalibrated: readonly string[] = [],
  ) {
    if (!(logSd > 0)) throw new Error('the spread (calibration.icvLogSd) must be positive');
  }

  /** Regions with both a table column and a unit factor for this sex. */
  regions(sex: Sex): string[] {
    return this.table.regions.filter(
      (r) => this.factors[sex][r] !== undefined && !this.notCalibrated.includes(r),
    );
  }

  median(sex: Sex, region: string, age: number): number {
    const f = this.factors[sex][region];
    if (f === undefined) throw new Error(`no model units for region "${region}" (${sex})`);
    return tableMedian(this.table, sex, region, age) * f;
  }

  /** Centile (0–100) of a volume for this sex and age. */
  centile(sex: Sex, region: string, age: number, ml: number): number {
    if (!(ml > 0)) return 0;
    return 100 * normalCdf(Math.log(ml / this.median(sex, region, age)) / this.logSd);
  }

  curve(sex: Sex, region: string): NormativeCurve {
    const ages = this.table.rows[sex].map((r) => r.age);
    const median = ages.map((a) => this.median(sex, region, a));
    const k = (z: number) => median.map((m) => m * Math.exp(z * this.logSd));
    return { region, ages, median, lo95: k(-1.96), lo68: k(-1), hi68: k(1), hi95: k(1.96) };
  }
}
