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

/**
 * The optimizer state of every parameter, by slot: Adam keeps `m` and `v`, SGD with momentum `momentum` (see
 * {@link OPTIMIZER_SLOTS}). Each slot has the parameters' names and shapes.
 */
export interface OptimizerState {
  /** Which optimizer the slots belong to. @defaultValue `'adam'` (states written before SGD existed) */
  kind?: OptimizerKind;
  /** Number of updates applied so far (Adam's bias correction; SGD's first step initialises the momentum). */
  step: number;
  /** Adam's first moments, same names and shapes as the parameters. */
  m?: ParamSet;
  /** Adam's second moments. */
  v?: ParamSet;
  /** SGD's momentum buffers. */
  momentum?: ParamSet;
}

/** Adam's state: step count and first/second moments for every parameter. */
export interface AdamState extends OptimizerState {
  kind?: 'adam';
  /** First moments, same names and shapes as the parameters. */
  m: ParamSet;
  /** Second moments. */
  v: ParamSet;
}

/** The optimizers every engine implements. */
export type OptimizerKind = 'adam' | 'sgd';

/**
 * The state slots of each optimizer, in the order the kernels keep them: the one place the state layout is defined
 * (engines, checkpoints and the kernels read it from here). A slot holds one tensor per parameter.
 *
 * @example
 * ```ts
 * OPTIMIZER_SLOTS.sgd; // ['momentum']
 * const state = engine.getOptimizerState(); // { kind: 'adam', step, m, v }
 * for (const slot of OPTIMIZER_SLOTS[state.kind ?? 'adam']) console.log(slot, Object.keys(state[slot]!).length);
 * ```
 */
export const OPTIMIZER_SLOTS: Readonly<Record<OptimizerKind, readonly ('m' | 'v' | 'momentum')[]>> = Object.freeze({
  adam: Object.freeze(['m', 'v'] as const),
  sgd: Object.freeze(['momentum'] as const),
});

/**
 * Adam (PyTorch's `torch.optim.Adam` / `AdamW` update; defaults β1 0.9, β2 0.999, ε 1e-8). `kind` may be left out
 * (the only optimizer before 0.2).
 */
export interface AdamOptions {
  kind?: 'adam';
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
 * SGD with momentum, PyTorch's `torch.optim.SGD` update: `g = ∇ + weightDecay·p` (coupled L2 weight decay, Linear
 * weights only), then `buf = g` on the first step and `buf = momentum·buf + (1 − dampening)·g` after, `g = g +
 * momentum·buf` with Nesterov or `g = buf` without, and `p = p − learningRate·g`. With `momentum` 0 it is plain SGD.
 */
export interface SgdOptions {
  kind: 'sgd';
  learningRate: number;
  /** In [0, 1). */
  momentum: number;
  /** In [0, 1]. @defaultValue 0 */
  dampening?: number;
  /** Nesterov momentum (needs `momentum` > 0 and `dampening` 0, as in PyTorch). @defaultValue false */
  nesterov?: boolean;
  /**
   * Coupled (L2) weight decay, as PyTorch's SGD: `weightDecay · p` is added to the gradient of every Linear weight
   * matrix (biases and LayerNorm parameters are not decayed). @defaultValue 0
   */
  weightDecay?: number;
}

/**
 * One update's optimizer and hyperparameters: the seam between the trainer and the engines.
 *
 * @example
 * ```ts
 * await engine.trainStep(x, y, { kind: 'sgd', learningRate: 0.05, momentum: 0.9 });
 * await engine.trainStep(x, y, { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { labelSmoothing: 0.1 });
 * ```
 */
export type UpdateOptions = AdamOptions | SgdOptions;

/** The optimizer of `update` (`'adam'` when `kind` is left out). @internal */
export function optimizerKind(update: UpdateOptions): OptimizerKind {
  return update.kind ?? 'adam';
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

/**
 * Adds SGD's coupled weight decay to the gradients of the Linear weight matrices, in place: `g += weightDecay · p`
 * (rounded to float32 once, as PyTorch's `grad.add(param, alpha=weight_decay)`).
 *
 * @param grads - the gradient block
 * @param params - the parameter block (same layout)
 * @param ranges - `[offset, length]` of each tensor to decay
 * @param weightDecay - the factor; nothing happens when 0
 * @internal
 */
export function coupleWeightDecay(
  grads: Float32Array,
  params: Float32Array,
  ranges: ReadonlyArray<readonly [number, number]>,
  weightDecay: number,
): void {
  if (weightDecay === 0) return;
  const wd = Math.fround(weightDecay);
  for (const [offset, length] of ranges) {
    for (let i = offset, end = offset + length; i < end; i++) grads[i] = (grads[i] as number) + Math.fround(wd * (params[i] as number));
  }
}

/** The loss of a training step (softmax cross-entropy, PyTorch's `CrossEntropyLoss`). */
export interface LossOptions {
  /**
   * Label smoothing ε in [0, 1): the target is `(1 − ε)·onehot + ε / classes`, as PyTorch's
   * `CrossEntropyLoss(label_smoothing=ε)`; 0 is plain cross-entropy. @defaultValue 0
   */
  labelSmoothing?: number;
}

/** Result of one training step. */
export interface StepResult {
  /** Mean cross-entropy over the batch (before the update; with label smoothing, the smoothed loss). */
  loss: number;
  /** Examples whose argmax logit equals the label (before the update). */
  correct: number;
}

/** Runs forward, backward and the optimizer's update for one model. @internal */
export interface TrainEngine {
  /** e.g. `'wasm-simd'`, `'tfjs-wasm'`, `'tfjs-cpu'`, `'tfjs-node'`. */
  readonly name: string;
  /** Threads doing the math. */
  readonly threads: number;
  /** Replaces all parameters. */
  setParams(params: ParamSet): void;
  /** Copies out all parameters. */
  getParams(): ParamSet;
  /** Copies out the optimizer's state (Adam's `m`/`v` until the first SGD step or state). */
  getOptimizerState(): OptimizerState;
  /** Replaces the optimizer's state; its `kind` (default Adam) must be the optimizer of the following steps. */
  setOptimizerState(state: OptimizerState): void;
  /**
   * One step: forward, backward, one optimizer update.
   * @param x - `batch * 784` normalised pixels, image after image, each row-major 28×28 (not patchified)
   * @param y - `batch` labels
   * @param update - the optimizer and its hyperparameters for this step
   * @throws FmnistModelError `E_CONFIG` when `update`'s optimizer is not the one the state holds (after a step or
   *   `setOptimizerState` of another optimizer)
   */
  trainStep(x: Float32Array, y: Uint8Array, update: UpdateOptions, loss?: LossOptions): Promise<StepResult>;
  /** Logits `[batch, numClasses]` for `batch * 784` pixels. */
  predict(x: Float32Array): Promise<Float32Array>;
  /** Frees workers, wasm memory or tensors. */
  dispose(): Promise<void>;
}
