/**
 * cpuLayers: the RGBA volumes of NiiVue's orientation shaders, computed on the CPU (checked in
 * the browser against the GPU pass: labels byte for byte, the image within ±1 of 255).
 */
import { describe, expect, it } from 'vitest';
import { imageLayerRgba, labelLayerRgba } from './cpuLayers';

/** A gray colormap: entry i = (i, i, i, i). */
const gray = Uint8Array.from({ length: 1024 }, (_, k) => k >> 2);

describe('imageLayerRgba', () => {
  it('maps the window onto the colormap (linear between entries, clamped, opacity on alpha)', () => {
    const img = Float32Array.from([-5, 0, 50, 100, 200, 0.1]);
    const out = imageLayerRgba(img, 0, 100, gray, 1);
    const at = (i: number) => Array.from(out.slice(4 * i, 4 * i + 4));
    expect(at(0)).toEqual([0, 0, 0, 0]); // below the window
    expect(at(1)).toEqual([0, 0, 0, 0]); // at its bottom
    expect(at(2)[0]).toBeGreaterThanOrEqual(127);
    expect(at(2)[0]).toBeLessThanOrEqual(128);
    expect(at(3)).toEqual([255, 255, 255, 255]);
    expect(at(4)).toEqual([255, 255, 255, 255]); // above: clamped
    // just above the bottom: at least 2/256 of the way (NiiVue issue 1139)
    expect(at(5)[0]).toBe(2);
    const half = imageLayerRgba(img, 0, 100, gray, 0.5);
    expect(half[4 * 3 + 3]).toBe(128);
    expect(() => imageLayerRgba(img, 0, 1, gray.slice(0, 8), 1)).toThrow(/256/);
  });
});

describe('labelLayerRgba', () => {
  it('colours labels, alpha = opacity × opaque share of the 7-voxel neighbourhood', () => {
    const dims: [number, number, number] = [3, 3, 3];
    const labels = new Int16Array(27);
    labels.fill(1);
    labels[13] = 2; // centre
    labels[0] = 0;
    // lut: 0 transparent, 1 red, 2 green (opaque), 3 hidden
    const lut = Uint8Array.from([0, 0, 0, 0, 255, 0, 0, 255, 0, 255, 0, 255, 9, 9, 9, 0]);
    const out = labelLayerRgba(labels, dims, lut, 0.7);
    const a7 = Math.round(Math.fround(Math.fround(0.7 * 7) / 7) * 255);
    expect(Array.from(out.slice(0, 4))).toEqual([0, 0, 0, 0]); // label 0
    expect(Array.from(out.slice(13 * 4, 13 * 4 + 4))).toEqual([0, 255, 0, a7]);
    // voxel 1 (x = 1, y = 0, z = 0): its −x neighbour is label 0 (transparent) → 6 of 7
    let a6 = 0;
    for (let k = 0; k < 6; k++) a6 = Math.fround(a6 + Math.fround(0.7));
    expect(out[4 + 3]).toBe(Math.round(Math.fround(a6 / 7) * 255));
    // a hidden label keeps its colour with alpha 0
    labels.fill(3);
    const hidden = labelLayerRgba(labels, dims, lut, 0.7);
    expect(Array.from(hidden.slice(13 * 4, 13 * 4 + 4))).toEqual([9, 9, 9, 0]);
  });
});
