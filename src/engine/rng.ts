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
  const ahead = aheadOf.get(seed);
  if (ahead && ahead.out.length === n) {
    // computed (maybe in part) ahead of time by prefetchNormalsF32: finish it and hand it over
    aheadOf.delete(seed);
    ahead.fill(n);
    return ahead.out as Float32Array;
  }
  const out = new Float32Array(n);
  fillNormals(seed, out);
  return out;
}

/**
 * A resumable Box–Muller fill of `out` from mulberry32(seed): `fill(end)` writes the normals up
 * to `end` (rounded up to a whole pair), continuing where the last call stopped. The generator
 * is inlined (same integer steps as `mulberry32`), so the numbers are those of `normals`.
 */
/**
 * Values [start, end) of `normalsF32(seed, out.length)` written into out[start, end) (start
 * even; end even or out.length): mulberry32's state after k draws is seed + k·0x6d2b79f5, so a
 * stream can be filled in independent pieces (two threads share one, render/seedHelper.ts).
 */
export function normalsF32Range(
  seed: number,
  out: Float32Array,
  start: number,
  end: number,
): Float32Array {
  if (start % 2 !== 0 || start < 0 || end > out.length || (end % 2 !== 0 && end !== out.length))
    throw new Error(`normalsF32Range: bad range [${start}, ${end}) of ${out.length}`);
  const fill = new NormalsFill(seed, out);
  fill.seek(start);
  fill.fill(end);
  return out;
}

class NormalsFill {
  private a: number;
  /** Next index to write (even). */
  done = 0;

  constructor(
    seed: number,
    readonly out: Float64Array | Float32Array,
  ) {
    this.a = seed >>> 0;
  }

  /** Start at index i (even) instead of 0: the state after i draws (before any fill). */
  seek(i: number): void {
    this.a = (this.a + Math.imul(i, 0x6d2b79f5)) | 0;
    this.done = i;
  }

  fill(end: number): void {
    const out = this.out;
    const n = out.length;
    const stop = Math.min(end, n);
    const twoPi = 2 * Math.PI;
    let a = this.a;
    let i = this.done;
    for (; i < stop; i += 2) {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      const u1 = 1 - ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      a = (a + 0x6d2b79f5) | 0;
      t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      const u2 = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = r * Math.cos(twoPi * u2);
      if (i + 1 < n) out[i + 1] = r * Math.sin(twoPi * u2);
    }
    this.a = a;
    this.done = i;
  }
}

/**
 * The i-th value of `normalsF32(seed, n)` (any n > i) on its own: mulberry32's state jumps to
 * the draw pair of i (the voxel mix draws only the voxels it needs).
 */
export function normalF32At(seed: number, i: number): number {
  const pair = i - (i & 1);
  const next = mulberry32(((seed >>> 0) + Math.imul(pair, 0x6d2b79f5)) | 0);
  const u1 = 1 - next();
  const u2 = next();
  const r = Math.sqrt(-2 * Math.log(u1));
  return Math.fround(
    (i & 1) === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2),
  );
}

function fillNormals(seed: number, out: Float64Array | Float32Array): void {
  new NormalsFill(seed, out).fill(out.length);
}

/** Float32 normal streams computed ahead of time, by stream seed (prefetchNormalsF32). */
const aheadOf = new Map<number, NormalsFill>();

/**
 * Compute `normalsF32(seed, n)` for each of `seeds` ahead of time (idle time in the engine
 * worker), in slices of `slice` values, yielding to the event loop between slices and stopping
 * as soon as `stop()` says so. The next `normalsF32` call for one of these seeds (and `n`) takes
 * the array, finishing whatever is left. Streams prefetched before for other seeds are dropped
 * (at most one prefetch's worth of memory: seeds.length × n float32).
 */
export async function prefetchNormalsF32(
  seeds: number[],
  n: number,
  stop: () => boolean = () => false,
  slice = 1 << 17,
): Promise<void> {
  for (const s of [...aheadOf.keys()]) if (!seeds.includes(s)) aheadOf.delete(s);
  for (const seed of seeds) {
    let fill = aheadOf.get(seed);
    if (!fill || fill.out.length !== n) {
      fill = new NormalsFill(seed, new Float32Array(n));
      aheadOf.set(seed, fill);
    }
    while (fill.done < n) {
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      // taken meanwhile (a sample needed it), superseded, or told to stop
      if (stop() || aheadOf.get(seed) !== fill) return;
      fill.fill(fill.done + slice);
    }
  }
}

/** Stream seeds with normals waiting from prefetchNormalsF32, and how far each got (tests). */
export function prefetchedNormals(): { seed: number; done: number; n: number }[] {
  return [...aheadOf].map(([seed, f]) => ({ seed, done: f.done, n: f.out.length }));
}

/** Drop the normals computed ahead of time. */
export function clearPrefetchedNormals(): void {
  aheadOf.clear();
}

/** Derived stream seeds as uint32 (MODEL_FORMAT.md §4/§5: s ^ 0x9e3779b9, s + 1, …). */
export function streamSeed(seed: number, offset: number): number {
  return (seed + offset) >>> 0;
}

export function msStreamSeed(seed: number): number {
  return (seed ^ 0x9e3779b9) >>> 0;
}

/** The stroke's random-field stream (MODEL_FORMAT.md §4): s ^ 0x85ebca6b. */
export function strokeStreamSeed(seed: number): number {
  return (seed ^ 0x85ebca6b) >>> 0;
}
