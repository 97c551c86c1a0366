import type { AdamOptions, AdamState, ParamSet, StepResult, TrainEngine } from '../engine';
import { imageCount, KernelCore, NUM_CLASSES, resolveMaxBatch, trainingBatchSize } from './core';

/** Options of {@link createKernelEngine}. */
export interface KernelEngineOptions {
  /** Largest batch of `trainStep` (and chunk of `predict`); sets the memory used, about 0.24 MB per image. @defaultValue 256 */
  maxBatch?: number;
  /** Initial parameters (the names and shapes of `KERNEL_PARAM_SHAPES`); all zeros when omitted. */
  params?: ParamSet;
}

class KernelEngine implements TrainEngine {
  readonly name = 'wasm-simd';
  readonly threads = 1;
  private disposed = false;

  constructor(
    private readonly core: KernelCore,
    private readonly maxBatch: number,
  ) {}

  setParams(params: ParamSet): void {
    this.core.setParams(params);
  }

  getParams(): ParamSet {
    return this.core.getParams();
  }

  getOptimizerState(): AdamState {
    return this.core.getOptimizerState();
  }

  setOptimizerState(state: AdamState): void {
    this.core.setOptimizerState(state);
  }

  async trainStep(x: Float32Array, y: Uint8Array, adam: AdamOptions): Promise<StepResult> {
    this.assertUsable();
    const n = trainingBatchSize(x, y, this.maxBatch);
    this.core.loadInputs(x, y, 0, n);
    const { lossSum, correct } = this.core.forwardBackward(n, 1 / n);
    this.core.adamUpdate(adam);
    return { loss: lossSum / n, correct };
  }

  async predict(x: Float32Array): Promise<Float32Array> {
    this.assertUsable();
    const n = imageCount(x);
    const logits = new Float32Array(n * NUM_CLASSES);
    for (let start = 0; start < n; start += this.maxBatch) {
      const count = Math.min(this.maxBatch, n - start);
      this.core.loadInputs(x, undefined, start, count);
      logits.set(this.core.forward(count), start * NUM_CLASSES);
    }
    return logits;
  }

  /** Marks the engine unusable; its wasm instance is garbage-collected with it. */
  async dispose(): Promise<void> {
    this.disposed = true;
  }

  private assertUsable(): void {
    if (this.disposed) throw new Error('this wasm-simd engine has been disposed');
  }
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
  const maxBatch = resolveMaxBatch(options.maxBatch);
  const engine = new KernelEngine(await KernelCore.create(maxBatch), maxBatch);
  if (options.params) engine.setParams(options.params);
  return engine;
}
