/**
 * Depth layers (render/depthLayers.ts): layer numbers by 6-neighbour distance on a hand-made
 * grid, the appended rows' mixed means, and a model without `depthLayers` left unchanged.
 * The teacher's twin (brainsynth/depth_layers.py) renders the same images: the image
 * cases of the parity fixture (parity.test.ts) are rendered with the real model's layers.
 */
import { describe, expect, it } from 'vitest';
import type { Model } from '../model/loadModel';
import { normalsF32, streamSeed } from '../rng';
import { addVoxelMix, appearanceTables, depthLayerNumbers } from './depthLayers';

/** A 7×3×3 grid: x = 0 is the source (index 1), x = 1..6 the group (index 2), except x = 6 at
 * (y, z) = (1, 1), which is index 0 (outside both). */
function slab(): { labels: Int32Array; shape: number[] } {
  const shape = [7, 3, 3];
  const labels = new Int32Array(7 * 3 * 3);
  for (let z = 0; z < 3; z++)
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 7; x++) {
        const i = x + 7 * (y + 3 * z);
        labels[i] = x === 0 ? 1 : x === 6 && y === 1 && z === 1 ? 0 : 2;
      }
  return { labels, shape };
}

function fakeModel(depthLayers: unknown, shape: number[]): Model {
  const values = new Int16Array([0, 3, 2, 24]);
  const indexOfValue = new Map<number, number>([...values].map((v, i) => [v, i]));
  return {
    grid: { shape },
    labels: { values, indexOfValue, infos: [...values].map((value) => ({ value })) },
    manifest: { appearance: { depthLayers } },
  } as unknown as Model;
}

describe('depth layers', () => {
  it('numbers a group by 6-neighbour distance from its source, the last layer taking the rest', () => {
    const { labels, shape } = slab();
    const layers = depthLayerNumbers(
      labels,
      shape,
      new Uint8Array([0, 0, 1]),
      new Uint8Array([0, 1, 0]),
      3,
    );
    for (let x = 0; x < 7; x++) {
      const i = x + 7 * (0 + 3 * 0);
      expect(layers[i]).toBe(x === 0 ? 0 : Math.min(x, 3));
    }
    expect(layers[6 + 7 * (1 + 3 * 1)]).toBe(0); // not in the group
    // one layer: every group voxel is layer 1
    const one = depthLayerNumbers(
      labels,
      shape,
      new Uint8Array([0, 0, 1]),
      new Uint8Array([0, 1, 0]),
      1,
    );
    expect(one.filter((k) => k === 1).length).toBe(labels.filter((l) => l === 2).length);
    // no source: every group voxel is in the last layer
    const none = depthLayerNumbers(labels, shape, new Uint8Array([0, 0, 1]), new Uint8Array(3), 2);
    expect(new Set(labels.filter((l, i) => l === 2 && none[i] !== 2))).toEqual(new Set());
  });

  it('remaps voxels to appended rows whose means mix the label toward its partner', () => {
    const { labels, shape } = slab();
    // label indices: 0 background, 1 cortex (3), 2 WM (2), 3 CSF (24)
    const model = fakeModel(
      [
        {
          labels: [2],
          from: [3],
          layers: [
            { toward: [3], weight: 0.5, sdScale: 2 },
            { toward: [3], weight: -0.25 },
          ],
        },
      ],
      shape,
    );
    const means = new Float32Array([0, 0.6, 1.0, 0.3]);
    const sds = new Float32Array([0, 0.05, 0.04, 0.02]);
    const wm = new Uint8Array([0, 0, 1, 0]);
    const t = appearanceTables(model, labels, means, sds, wm);
    expect(Array.from(t.means.slice(0, 4))).toEqual(Array.from(means));
    expect(t.means[4]).toBeCloseTo(1.0 + 0.5 * (0.6 - 1.0), 6);
    expect(t.means[5]).toBeCloseTo(1.0 - 0.25 * (0.6 - 1.0), 6);
    // the row's SD: the label's times sdScale (default 1)
    expect(Array.from(t.sds.slice(4))).toEqual([Math.fround(2 * sds[2]), sds[2]]);
    expect(Array.from(t.wmMask.slice(4))).toEqual([1, 1]);
    // x = 1 touches the cortex: row 4; deeper WM: row 5; cortex and background keep theirs
    expect(t.index[1]).toBe(4);
    expect(t.index[2]).toBe(5);
    expect(t.index[0]).toBe(1);
    expect(t.index[6 + 7 * (1 + 3 * 1)]).toBe(0);
    expect(labels[1]).toBe(2); // the input is not modified
  });

  it('gives surface voxels the surface row of their layer (the teacher test grid)', () => {
    const { labels, shape } = slab();
    const rows3 = [1, 2, 3].map((k) => ({ toward: [3], weight: 0.1 * k }));
    const surf3 = [1, 2, 3].map(() => ({ toward: [24], weight: 0.5 }));
    const model = fakeModel(
      [{ labels: [2], from: [3], layers: rows3, surface: { labels: [0], layers: surf3 } }],
      shape,
    );
    const means = new Float32Array([0, 0.6, 1.0, 0.3]);
    const t = appearanceTables(model, labels, means, means, new Uint8Array(4));
    expect(t.means.length).toBe(10);
    expect(t.means[7]).toBeCloseTo(1.0 + 0.5 * (0.3 - 1.0), 6);
    const at = (x: number, y: number, z: number) => t.index[x + 7 * (y + 3 * z)];
    for (const [x, y, z] of [
      [5, 1, 1],
      [6, 0, 1],
      [6, 2, 1],
      [6, 1, 0],
      [6, 1, 2],
    ])
      expect(at(x, y, z)).toBe(4 + 5);
    expect(at(5, 0, 0)).toBe(4 + 2);
    expect(at(1, 1, 1)).toBe(4);
    const bad = fakeModel(
      [{ labels: [2], from: [3], layers: rows3, surface: { labels: [0], layers: surf3.slice(1) } }],
      shape,
    );
    expect(() => appearanceTables(bad, labels, means, means, new Uint8Array(4))).toThrow(
      /as many layers/,
    );
  });

  it('leaves the tables alone for a model without depth layers', () => {
    const { labels, shape } = slab();
    const means = new Float32Array([0, 0.6, 1.0, 0.3]);
    const t = appearanceTables(
      fakeModel(undefined, shape),
      labels,
      means,
      means,
      new Uint8Array(4),
    );
    expect(t.index).toBe(labels);
    expect(t.means).toBe(means);
    expect(t.mix).toBeNull();
  });

  it("adds a row's voxel mix, mixSd·(partner − label)·normal of stream s + 6, to its voxels only", () => {
    const { labels, shape } = slab();
    const rows = (mixSd: number) => [
      { toward: [3], weight: 0.5, mixSd },
      { toward: [3], weight: 0 },
    ];
    const means = new Float32Array([0, 0.6, 1.0, 0.3]);
    const model = fakeModel([{ labels: [2], from: [3], layers: rows(0.2) }], shape);
    const t = appearanceTables(model, labels, means, means, new Uint8Array(4));
    // labels and the row without mixSd: 0; the mixing row: 0.2·(0.6 − 1.0)
    expect(Array.from(t.mix!, (v) => v + 0)).toEqual([
      0,
      0,
      0,
      0,
      Math.fround(0.2 * Math.fround(0.6 - 1.0)),
      0,
    ]);
    const img = new Float32Array(labels.length).fill(1);
    const seed = 77;
    addVoxelMix(img, t, seed);
    const v = normalsF32(streamSeed(seed, 6), labels.length);
    let mixed = 0;
    for (let i = 0; i < img.length; i++) {
      if (t.index[i] === 4) {
        mixed++;
        expect(img[i]).toBe(Math.fround(1 + Math.fround(t.mix![4] * v[i])));
      } else expect(img[i]).toBe(1);
    }
    expect(mixed).toBe(9); // the x = 1 plane: the WM next to the cortex
    expect(Array.from(t.mixVoxels!)).toEqual(
      Array.from(t.index.keys()).filter((i) => t.index[i] === 4),
    );
    // no row mixes: no mix table (the renderer skips the step)
    const none = fakeModel([{ labels: [2], from: [3], layers: rows(0) }], shape);
    expect(appearanceTables(none, labels, means, means, new Uint8Array(4)).mix).toBeNull();
  });
});
