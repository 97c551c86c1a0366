/**
 * The contract between the trainer and the code that runs a training step. Two families implement it: the TensorFlow.js
 * engine (any config, any tfjs backend) and the WebAssembly-SIMD kernel engine (one kernels module for every config;
 * fast, optionally data-parallel over worker threads).
 *
 * Parameters travel as a {@link ParamSet}: named Float32Arrays in the documented layout (Linear weights `[in, out]`,
 * so `y = x @ W + b`), the same names as in the safetensors checkpoint.
 */

/** Named parameter tensors, e.g. `'embed.weight'` → Float32Array(16 * 128). */
export type ParamSet = Record<string, Float32Array>;

/** Adam's state: step count and first/second moments for every parameter. */
export interface AdamState {
  /** Number of updates applied so far (for bias correction). */
  step: number;
  /** First moments, same names and shapes as the parameters. */
  m: ParamSet;
  /** Second moments. */
  v: ParamSet;
}

/** Adam hyperparameters (PyTorch defaults: β1 0.9, β2 0.999, ε 1e-8). */
export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /**
   * Decoupled weight decay (AdamW, as PyTorch's `torch.optim.AdamW`): before each update, every Linear weight matrix
   * is multiplied by `1 − learningRate × weightDecay`. Biases and LayerNorm parameters are not decayed. @defaultValue 0
   */
  weightDecay?: number;
}

/**
 * Applies AdamW's decoupled weight decay to the Linear weight matrices of a parameter block, in place.
 *
 * @param block - the parameter block
 * @param ranges - `[offset, length]` of each tensor to decay
 * @param adam - the update's options; nothing happens when `weightDecay` is 0 or absent
 * @internal
 */
export function decayWeights(block: Float32Array, ranges: ReadonlyArray<readonly [number, number]>, adam: AdamOptions): void {
  const wd = adam.weightDecay ?? 0;
  if (wd === 0) return;
  const factor = 1 - adam.learningRate * wd;
  for (const [offset, length] of ranges) {
    for (let i = offset, end = offset + length; i < end; i++) block[i] = (block[i] as number) * factor;
  }
}

/** Result of one training step. */
export interface StepResult {
  /** Mean cross-entropy over the batch (before the update). */
  loss: number;
  /** Examples whose argmax logit equals the label (before the update). */
  correct: number;
}

/** Runs forward, backward and Adam for one model. @internal */
export interface TrainEngine {
  /** e.g. `'wasm-simd'`, `'tfjs-wasm'`, `'tfjs-cpu'`, `'tfjs-node'`. */
  readonly name: string;
  /** Threads doing the math. */
  readonly threads: number;
  /** Replaces all parameters. */
  setParams(params: ParamSet): void;
  /** Copies out all parameters. */
  getParams(): ParamSet;
  /** Copies out Adam's state. */
  getOptimizerState(): AdamState;
  /** Replaces Adam's state. */
  setOptimizerState(state: AdamState): void;
  /**
   * One step: forward, backward, one Adam update.
   * @param x - `batch * 784` normalised pixels, image after image, each row-major 28×28 (not patchified)
   * @param y - `batch` labels
   */
  trainStep(x: Float32Array, y: Uint8Array, adam: AdamOptions): Promise<StepResult>;
  /** Logits `[batch, numClasses]` for `batch * 784` pixels. */
  predict(x: Float32Array): Promise<Float32Array>;
  /** Frees workers, wasm memory or tensors. */
  dispose(): Promise<void>;
}
