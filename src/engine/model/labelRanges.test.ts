import { describe, expect, it } from 'vitest';
import { buildSyntheticModel } from '../testing/syntheticModel';
import { isIcvValue, isIntracranialValue, isPathologyValue } from './labelRanges';
import { ManifestError, validateManifest } from './validateManifest';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('manifest contract: label ranges, student normalisation, pathology needs', () => {
  it('classifies label values by the manifest labelRanges, not by built-in numbers', () => {
    const { manifest } = buildSyntheticModel();
    expect([2, 701, 721, 507, 0].map((v) => isPathologyValue(manifest, v))).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
    expect([2, 701, 507].map((v) => isIcvValue(manifest, v))).toEqual([true, true, false]);
    const moved = { ...manifest, labelRanges: { intracranial: [1, 99], pathology: [600, 650] } };
    const m = moved as typeof manifest;
    expect(isPathologyValue(m, 701)).toBe(false);
    expect(isPathologyValue(m, 640)).toBe(true);
    expect(isIntracranialValue(m, 120)).toBe(false);
  });

  it('rejects a student without a usable age normalisation', () => {
    const { manifest } = buildSyntheticModel();
    const withStudent = (arch: unknown) => ({
      ...clone(manifest),
      student: { file: 'student/model.json', architecture: arch },
    });
    const ok = {
      features: ['z0', 'age'],
      featureNormalisation: { age: { offset: 55, scale: 35 } },
    };
    expect(() => validateManifest(withStudent(ok))).not.toThrow();
    expect(() => validateManifest(withStudent({ features: ['z0', 'age'] }))).toThrow(
      /featureNormalisation\.age is missing/,
    );
    const zero = { ...ok, featureNormalisation: { age: { offset: 55, scale: 0 } } };
    expect(() => validateManifest(withStudent(zero))).toThrow(ManifestError);
  });

  it("reports a pathology module's needs (labels, arrays, gains) at load time", () => {
    const { manifest } = buildSyntheticModel();
    const m = clone(manifest);
    m.labels = m.labels.map((l) => (l.value === 713 ? { ...l, value: 714 } : l));
    delete m.arrays.territories;
    m.pathology.alzheimers = { gainsAtSeverity1: [1] };
    let problems: string[] = [];
    try {
      validateManifest(m);
    } catch (e) {
      problems = (e as ManifestError).problems;
    }
    expect(problems).toEqual([
      'pathology.alzheimers.gainsAtSeverity1 has 1 entries, expected 4',
      'pathology.glioma needs label 713 in labels',
      'pathology.stroke needs arrays.territories',
    ]);
  });
});
