import { describe, expect, it } from 'vitest';
import { gunzipSync, gzipSync } from 'fflate';
import { buildSyntheticModel, syntheticFetch } from '../testing/syntheticModel';
import { loadModel, modelFromFiles } from './loadModel';
import { ManifestError, validateManifest } from './validateManifest';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('model loading', () => {
  it('loads a model folder over fetch and decodes arrays with their scale', async () => {
    const { manifest, files } = buildSyntheticModel();
    const model = await loadModel('mem://model', syntheticFetch(files, manifest));
    expect(model.manifest.id).toBe('synthetic-test');
    expect(model.grid.count).toBe(24 * 28 * 24);
    expect(model.arrays.templateLabels.length).toBe(model.grid.count);
    const scale = manifest.arrays.shapeComponents.scale as number[];
    expect(model.arrays.shapeComponents).toBeInstanceOf(Float32Array);
    // decoded values are int16 · scale[k]: their max is ≤ 32767 · scale
    let max = 0;
    const per = model.arrays.shapeComponents.length / 3;
    for (let i = 0; i < per; i++) max = Math.max(max, Math.abs(model.arrays.shapeComponents[i]));
    expect(max).toBeCloseTo(32767 * scale[0], 4);
    const prior = model.arrays.msLesionPrior as Float32Array;
    expect(Math.max(...prior)).toBeLessThanOrEqual(1);
    expect(model.labels.indexOfValue.get(701)).toBeDefined();
  });

  it('accepts already-decompressed arrays (servers that send Content-Encoding: gzip)', () => {
    const { manifest, files } = buildSyntheticModel();
    const raw: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(files)) raw[k] = gunzipSync(v);
    const a = modelFromFiles(manifest, raw);
    const b = modelFromFiles(manifest, files);
    expect(a.arrays.regionalBasis).toEqual(b.arrays.regionalBasis);
  });

  it('reports HTTP failures and bad JSON clearly', async () => {
    const { manifest, files } = buildSyntheticModel();
    const missing = { ...files };
    delete missing['territories.u8.gz'];
    await expect(loadModel('mem://model/', syntheticFetch(missing, manifest))).rejects.toThrow(
      /territories\.u8\.gz: HTTP 404/,
    );
    const badJson = async () => new Response('{nope', { status: 200 });
    await expect(loadModel('mem://model/', badJson)).rejects.toThrow(
      /manifest\.json is not valid JSON/,
    );
  });

  it('rejects bad manifests with every problem listed', () => {
    const { manifest } = buildSyntheticModel();
    expect(() => validateManifest({ format: 'other' })).toThrow(ManifestError);
    try {
      validateManifest({ format: 'other' });
    } catch (e) {
      expect((e as Error).message).toMatch(/format must be equal to constant/);
      expect((e as Error).message).toMatch(/grid is required/);
    }
    const m = clone(manifest);
    m.arrays.regionalBasis.shape = [5, 1, 2, 3, 3];
    m.calibration.gains.male = m.calibration.gains.male.slice(0, 3);
    m.appearance.contrasts.T1w.mean.pop();
    expect(() => validateManifest(m)).toThrow(
      /arrays\.regionalBasis\.shape is \[5, 1, 2, 3, 3\], expected \[4, /,
    );
    expect(() => validateManifest(m)).toThrow(/calibration\.gains\.male has 3 rows, expected 71/);
    const n = m.labels.length;
    expect(() => validateManifest(m)).toThrow(
      `appearance.contrasts.T1w.mean has ${n - 1} entries, expected ${n}`,
    );
  });

  it('rejects arrays whose size does not match the manifest', () => {
    const { manifest, files } = buildSyntheticModel();
    const broken = { ...files, 'territories.u8.gz': gzipSync(new Uint8Array(10)) };
    expect(() => modelFromFiles(manifest, broken)).toThrow(
      /'territories' \(territories\.u8\.gz\) has 10 bytes, expected 16128/,
    );
    const notGzip = { ...files, 'template_labels.u8.gz': new Uint8Array([0x1f, 0x8b, 1, 2, 3]) };
    expect(() => modelFromFiles(manifest, notGzip)).toThrow(/not valid gzip/);
  });
});
