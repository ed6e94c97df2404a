/**
 * The DrawContext the orchestrator (sample.ts) hands to a module's `draw`: it owns the label
 * map and converts it between a tensor (for tensor work, e.g. the glioma) and a mutable array
 * (for sequential work, e.g. MS and stroke), downloading and uploading only when needed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../model/loadModel';
import type { AnatomyTensors } from '../sampler/anatomy';
import type { ConditionValues, Deformation, DrawContext } from './types';

export class LabelMap implements DrawContext {
  /** The current label tensor (null: not made yet; the anatomy's, made on first use). */
  private tensor: tf.Tensor1D | null;
  private array: Int32Array | null = null;
  /** The array was handed to a module (it may have been edited): upload it before use. */
  private arrayLive = false;
  private readonly owned: tf.Tensor[] = [];
  private template: Int32Array | null = null;

  constructor(
    readonly model: Model,
    readonly conditions: ConditionValues,
    readonly seed: number,
    private readonly anatomy: AnatomyTensors,
    private readonly scale: number,
  ) {
    this.tensor = anatomy.arrays ? null : anatomy.labelIndex;
    // TypedArray path: the warp's own arrays (same values as the tensors), no download
    if (anatomy.arrays) {
      this.array = anatomy.arrays.labelIndex;
      this.template = anatomy.arrays.templateIndex;
    }
  }

  labelTensor(): tf.Tensor1D {
    if (this.arrayLive && this.array) {
      this.setLabelTensor(tf.tensor1d(this.array, 'int32'));
    }
    // not live: the array (if any) still holds the anatomy's labels
    this.tensor ??= this.anatomy.labelIndex;
    return this.tensor;
  }

  setLabelTensor(t: tf.Tensor1D): void {
    this.owned.push(t);
    this.tensor = t;
    this.array = null;
    this.arrayLive = false;
  }

  async labels(): Promise<Int32Array> {
    const a = await this.current();
    this.arrayLive = true;
    return a;
  }

  /** The anatomy's template mapping, downloaded once; read-only (shared by its callers). */
  async templateIndex(): Promise<Int32Array> {
    this.template ??= new Int32Array(await this.anatomy.templateIndex.data());
    return this.template;
  }

  async deformation(): Promise<Deformation> {
    const u = this.anatomy.displacement;
    if (!u) throw new Error('deformation() needs a module with needsDisplacement');
    return { displacement: new Float32Array(await u.data()), scale: this.scale };
  }

  /** The final label map as an array (no tensor made: the TypedArray render path). */
  async finalLabels(): Promise<Int32Array> {
    return this.current();
  }

  /** The final label map as array and tensor (the tensor stays owned by this object). */
  async result(): Promise<{ labels: Int32Array; tensor: tf.Tensor1D }> {
    const labels = await this.current();
    return { labels, tensor: this.labelTensor() };
  }

  /** Free the tensors this object made (the anatomy's tensors stay with the caller). */
  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
  }

  private async current(): Promise<Int32Array> {
    this.array ??= new Int32Array(await this.labelTensor().data());
    return this.array;
  }
}
