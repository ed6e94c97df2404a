/**
 * A faster GatherV2 kernel for the tfjs CPU backend.
 *
 * Why: tfjs-backend-cpu 4.22 gathers element by element through TensorBuffer.indexToLoc, which
 * allocates an index array per output element (~100 ns each). Trilinear interpolation of the
 * displacement at 1.2 M output voxels needs 8 gathers of 3 components (29 M elements): ~3 s on
 * the stock kernel vs ~0.1 s with this plain strided copy. The kernel is numerically identical
 * (it copies values); anything unusual (batchDims, strings, complex) goes to the stock kernel.
 * Registered once per process for the 'cpu' backend only; GPU backends are untouched.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

let installed = false;

type Typed = Float32Array | Int32Array | Uint8Array;

export function installFastCpuGather(): void {
  if (installed) return;
  const stock = tf.getKernel('GatherV2', 'cpu');
  if (!stock) return; // CPU backend not registered in this bundle: nothing to speed up.
  installed = true;
  tf.unregisterKernel('GatherV2', 'cpu');
  tf.registerKernel({
    kernelName: 'GatherV2',
    backendName: 'cpu',
    kernelFunc: (args) => {
      const { inputs, attrs } = args;
      const backend = args.backend as MathBackendCPU;
      const x = inputs.x as tf.TensorInfo;
      const indices = inputs.indices as tf.TensorInfo;
      const batchDims = (attrs as { batchDims?: number }).batchDims ?? 0;
      if (batchDims !== 0 || x.dtype === 'string' || x.dtype === 'complex64') {
        return stock.kernelFunc(args);
      }
      const axisAttr = (attrs as { axis: number | number[] }).axis;
      const axis = tf.util.parseAxisParam(axisAttr, x.shape)[0];
      const xv = backend.data.get(x.dataId).values as Typed;
      const iv = backend.data.get(indices.dataId).values as Typed;
      const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const dim = x.shape[axis];
      const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const nIdx = iv.length;
      for (let i = 0; i < nIdx; i++) {
        const v = iv[i];
        if (!(v >= 0 && v <= dim - 1)) {
          throw new Error(`GatherV2: the index value ${v} is not in [0, ${dim - 1}]`);
        }
      }
      const out = tf.util.getTypedArrayFromDType(
        x.dtype as 'float32' | 'int32' | 'bool',
        outer * nIdx * inner,
      );
      if (inner === 1) {
        for (let o = 0; o < outer; o++) {
          const src = o * dim;
          const dst = o * nIdx;
          for (let i = 0; i < nIdx; i++) out[dst + i] = xv[src + iv[i]];
        }
      } else {
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < nIdx; i++) {
            const src = (o * dim + iv[i]) * inner;
            const dst = (o * nIdx + i) * inner;
            for (let j = 0; j < inner; j++) out[dst + j] = xv[src + j];
          }
        }
      }
      const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
      return backend.makeTensorInfo(outShape, x.dtype, out);
    },
  });
}
