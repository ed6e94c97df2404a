import { gunzipSync, gzipSync } from 'fflate';
import * as nifti from 'nifti-reader-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { affineToQuatern, encodeNifti, parseNifti, toNifti } from './nifti';
import { sample } from './sample';
import sidecarSchema from '../../brainsynth/schema/sidecar.schema.json';
import { compileSchema, formatAjvErrors } from './jsonSchema';
import { sidecar } from './sidecar';
import { syntheticModel } from './testing/syntheticModel';
import { useCpuBackend } from './testing/setupCpu';
import type { SampledVolume } from './types';
import { SOFTWARE_VERSION } from './version';

let volume: SampledVolume;

beforeAll(async () => {
  await useCpuBackend();
  volume = await sample(
    syntheticModel(),
    { age: 50, sex: 'male', pathology: 'ms', msLesionLoadMl: 1, contrast: 'FLAIR' },
    77,
  );
});

function readWithNiftiReader(gz: Uint8Array) {
  const raw = gunzipSync(gz);
  const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
  expect(nifti.isNIFTI1(buf)).toBe(true);
  const header = nifti.readHeader(buf) as nifti.NIFTI1;
  return { header, buf, raw };
}

function qformMatrix(h: nifti.NIFTI1): number[][] {
  return h.convertNiftiQFormToNiftiSForm(
    h.quatern_b,
    h.quatern_c,
    h.quatern_d,
    h.qoffset_x,
    h.qoffset_y,
    h.qoffset_z,
    h.pixDims[1],
    h.pixDims[2],
    h.pixDims[3],
    h.pixDims[0],
  );
}

describe('NIfTI writer (checked with nifti-reader-js)', () => {
  it('writes a valid float32 image with sform = qform = the affine', () => {
    const gz = toNifti(volume, 'image');
    expect(gz[0]).toBe(0x1f);
    const { header, buf, raw } = readWithNiftiReader(gz);
    expect(raw.byteLength).toBe(352 + 4 * 24 * 28 * 24);
    expect(header.dims.slice(0, 4)).toEqual([3, 24, 28, 24]);
    expect(header.datatypeCode).toBe(16);
    expect(header.numBitsPerVoxel).toBe(32);
    expect(header.vox_offset).toBe(352);
    expect(header.pixDims.slice(1, 4)).toEqual([2, 2, 2]);
    expect(header.qform_code).toBe(1);
    expect(header.sform_code).toBe(1);
    expect(header.xyzt_units & 0x07).toBe(2); // mm
    expect(header.description).toContain('synthetic-test');
    expect(header.affine).toEqual(volume.affine); // sform rows
    const q = qformMatrix(header);
    for (let r = 0; r < 4; r++)
      for (let c = 0; c < 4; c++) expect(q[r][c]).toBeCloseTo(volume.affine[r][c], 5);
    const data = new Float32Array(nifti.readImage(header, buf));
    expect(data).toEqual(volume.image);
  });

  it('writes the label map as int16 label values (intent: labels)', () => {
    const { header, buf } = readWithNiftiReader(toNifti(volume, 'labels'));
    expect(header.datatypeCode).toBe(4);
    expect(header.intent_code).toBe(1002);
    const data = new Int16Array(nifti.readImage(header, buf));
    expect(data).toEqual(volume.labels);
    expect(data.includes(701)).toBe(true);
  });

  it('quaternion parameters reproduce rotated and flipped affines', () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const cases = [
      [
        [-2, 0, 0, 90],
        [0, 2, 0, -126],
        [0, 0, 2, -72],
        [0, 0, 0, 1],
      ], // LAS (det < 0 → qfac −1)
      [
        [c * 1.5, -s * 1.5, 0, 1],
        [s * 1.5, c * 1.5, 0, 2],
        [0, 0, 3, 3],
        [0, 0, 0, 1],
      ], // rotation about z
      [
        [0, 0, 1, 5],
        [1, 0, 0, 6],
        [0, 1, 0, 7],
        [0, 0, 0, 1],
      ], // permuted axes
      [
        [-1, 0, 0, 0],
        [0, -1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ], // 180° about z (a = 0 branch)
    ];
    for (const affine of cases) {
      const raw = encodeNifti({ dims: [2, 2, 2], affine, data: new Float32Array(8) });
      const { header } = readWithNiftiReader(gzipSync(raw));
      const q = qformMatrix(header);
      for (let r = 0; r < 3; r++)
        for (let k = 0; k < 4; k++) expect(q[r][k]).toBeCloseTo(affine[r][k], 5);
    }
    expect(affineToQuatern(volume.affine)).toMatchObject({ b: 0, c: 0, d: 0, qfac: 1 });
  });
});

describe('parseNifti', () => {
  it('round-trips our own files', () => {
    const img = parseNifti(toNifti(volume, 'image'));
    expect(img.dims).toEqual([24, 28, 24]);
    expect(img.spacing).toEqual([2, 2, 2]);
    expect(img.affine).toEqual(volume.affine);
    expect(img.data).toEqual(volume.image);
    const lab = parseNifti(gunzipSync(toNifti(volume, 'labels'))); // uncompressed .nii too
    expect(lab.data).toEqual(volume.labels);
    expect(lab.intentCode).toBe(1002);
  });

  it('throws clear errors for corrupt input', () => {
    expect(() => parseNifti(new Uint8Array([1, 2]))).toThrow(/Not a NIfTI file/);
    expect(() =>
      parseNifti(new TextEncoder().encode('hello world, definitely not an image'.repeat(20))),
    ).toThrow(/Not a NIfTI-1\/2 file/);
    const gz = toNifti(volume, 'image');
    expect(() => parseNifti(gz.slice(0, 100))).toThrow(/Corrupt gzip data|Not a NIfTI/);
    const raw = gunzipSync(gz);
    expect(() => parseNifti(raw.slice(0, 1000))).toThrow(
      /Truncated NIfTI file: expected 64512 bytes/,
    );
    const badType = raw.slice();
    new DataView(badType.buffer).setInt16(70, 128, true); // RGB24
    expect(() => parseNifti(badType)).toThrow(/Unsupported NIfTI datatype 128/);
    const badDims = raw.slice();
    new DataView(badDims.buffer).setInt16(42, -5, true);
    expect(() => parseNifti(badDims)).toThrow(/dimensions/);
  });

  it('applies scl_slope / scl_inter', () => {
    const raw = encodeNifti({
      dims: [2, 1, 1],
      affine: volume.affine,
      data: new Int16Array([1, 2]),
    });
    const v = new DataView(raw.buffer);
    v.setFloat32(112, 0.5, true);
    v.setFloat32(116, 10, true);
    expect(Array.from(parseNifti(raw).data)).toEqual([10.5, 11]);
  });
});

describe('sidecar', () => {
  it('carries conditions, seed, model, volumes and orientation', () => {
    const s = sidecar(volume, new Date('2026-01-02T03:04:05Z'));
    expect(s).toMatchObject({
      seed: 77,
      modelId: 'synthetic-test',
      modelVersion: '0.0.1',
      softwareVersion: SOFTWARE_VERSION,
      generator: 'brainsynth.engine',
      device: 'cpu',
      implementation: 'tfjs-cpu',
      sampler: volume.metadata.sampler,
      resolutionMm: 2,
      contrasts: [volume.metadata.conditions.contrast],
      orientation: 'RAS',
      spacing: [2, 2, 2],
      created: '2026-01-02T03:04:05.000Z',
      conditions: { pathology: 'ms', msLesionLoadMl: 1 },
    });
    expect(s.regionalVolumesMl.icv).toBeGreaterThan(0);
    expect(s.pathology.type).toBe('ms');
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('follows brainsynth/schema/sidecar.schema.json (the teacher writes the same keys)', () => {
    const validate = compileSchema(sidecarSchema);
    const s = JSON.parse(JSON.stringify(sidecar(volume)));
    const ok = validate(s);
    expect(formatAjvErrors(validate.errors, 'sidecar')).toEqual([]);
    expect(ok).toBe(true);
    // every key the schema requires, and only the teacher's optional `latents` left out
    const optional = Object.keys(sidecarSchema.properties).filter(
      (k) => !sidecarSchema.required.includes(k),
    );
    expect(optional).toEqual(['latents']);
    expect(Object.keys(s).sort()).toEqual([...sidecarSchema.required].sort());
    // a GPU backend says so; a backend volume re-saved here does not claim an engine path
    const gl = sidecar({ ...volume, metadata: { ...volume.metadata, backend: 'webgl' } });
    expect([gl.device, gl.implementation]).toEqual(['gpu', 'tfjs-webgl']);
    const server = sidecar({ ...volume, metadata: { ...volume.metadata, backend: 'server' } });
    expect(validate(JSON.parse(JSON.stringify(server)))).toBe(true);
    expect([server.generator, server.device]).toEqual(['brainsynth.teacher', 'unknown']);
    // and a wrong device vocabulary is refused
    expect(validate({ ...s, device: 'numpy' })).toBe(false);
  });
});
