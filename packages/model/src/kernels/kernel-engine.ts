import type { ParamSet, TrainEngine } from '../engine';
import { resolveMaxBatch } from './core';
import { startKernelEngine } from './engine-impl';
import { PATCH_MLP } from './patch-mlp-model';

/** Options of {@link createKernelEngine}. */
export interface KernelEngineOptions {
  /** Largest batch of `trainStep` (and chunk of `predict`); sets the memory used, about 0.24 MB per image. @defaultValue 256 */
  maxBatch?: number;
  /** Initial parameters (the names and shapes of `KERNEL_PARAM_SHAPES`); all zeros when omitted. */
  params?: ParamSet;
}

/**
 * A single-threaded training engine on the WebAssembly-SIMD kernels for the one-block patch-MLP (embed 16→128,
 * token MLP 49→128→49, channel MLP 128→128→128, exact GELU, head 128→10 averaged over the 49 patches, Adam).
 * Runs in the calling thread, in Node or a browser.
 *
 * @param options - `maxBatch` and initial `params`
 * @returns the engine; `trainStep` takes `batch × 784` pixels (28×28 row-major images, patchified inside) and
 *   throws a `RangeError` for a batch above `maxBatch` or an `x.length` that is not a multiple of 784
 * @throws FmnistModelError `E_BACKEND` when WebAssembly SIMD is unavailable
 *
 * @example
 * ```ts
 * const engine = await createKernelEngine({ params });
 * const { loss, correct } = await engine.trainStep(x, y, { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
 * ```
 * @internal
 */
export async function createKernelEngine(options: KernelEngineOptions = {}): Promise<TrainEngine> {
  return startKernelEngine(PATCH_MLP, { threads: 1, maxBatch: resolveMaxBatch(options.maxBatch), params: options.params });
}
