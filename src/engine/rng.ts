/**
 * Seeded random numbers shared bit for bit with the Python pipeline (MODEL_FORMAT.md §3 step 1,
 * `brainsynth.common.rng`). We cannot use tf.randomNormal: its stream differs between backends and
 * cannot be reproduced in numpy, and calibration/parity need identical latents on both sides.
 */

/** The common 32-bit mulberry32: returns uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A stream of uniforms and Box–Muller normals from one mulberry32 generator.
 * Per pair: u1 = 1 − rng() (so u1 ∈ (0, 1] and log(u1) is finite), u2 = rng(); the pair yields
 * r·cos(2πu2) then r·sin(2πu2). `normal()` caches the sin half so that normals are "used in
 * order" exactly as `normals(seed, n)` returns them.
 */
export class RandomStream {
  private readonly next: () => number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  uniform(): number {
    return this.next();
  }

  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u1 = 1 - this.next();
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

/**
 * n standard normals from stream `seed`, as float64 (Python: `brainsynth.common.rng.normals`).
 * Used for the latents (few values) where we keep full precision.
 */
export function normals(seed: number, n: number): Float64Array {
  const out = new Float64Array(n);
  fillNormals(seed, out);
  return out;
}

/** Same numbers as `normals(seed, n)` written into a float32 array (noise volumes: millions). */
export function normalsF32(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  fillNormals(seed, out);
  return out;
}

function fillNormals(seed: number, out: Float64Array | Float32Array): void {
  const next = mulberry32(seed);
  const n = out.length;
  const twoPi = 2 * Math.PI;
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - next();
    const u2 = next();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(twoPi * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(twoPi * u2);
  }
}

/** Derived stream seeds as uint32 (MODEL_FORMAT.md §4/§5: s ^ 0x9e3779b9, s + 1, …). */
export function streamSeed(seed: number, offset: number): number {
  return (seed + offset) >>> 0;
}

export function msStreamSeed(seed: number): number {
  return (seed ^ 0x9e3779b9) >>> 0;
}
