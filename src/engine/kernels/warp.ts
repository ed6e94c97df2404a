/**
 * Steps 6–7 of MODEL_FORMAT.md §3 on plain typed arrays: output→template mapping
 * p = x' + T(u, x') (trilinear lookup of the displacement u on the velocity grid) and the
 * nearest-neighbour template label pull.
 *
 * The arithmetic is the tfjs path's (sampler/anatomy.ts, sampler/interpolate.ts) operation by
 * operation in float32 (`Math.fround` after each op, as tfjs stores every intermediate in a
 * Float32Array), so on the CPU backend both paths give bit-identical indices; the parity tests
 * compare them on every backend. What changes is the cost: one pass over the voxels with no
 * intermediate volumes, instead of ~100 tfjs kernels and ten full-volume gathers.
 */
import type { Grid } from '../model/grid';
import type { Vec3 } from '../model/manifest';
import { axisWeights } from './axisWeights';
import { wasmKernels } from './wasm/runtime';
import { warpInputOk, warpLatticeWasm } from './wasm/ops';

const f = Math.fround;

export interface WarpResult {
  /** Label index per output voxel (x fastest). */
  labelIndex: Int32Array;
  /** Flat template voxel per output voxel, or grid.count when outside. */
  templateIndex: Int32Array;
}

export interface MassEffectSpec {
  centreMm: Vec3;
  radiusMm: number;
  decayMm: number;
  /** Midline shift: x of the inverse map += shiftMm·exp(−r²/(2·shiftLengthMm²)), r = |x − c0|. */
  shiftMm?: number;
  shiftLengthMm?: number;
}

/** 2^k for an integer k (then 1/s is exact and x/s = x·(1/s) for every float). */
function isPowerOfTwo(s: number): boolean {
  if (!(s > 0) || !Number.isFinite(s)) return false;
  const e = Math.log2(s);
  return Number.isInteger(e) && Math.abs(e) < 100;
}

/** Scratch volumes of the lattice warp, reused across samples (one slot per role). */
const scratchSlots: Float32Array[] = [];

function scratch(slot: number, length: number): Float32Array {
  let a = scratchSlots[slot];
  if (!a || a.length !== length) scratchSlots[slot] = a = new Float32Array(length);
  return a;
}

/** Nearest-voxel rounding constants of `grid` (float32, like the tfjs scalars). */
function nearestConsts(grid: Grid) {
  return {
    ox: f(grid.origin[0]),
    oy: f(grid.origin[1]),
    oz: f(grid.origin[2]),
    sx: f(grid.spacing[0]),
    sy: f(grid.spacing[1]),
    sz: f(grid.spacing[2]),
  };
}

/**
 * Step 6–7 when x' is a lattice (no mass effect): x' per axis (`axes`, from scaledAxes), the
 * displacement u as [3, Nv] planes on `vgrid`. Lerps along x, then y, then z, exactly the order of
 * `trilinearOnLattice`; the z pass is fused with the nearest-label pull.
 */
export function warpLattice(
  u: Float32Array,
  vgrid: Grid,
  grid: Grid,
  axes: [Float32Array, Float32Array, Float32Array],
  templatePadded: Int32Array,
  slab?: { k0: number; k1: number },
  out?: WarpResult,
): WarpResult {
  const [vx, vy, vz] = vgrid.shape;
  const [mx, my, mz] = [axes[0].length, axes[1].length, axes[2].length];
  const wx = axisWeights(axes[0], vgrid.origin[0], vgrid.spacing[0], vx);
  const wy = axisWeights(axes[1], vgrid.origin[1], vgrid.spacing[1], vy);
  const wz = axisWeights(axes[2], vgrid.origin[2], vgrid.spacing[2], vz);
  // Output slices [k0, k1) (a slab: the seed helper worker computes one, results are the same
  // voxel for voxel); only the velocity z cells they read are interpolated in x and y.
  const k0 = slab ? slab.k0 : 0;
  const k1 = slab ? slab.k1 : mz;
  if (!(Number.isInteger(k0) && Number.isInteger(k1) && 0 <= k0 && k0 < k1 && k1 <= mz))
    throw new Error(`warpLattice: bad slab [${k0}, ${k1}) of ${mz} slices`);
  const cellLo = wz.i0[k0];
  const cellHi = wz.i0[k1 - 1] + 1; // last cell read (g1)
  const cellUsed = (b: number) => {
    const cell = b % vz;
    return cell >= cellLo && cell <= cellHi;
  };
  const n = grid.count;
  const [nx, ny, nz] = grid.shape;
  if (mx !== nx || my !== ny || mz !== nz) throw new Error('warpLattice: axes do not match grid');
  const plane = my * mx;
  // the slab's own arrays, or its slices of the whole-volume arrays `out`
  const count = (k1 - k0) * plane;
  if (out && (out.labelIndex.length !== n || out.templateIndex.length !== n))
    throw new Error('warpLattice: out must hold the whole volume');
  const labelIndex = out ? out.labelIndex : new Int32Array(count);
  const templateIndex = out ? out.templateIndex : new Int32Array(count);
  const first = out ? 0 : k0;
  const ex = wasmKernels();
  if (ex && warpInputOk(u)) {
    // the same passes on the WebAssembly kernels (same bits; kernels/wasm)
    const c = nearestConsts(grid);
    warpLatticeWasm(ex, {
      u,
      vshape: vgrid.shape,
      shape: grid.shape,
      axes,
      templatePadded,
      wx,
      wy,
      wz,
      k0,
      k1,
      cellLo,
      cellHi,
      origin: [c.ox, c.oy, c.oz],
      spacing: [c.sx, c.sy, c.sz],
      labelIndex,
      templateIndex,
      at: (k0 - first) * plane,
    });
    return { labelIndex, templateIndex };
  }
  // Pass x: [3·vz·vy, vx] → [3·vz·vy, mx].
  const rowsX = 3 * vz * vy;
  const ax = scratch(0, rowsX * mx);
  for (let r = 0; r < rowsX; r++) {
    if (!cellUsed((r / vy) | 0)) continue;
    const src = r * vx;
    const dst = r * mx;
    for (let i = 0; i < mx; i++) {
      const g0 = u[src + wx.i0[i]];
      const g1 = u[src + wx.i0[i] + 1];
      ax[dst + i] = f(g0 + f(f(g1 - g0) * wx.w[i]));
    }
  }
  // Pass y: [3·vz, vy, mx] → [3·vz, my, mx].
  const ay = scratch(1, 3 * vz * my * mx);
  for (let b = 0; b < 3 * vz; b++) {
    if (!cellUsed(b)) continue;
    for (let j = 0; j < my; j++) {
      const s0 = (b * vy + wy.i0[j]) * mx;
      const s1 = s0 + mx;
      const dst = (b * my + j) * mx;
      const w = wy.w[j];
      for (let i = 0; i < mx; i++) {
        const g0 = ax[s0 + i];
        ay[dst + i] = f(g0 + f(f(ax[s1 + i] - g0) * w));
      }
    }
  }
  // Pass z fused with p = x' + d and the nearest-label pull.
  const { ox, oy, oz, sx, sy, sz } = nearestConsts(grid);
  // g1 − g0 of every z cell (float32, as each voxel's lerp computes it): once per cell instead
  // of once per output voxel (~3 voxels per cell along z)
  const dz1 = scratch(2, ay.length);
  for (let b = 0; b < 3 * vz; b++) {
    const cell = b % vz;
    if (cell < cellLo || cell >= cellHi) continue; // cellHi is only read as g1
    for (let q = b * plane, end = q + plane; q < end; q++) dz1[q] = ay[q + plane] - ay[q];
  }
  const ax0 = axes[0];
  const ax1 = axes[1];
  const ax2 = axes[2];
  const pow2 = isPowerOfTwo(sx) && isPowerOfTwo(sy) && isPowerOfTwo(sz);
  const ix = 1 / sx;
  const iy = 1 / sy;
  const iz = 1 / sz;
  const xMax = nx - 1;
  const yMax = ny - 1;
  const zMax = nz - 1;
  // nearestIndex inlined (same float32 steps; floor as a truncation, negatives are outside anyway)
  for (let k = k0; k < k1; k++) {
    const w = wz.w[k];
    const bx0 = wz.i0[k] * plane;
    const by0 = (vz + wz.i0[k]) * plane;
    const bz0 = (2 * vz + wz.i0[k]) * plane;
    const zk = ax2[k];
    const out0 = (k - first) * plane;
    for (let j = 0; j < my; j++) {
      const yj = ax1[j];
      const row = j * mx;
      for (let i = 0; i < mx; i++) {
        const s = row + i;
        const dx = f(ay[bx0 + s] + f(dz1[bx0 + s] * w));
        const dy = f(ay[by0 + s] + f(dz1[by0 + s] * w));
        const dz = f(ay[bz0 + s] + f(dz1[bz0 + s] * w));
        // (h / s) for a power-of-two s is h · (1/s) exactly, and adding 0.5 to it is exact in
        // float64, so one rounding gives the float32 result of both steps
        const tx = pow2
          ? f(f(f(ax0[i] + dx) - ox) * ix + 0.5)
          : f(f(f(f(ax0[i] + dx) - ox) / sx) + 0.5);
        const ty = pow2 ? f(f(f(yj + dy) - oy) * iy + 0.5) : f(f(f(f(yj + dy) - oy) / sy) + 0.5);
        const tz = pow2 ? f(f(f(zk + dz) - oz) * iz + 0.5) : f(f(f(f(zk + dz) - oz) / sz) + 0.5);
        const qx = tx >= 0 ? tx | 0 : -1;
        const qy = ty >= 0 ? ty | 0 : -1;
        const qz = tz >= 0 ? tz | 0 : -1;
        const idx =
          qx < 0 || qx > xMax || qy < 0 || qy > yMax || qz < 0 || qz > zMax
            ? n
            : qx + qy * nx + qz * plane;
        const v = out0 + s;
        templateIndex[v] = idx;
        labelIndex[v] = templatePadded[idx];
      }
    }
  }
  return { labelIndex, templateIndex };
}

/** floor(q + 0.5) per axis, clamped; grid.count when any axis was clamped (outside). */
function nearestIndex(
  px: number,
  py: number,
  pz: number,
  c: ReturnType<typeof nearestConsts>,
  nx: number,
  ny: number,
  nz: number,
  strideY: number,
  strideZ: number,
  n: number,
): number {
  const qx = Math.floor(f(f(f(px - c.ox) / c.sx) + 0.5));
  const qy = Math.floor(f(f(f(py - c.oy) / c.sy) + 0.5));
  const qz = Math.floor(f(f(f(pz - c.oz) / c.sz) + 0.5));
  if (qx < 0 || qx > nx - 1 || qy < 0 || qy > ny - 1 || qz < 0 || qz > nz - 1) return n;
  return qx + qy * strideY + qz * strideZ;
}

/**
 * Steps 6a–c and 7 at arbitrary x (the glioma mass effect bends the positions): optional mass
 * effect M(x), x' = C + (M(x) − C)/k, 8-corner trilinear lookup of u (the order of `trilinear`),
 * nearest-label pull. `coords` are the output voxel centres as [x…, y…, z…] float32 planes.
 */
export function warpPoints(
  u: Float32Array,
  vgrid: Grid,
  grid: Grid,
  coords: Float32Array,
  centre: Vec3,
  scale: number,
  templatePadded: Int32Array,
  mass?: MassEffectSpec,
): WarpResult {
  const n = grid.count;
  const [nx, ny, nz] = grid.shape;
  const [vx, vy, vz] = vgrid.shape;
  const vox = [f(vgrid.origin[0]), f(vgrid.origin[1]), f(vgrid.origin[2])];
  const vsp = [f(vgrid.spacing[0]), f(vgrid.spacing[1]), f(vgrid.spacing[2])];
  const k = f(scale);
  const C = [f(centre[0]), f(centre[1]), f(centre[2])];
  const c = nearestConsts(grid);
  const labelIndex = new Int32Array(n);
  const templateIndex = new Int32Array(n);
  const m0 = mass ? [f(mass.centreMm[0]), f(mass.centreMm[1]), f(mass.centreMm[2])] : [0, 0, 0];
  const R = mass ? f(mass.radiusMm) : 0;
  const R3 = mass ? f(mass.radiusMm ** 3) : 0;
  const decay = mass ? f(mass.decayMm) : 1;
  const shift = mass?.shiftMm ? f(mass.shiftMm) : 0;
  const twoL2 = mass?.shiftLengthMm ? f(2 * mass.shiftLengthMm * mass.shiftLengthMm) : 1;
  const third = f(1 / 3);
  const eps = f(1e-6);
  const x = [0, 0, 0];
  const d = [0, 0, 0];
  for (let v = 0; v < n; v++) {
    x[0] = coords[v];
    x[1] = coords[n + v];
    x[2] = coords[2 * n + v];
    if (mass) {
      const d0 = f(x[0] - m0[0]);
      const d1 = f(x[1] - m0[1]);
      const d2 = f(x[2] - m0[2]);
      const r = f(Math.sqrt(f(f(f(d0 * d0) + f(d1 * d1)) + f(d2 * d2))));
      const rSrc = f(Math.pow(Math.max(f(f(Math.pow(r, 3)) - R3), 0), third));
      const w = f(Math.exp(f(f(-Math.max(f(r - R), 0)) / decay)));
      const newR = f(f(w * rSrc) + f(f(1 - w) * r));
      const factor = f(newR / Math.max(r, eps));
      x[0] = f(f(d0 * factor) + m0[0]);
      if (shift !== 0) x[0] = f(x[0] + f(shift * f(Math.exp(f(f(-f(r * r)) / twoL2)))));
      x[1] = f(f(d1 * factor) + m0[1]);
      x[2] = f(f(d2 * factor) + m0[2]);
    }
    for (let a = 0; a < 3; a++) x[a] = f(f(f(x[a] - C[a]) / k) + C[a]);
    trilinearField(
      u,
      vx,
      vy,
      vz,
      f(f(x[0] - vox[0]) / vsp[0]),
      f(f(x[1] - vox[1]) / vsp[1]),
      f(f(x[2] - vox[2]) / vsp[2]),
      d,
    );
    const idx = nearestIndex(
      f(x[0] + d[0]),
      f(x[1] + d[1]),
      f(x[2] + d[2]),
      c,
      nx,
      ny,
      nz,
      nx,
      nx * ny,
      n,
    );
    templateIndex[v] = idx;
    labelIndex[v] = templatePadded[idx];
  }
  return { labelIndex, templateIndex };
}

/**
 * Step 4b on the CPU-side path: u ← L + T(u, y + L) at every velocity node y (`planes`: the
 * nodes' world coordinates, x | y | z planes), with T the trilinear interpolation of
 * `sampler/interpolate.ts` `trilinear` (continuous index clipped to [0, n − 1], lower corner to
 * [0, n − 2], corners in z, y, x order), every operation rounded to float32 as tfjs's CPU ops
 * do. One tfjs trilinear over the velocity grid is ~100 ms of gathers on WASM; this is a few.
 */
export function composeLocalFieldArray(
  u: Float32Array,
  local: Float32Array,
  grid: Grid,
  planes: Float32Array,
): Float32Array {
  const [nx, ny, nz] = grid.shape;
  const nv = nx * ny * nz;
  const out = new Float32Array(3 * nv);
  const o = [f(grid.origin[0]), f(grid.origin[1]), f(grid.origin[2])];
  const sp = [f(grid.spacing[0]), f(grid.spacing[1]), f(grid.spacing[2])];
  const d = [0, 0, 0];
  for (let i = 0; i < nv; i++) {
    trilinearField(
      u,
      nx,
      ny,
      nz,
      f(f(f(planes[i] + local[i]) - o[0]) / sp[0]),
      f(f(f(planes[nv + i] + local[nv + i]) - o[1]) / sp[1]),
      f(f(f(planes[2 * nv + i] + local[2 * nv + i]) - o[2]) / sp[2]),
      d,
    );
    for (let c = 0; c < 3; c++) out[c * nv + i] = f(local[c * nv + i] + d[c]);
  }
  return out;
}

/**
 * The 8-corner trilinear lookup of `warpPoints` and `composeLocalFieldArray`: the field `u`
 * (x | y | z planes on a grid of shape [nx, ny, nz]) at the continuous voxel index (q0, q1, q2),
 * each clipped to [0, n − 1] and its lower corner to [0, n − 2], corners summed in z, y, x
 * order, every product and sum rounded to float32 — the order of `sampler/interpolate.ts`
 * `trilinear` and tfjs's CPU ops, so both paths match the tfjs path bit for bit. The three
 * components go to out[0..2]. A module-level function with an output array, not a closure over
 * the field: the closure made warpPoints 6–11 % slower.
 */
function trilinearField(
  u: Float32Array,
  nx: number,
  ny: number,
  nz: number,
  q0: number,
  q1: number,
  q2: number,
  out: number[],
): void {
  const nxy = nx * ny;
  const nv = nxy * nz;
  const c0 = Math.min(Math.max(q0, 0), nx - 1);
  const c1 = Math.min(Math.max(q1, 0), ny - 1);
  const c2 = Math.min(Math.max(q2, 0), nz - 1);
  const l0 = Math.min(Math.max(Math.floor(c0), 0), nx - 2);
  const l1 = Math.min(Math.max(Math.floor(c1), 0), ny - 2);
  const l2 = Math.min(Math.max(Math.floor(c2), 0), nz - 2);
  const w10 = f(c0 - l0);
  const w11 = f(c1 - l1);
  const w12 = f(c2 - l2);
  const w00 = f(1 - w10);
  const w01 = f(1 - w11);
  const w02 = f(1 - w12);
  const base = l0 + l1 * nx + l2 * nxy;
  // −0 is the additive identity of IEEE sums (−0 + t = t for every t, −0 included), so
  // starting from it gives the first corner's term exactly, as the tfjs sum does
  let a0 = -0;
  let a1 = -0;
  let a2 = -0;
  for (let dz = 0; dz < 2; dz++) {
    const wz = dz ? w12 : w02;
    for (let dy = 0; dy < 2; dy++) {
      const wzy = f(wz * (dy ? w11 : w01));
      for (let dx = 0; dx < 2; dx++) {
        const wt = f(wzy * (dx ? w10 : w00));
        const idx = base + dx + dy * nx + dz * nxy;
        a0 = f(a0 + f(u[idx] * wt));
        a1 = f(a1 + f(u[nv + idx] * wt));
        a2 = f(a2 + f(u[2 * nv + idx] * wt));
      }
    }
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
}
