/**
 * Step 4b's projection (kernels/poisson.ts): the divergence-free part of a field. Checked on
 * fields whose answer is known: a random field loses its divergence (inside the grid; the faces
 * keep a remainder, since φ = 0 outside), a gradient field vanishes, a rotational one stays.
 * The engine–teacher parity fixture checks it against `brainsynth.anatomy.divergence_free`.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../rng';
import { divergenceFree } from './poisson';

const SHAPE: [number, number, number] = [14, 16, 12];
const [NX, NY, NZ] = SHAPE;
const NV = NX * NY * NZ;
const at = (x: number, y: number, z: number) => x + NX * (y + NY * z);

/** (a[i+1] − a[i−1]) / 2 along `axis`, zero outside the grid. */
function diff(a: Float32Array | Float64Array, off: number, axis: 0 | 1 | 2, i: number): number {
  const stride = axis === 0 ? 1 : axis === 1 ? NX : NX * NY;
  const p = axis === 0 ? i % NX : axis === 1 ? Math.floor(i / NX) % NY : Math.floor(i / (NX * NY));
  const hi = p + 1 < SHAPE[axis] ? a[off + i + stride] : 0;
  const lo = p > 0 ? a[off + i - stride] : 0;
  return (hi - lo) / 2;
}

function maxInteriorDivergence(f: Float32Array): number {
  let m = 0;
  for (let z = 1; z < NZ - 1; z++)
    for (let y = 1; y < NY - 1; y++)
      for (let x = 1; x < NX - 1; x++) {
        const i = at(x, y, z);
        const d = diff(f, 0, 0, i) + diff(f, NV, 1, i) + diff(f, 2 * NV, 2, i);
        m = Math.max(m, Math.abs(d));
      }
  return m;
}

function bump(): Float64Array {
  const b = new Float64Array(NV);
  for (let z = 0; z < NZ; z++)
    for (let y = 0; y < NY; y++)
      for (let x = 0; x < NX; x++)
        b[at(x, y, z)] = Math.exp(-((x - 7) ** 2 + (y - 8) ** 2 + (z - 6) ** 2) / 3);
  return b;
}

describe('divergenceFree (step 4b projection)', () => {
  it('removes the divergence of a random field inside the grid', () => {
    const rand = mulberry32(5);
    const f = new Float32Array(3 * NV);
    for (let c = 0; c < 3; c++)
      for (let z = 3; z < 9; z++)
        for (let y = 4; y < 12; y++)
          for (let x = 3; x < 11; x++) f[c * NV + at(x, y, z)] = rand() * 2 - 1;
    expect(maxInteriorDivergence(f)).toBeGreaterThan(0.3);
    const g = divergenceFree(f, SHAPE);
    expect(maxInteriorDivergence(g)).toBeLessThan(1e-5);
    // what it removed is small next to the field: the field keeps most of its size
    let sf = 0;
    let sg = 0;
    for (let i = 0; i < f.length; i++) {
      sf += f[i] * f[i];
      sg += g[i] * g[i];
    }
    expect(sg / sf).toBeGreaterThan(0.4);
    expect(sg / sf).toBeLessThan(1);
  });

  it('removes a gradient field and keeps a rotational one', () => {
    const b = bump();
    const grad = new Float32Array(3 * NV);
    const swirl = new Float32Array(3 * NV);
    for (let i = 0; i < NV; i++) {
      for (const c of [0, 1, 2] as const) grad[c * NV + i] = diff(b, 0, c, i);
      swirl[i] = -diff(b, 0, 1, i);
      swirl[NV + i] = diff(b, 0, 0, i);
    }
    const g = divergenceFree(grad, SHAPE);
    const s = divergenceFree(swirl, SHAPE);
    let gMax = 0;
    let ref = 0;
    let sErr = 0;
    for (let i = 0; i < g.length; i++) {
      gMax = Math.max(gMax, Math.abs(g[i]));
      ref = Math.max(ref, Math.abs(grad[i]));
      sErr = Math.max(sErr, Math.abs(s[i] - swirl[i]));
    }
    expect(ref).toBeGreaterThan(0.1);
    expect(gMax).toBeLessThan(1e-3 * ref);
    expect(sErr).toBeLessThan(1e-5);
  });

  it('rejects a field of the wrong size', () => {
    expect(() => divergenceFree(new Float32Array(10), SHAPE)).toThrow(/\[3, Nv\]/);
  });
});
