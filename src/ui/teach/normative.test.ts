import { describe, expect, it } from 'vitest';
import { fakeVolume } from '../testing/fakes';
import type { Conditions } from '../../engine/types';
import { ExplainController, placeRegions } from './explain';
import {
  NormativeModel,
  normalCdf,
  parseNormativeTable,
  tableMedian,
  unitFactors,
} from './normative';

const CSV = `# a comment
sex,age,hippocampus,lateral-ventricles,icv
female,20,8,10,1300
female,30,7,12,1300
male,20,9,14,1500
male,30,8,16,1500
`;

const ROWS = [
  { sex: 'female', age: 30, region: 'hippocampus', modelMl: 7.7, normativeMl: 7 },
  { sex: 'female', age: 20, region: 'hippocampus', modelMl: 999, normativeMl: 1 },
  { sex: 'female', age: 30, region: 'lateral-ventricles', modelMl: 12, normativeMl: 12 },
  { sex: 'male', age: 30, region: 'hippocampus', modelMl: 8, normativeMl: 8 },
];

describe('normative table', () => {
  it('parses, interpolates between ages and refuses ages outside it', () => {
    const t = parseNormativeTable(CSV);
    expect(t.regions).toEqual(['hippocampus', 'lateral-ventricles', 'icv']);
    expect(tableMedian(t, 'female', 'hippocampus', 25)).toBeCloseTo(7.5, 9);
    expect(tableMedian(t, 'male', 'lateral-ventricles', 30)).toBe(16);
    expect(() => tableMedian(t, 'female', 'hippocampus', 31)).toThrow(/outside/);
    expect(() => tableMedian(t, 'female', 'cortex', 25)).toThrow(/no region/);
  });

  it('says which row is bad', () => {
    expect(() => parseNormativeTable('sex,age,a\nfemale,20,x\n')).toThrow(/row 2/);
    expect(() => parseNormativeTable('age,sex,a\n20,female,1\n')).toThrow(/sex,age/);
    expect(() => parseNormativeTable('sex,age,a\nfemale,20,1\n')).toThrow(/no rows for male/);
  });

  it('unit factors come from the row nearest the reference age', () => {
    const f = unitFactors(ROWS, 30);
    expect(f.female.hippocampus).toBeCloseTo(1.1, 9);
    expect(f.female['lateral-ventricles']).toBe(1);
    expect(f.male.hippocampus).toBe(1);
    expect(f.male['lateral-ventricles']).toBeUndefined();
  });

  it('centiles: the median is the 50th, ±1 SD the 16th/84th; bands are ordered', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 4);
    expect(normalCdf(-1)).toBeCloseTo(0.1587, 4);
    const m = new NormativeModel(parseNormativeTable(CSV), unitFactors(ROWS, 30), 0.08);
    expect(m.regions('female')).toEqual(['hippocampus', 'lateral-ventricles']);
    const med = m.median('female', 'hippocampus', 30);
    expect(med).toBeCloseTo(7.7, 9);
    expect(m.centile('female', 'hippocampus', 30, med)).toBeCloseTo(50, 4);
    expect(m.centile('female', 'hippocampus', 30, med * Math.exp(0.08))).toBeCloseTo(84.13, 1);
    const c = m.curve('female', 'hippocampus');
    expect(c.ages).toEqual([20, 30]);
    for (let i = 0; i < c.ages.length; i++)
      expect([c.lo95[i], c.lo68[i], c.median[i], c.hi68[i], c.hi95[i]]).toEqual(
        [c.lo95[i], c.lo68[i], c.median[i], c.hi68[i], c.hi95[i]].sort((a, b) => a - b),
      );
    expect(() => new NormativeModel(parseNormativeTable(CSV), {} as never, 0)).toThrow(/positive/);
    const tied = new NormativeModel(parseNormativeTable(CSV), unitFactors(ROWS, 30), 0.08, [
      'lateral-ventricles',
    ]);
    expect(tied.regions('female')).toEqual(['hippocampus']);
  });

  it('places a brain: its measured regions with centile for its age and sex', () => {
    const m = new NormativeModel(parseNormativeTable(CSV), unitFactors(ROWS, 30), 0.08);
    const vol = fakeVolume(
      { age: 30, sex: 'female', pathology: 'none' } as unknown as Conditions,
      1,
    );
    vol.metadata.regionalVolumesMl = { hippocampus: 7.7, 'lateral-ventricles': 6, icv: 1 };
    const rows = placeRegions(m, vol);
    expect(rows.map((r) => r.region)).toEqual(['hippocampus', 'lateral-ventricles']);
    expect(rows[0].centile).toBeCloseTo(50, 4);
    expect(rows[1].centile).toBeLessThan(1);
  });
});

describe('ExplainController.load', () => {
  const app = { modelUrl: '/m', main: { engine: { getState: () => ({ volume: null }) } } };
  it('reads the table and the manifest of the model', async () => {
    const urls: string[] = [];
    const fetchFn = (async (url: string) => {
      urls.push(url);
      if (url.endsWith('.csv')) return new Response(CSV);
      return new Response(
        JSON.stringify({
          calibration: { icvLogSd: 0.08, tiedRegions: { 'lateral-ventricles': 'hippocampus' } },
          metrics: { conditioning: { rows: ROWS } },
        }),
      );
    }) as typeof fetch;
    const ex = new ExplainController(app as never, fetchFn);
    await ex.load();
    expect(urls.sort()).toEqual(['/m/manifest.json', '/m/normative_table.csv']);
    expect(ex.store.getState().status).toBe('ready');
    expect(ex.store.getState().model?.logSd).toBe(0.08);
    expect(ex.store.getState().model?.regions('female')).toEqual(['hippocampus']);
  });
  it('a missing table is a visible error', async () => {
    const fetchFn = (async () => new Response('nope', { status: 404 })) as typeof fetch;
    const ex = new ExplainController(app as never, fetchFn);
    await ex.load();
    expect(ex.store.getState().status).toBe('error');
    expect(ex.store.getState().error).toMatch(/normative_table\.csv: HTTP 404/);
  });
});
