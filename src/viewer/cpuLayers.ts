/**
 * The RGBA volumes NiiVue 0.69's orientation pass renders for a layer (its `fragOrientShader` for
 * a float image under a 256-entry colormap, its `fragOrientShaderAtlas` for an int16 label map),
 * computed on the CPU. On a software GL renderer (SwiftShader) that pass — one draw per slice into
 * a 3-D texture, a texture fetch or seven per voxel — costs 60–90 ms per layer; this costs a few
 * ms and the viewer uploads the result instead (Viewer.ts, `orientOnCpu`). Only for layers the
 * pass maps voxel to voxel (RAS grid, the background's dims), with the shader's defaults (no
 * negative colormap, threshold, modulation, outline or active label). Pure: no NiiVue import.
 *
 * Colours are those of the shader up to the GPU's rounding: the colormap is sampled with linear
 * filtering between its 256 entries (clamped at the ends), values are written as unorm8
 * (round(x·255)).
 */

/**
 * Layer 0 (the background) under `lut` (256 RGBA entries): f = slope·v + inter;
 * t = (f − min)/max(1e-5, |max − min|) (at least 2/256 above min); the colour at t, alpha times
 * `opacity`.
 */
export function imageLayerRgba(
  img: ArrayLike<number>,
  calMin: number,
  calMax: number,
  lut: ArrayLike<number>,
  opacity: number,
  slope = 1,
  inter = 0,
  out: Uint8Array = new Uint8Array(img.length * 4),
): Uint8Array {
  if (lut.length !== 256 * 4) throw new Error('imageLayerRgba: the colormap needs 256 entries');
  if (out.length !== img.length * 4) throw new Error('imageLayerRgba: wrong output size');
  const r = Math.max(0.00001, Math.abs(calMax - calMin));
  const mn = Math.min(calMin, calMax);
  const min2 = 2 / 256;
  // the colour of each of 256·K sub-positions along the colormap: a table lookup per voxel
  const K = 64;
  const steps = 256 * K;
  const table = new Uint8Array((steps + 1) * 4);
  for (let s = 0; s <= steps; s++) {
    const u = s / steps; // texture coordinate in [0, 1]
    const x = Math.min(Math.max(u * 256 - 0.5, 0), 255);
    const i0 = Math.floor(x);
    const i1 = Math.min(i0 + 1, 255);
    const w = x - i0;
    for (let c = 0; c < 4; c++) {
      let v = lut[i0 * 4 + c] * (1 - w) + lut[i1 * 4 + c] * w;
      if (c === 3) v *= opacity;
      table[s * 4 + c] = Math.round(v);
    }
  }
  const out32 = new Uint32Array(out.buffer, out.byteOffset, img.length);
  const table32 = new Uint32Array(table.buffer);
  for (let i = 0; i < img.length; i++) {
    const f = slope * img[i] + inter;
    let t = (f - mn) / r;
    if (f > mn) t = Math.max(t, min2);
    // clamp to the texture's [0, 1]; NaN → 0
    const s = t > 0 ? (t < 1 ? Math.round(t * steps) : steps) : 0;
    out32[i] = table32[s];
  }
  return out;
}

/**
 * The first overlay (layer 1, over an empty blend volume) for a label map: a voxel with value 0
 * is transparent black; otherwise the colour of its label (lut entry min(value, entries − 1))
 * with alpha = opacity · (the number of voxels among it and its six neighbours, clamped at the
 * edges, whose label samples as opaque) / 7.
 */
export function labelLayerRgba(
  labels: ArrayLike<number>,
  dims: readonly [number, number, number],
  lut: ArrayLike<number>,
  opacity: number,
  out: Uint8Array = new Uint8Array(labels.length * 4),
): Uint8Array {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  if (labels.length !== n || out.length !== n * 4) throw new Error('labelLayerRgba: wrong size');
  const entries = lut.length / 4;
  const f = Math.fround;
  const entry = (v: number) => (v < 0 ? entries - 1 : Math.min(v, entries - 1));
  // Whether label entry e samples as opaque: the shader reads the lut (linear filtering) at
  // (e + 0.5)/entries; where that lands a float32 hair off the texel centre, the neighbouring
  // entry contributes a tiny weight, and any alpha > 0 counts as opaque (clr.a > 0 → 1).
  const opaqueEntry = new Uint8Array(entries);
  for (let e = 0; e < entries; e++) {
    const at = f(f(f(f(e + 0.5) / entries) * entries) - 0.5);
    const other = at > e ? Math.min(e + 1, entries - 1) : at < e ? Math.max(e - 1, 0) : e;
    opaqueEntry[e] = lut[e * 4 + 3] > 0 || lut[other * 4 + 3] > 0 ? 1 : 0;
  }
  // per voxel: 1 when its label samples as opaque
  const opaque = new Uint8Array(n);
  for (let i = 0; i < n; i++) opaque[i] = opaqueEntry[entry(labels[i])];
  // alpha of k opaque voxels out of 7 (float32 like the shader: a = Σ(opacity)/7, then unorm8)
  const alphaOf = new Uint8Array(8);
  for (let k = 0; k <= 7; k++) {
    let a = 0;
    for (let j = 0; j < k; j++) a = f(a + f(opacity));
    alphaOf[k] = Math.round(f(a / 7) * 255);
  }
  const plane = nx * ny;
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        const v = labels[i];
        const o = i * 4;
        if (v === 0) {
          out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
          continue;
        }
        const k =
          opaque[i] +
          opaque[x < nx - 1 ? i + 1 : i] +
          opaque[x > 0 ? i - 1 : i] +
          opaque[y < ny - 1 ? i + nx : i] +
          opaque[y > 0 ? i - nx : i] +
          opaque[z < nz - 1 ? i + plane : i] +
          opaque[z > 0 ? i - plane : i];
        const e = entry(v) * 4;
        out[o] = lut[e];
        out[o + 1] = lut[e + 1];
        out[o + 2] = lut[e + 2];
        out[o + 3] = alphaOf[k];
      }
    }
  }
  return out;
}
