import {
  type AdamOptions,
  coupleWeightDecay,
  decayWeights,
  OPTIMIZER_SLOTS,
  type OptimizerKind,
  type OptimizerState,
  optimizerKind,
  type ParamSet,
  type SgdOptions,
  type UpdateOptions,
} from '../engine';
import { FmnistModelError } from '../errors';
import { compileKernels, KERNEL_IMPORTS, type KernelsModule } from './wasm';

/** Pixels of one 28×28 image. */
export const IMAGE_PIXELS = 784;
/** Output classes. */
export const NUM_CLASSES = 10;
/** Default largest batch of the kernel engines. */
export const DEFAULT_MAX_BATCH = 256;

/** One parameter tensor of a kernel model. @internal */
export interface TensorSpec {
  /** e.g. `'embed.weight'`. */
  name: string;
  shape: number[];
  /** Element count. */
  size: number;
  /** A Linear weight matrix (what AdamW's weight decay touches). */
  weight: boolean;
}

/**
 * What one kernels instance offers its core or worker once its buffers are allocated: byte addresses in its memory
 * (parameters, gradients, staging for another shard's gradients and the optimizer's two state slots share one padded
 * block layout; images are f32, labels u8) and the step functions.
 * @internal
 */
export interface KernelCompute {
  /** f32s in the padded parameter block. */
  blockLength: number;
  /** Offset (f32s) of each tensor in the block, by name. */
  offsets: Record<string, number>;
  paramsPtr: number;
  gradsPtr: number;
  stagingPtr: number;
  /** The optimizer's first state slot (Adam's `m`, SGD's `momentum`: {@link OPTIMIZER_SLOTS}). */
  mPtr: number;
  /** The second state slot (Adam's `v`). */
  vPtr: number;
  imagesPtr: number;
  labelsPtr: number;
  logitsPtr: number;
  /** Logits of the first `n` loaded images, into `logitsPtr`. */
  forward(n: number): void;
  /**
   * Forward and backward over the first `n` loaded images: gradients of `gradScale × Σ loss` replace the gradients.
   * `labelSmoothing` (default 0) smooths the cross-entropy's target as PyTorch's `label_smoothing`.
   */
  forwardBackward(n: number, gradScale: number, labelSmoothing?: number): { lossSum: number; correct: number };
  /** Adds the staging block into the gradients. */
  accumulate(): void;
  /** One Adam update of the parameters from the gradients (bias corrections `bc1 = 1 − β1ᵗ`, `bc2 = 1 − β2ᵗ`). */
  adam(lr: number, beta1: number, beta2: number, epsilon: number, bc1: number, bc2: number): void;
  /** One SGD update (momentum buffer in slot 0; `undamped` = 1 − dampening; `first` 1 on the first step). */
  sgd(lr: number, momentum: number, undamped: number, nesterov: number, first: number): void;
}

/**
 * A model the kernel engines run: which wasm module, plain data describing it (posted to workers, so it must survive
 * structured cloning) and the function that allocates its buffers in a fresh instance.
 * @internal
 */
export interface KernelModel<Exports = never, Shape extends { tensors: TensorSpec[] } = { tensors: TensorSpec[] }> {
  module: KernelsModule;
  /** The model's dimensions; `tensors` lists the parameters in block order. */
  shape: Shape;
  /**
   * Allocates the buffers for up to `capacity` images per call in the instance whose exports are `exports`. The
   * workers (worker.ts) run the same function, found by `module`.
   */
  createCompute(exports: Exports, shape: Shape, capacity: number): KernelCompute;
}

/**
 * Validates `maxBatch` (default 256).
 * @throws RangeError unless a positive integer
 * @internal
 */
export function resolveMaxBatch(maxBatch: number | undefined): number {
  const value = maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`maxBatch must be a positive integer, got ${value}`);
  return value;
}

/**
 * Validates a thread count.
 * @throws RangeError unless a positive integer
 * @internal
 */
export function resolveThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  return threads;
}

/**
 * The number of images in `x`.
 * @throws RangeError when `x.length` is not a multiple of 784 or (if `maxBatch` is given) the batch exceeds it
 * @internal
 */
export function imageCount(x: Float32Array, maxBatch?: number): number {
  if (x.length % IMAGE_PIXELS !== 0) {
    throw new RangeError(`x.length ${x.length} is not a multiple of ${IMAGE_PIXELS} (28×28 pixels per image)`);
  }
  const n = x.length / IMAGE_PIXELS;
  if (maxBatch !== undefined && n > maxBatch) throw new RangeError(`batch ${n} exceeds maxBatch ${maxBatch}`);
  return n;
}

/**
 * The batch size of a training step.
 * @throws RangeError for an empty or too large batch, a label count that differs, or a label ≥ 10
 * @internal
 */
export function trainingBatchSize(x: Float32Array, y: Uint8Array, maxBatch: number): number {
  const n = imageCount(x, maxBatch);
  if (n === 0) throw new RangeError('a training batch needs at least one image, got x.length 0');
  if (y.length !== n) throw new RangeError(`y.length ${y.length} does not match the batch of ${n} images`);
  for (let i = 0; i < n; i++) {
    if (y[i]! >= NUM_CLASSES) throw new RangeError(`label ${y[i]} at index ${i} is not a class (0–${NUM_CLASSES - 1})`);
  }
  return n;
}

/**
 * Copies `count` images (and labels, if given) from image `start` of `x` (and `y`) into the input buffers of `c`, an
 * instance with memory `memory` (also used by the workers, worker.ts).
 * @internal
 */
export function copyInputs(
  memory: WebAssembly.Memory,
  c: KernelCompute,
  x: Float32Array,
  y: Uint8Array | undefined,
  start: number,
  count: number,
): void {
  new Float32Array(memory.buffer, c.imagesPtr, count * IMAGE_PIXELS).set(x.subarray(start * IMAGE_PIXELS, (start + count) * IMAGE_PIXELS));
  if (y) new Uint8Array(memory.buffer, c.labelsPtr, count).set(y.subarray(start, start + count));
}

/**
 * One kernels instance of a {@link KernelModel} with its parameters, gradients and optimizer state, on the calling
 * thread: the compute of the kernel engines (their workers run the model's `createCompute` directly).
 * @internal
 */
export class KernelCore {
  /** Optimizer updates applied so far. */
  step = 0;
  /** The optimizer whose state the slots hold. */
  private kind: OptimizerKind = 'adam';
  /** `[offset, length]` of the Linear weight matrices (what AdamW's weight decay touches). */
  private readonly decayed: [number, number][];

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly c: KernelCompute,
    private readonly tensors: readonly TensorSpec[],
    /** Images one call can process. */
    readonly capacity: number,
  ) {
    this.decayed = tensors.flatMap((t) => (t.weight ? [[c.offsets[t.name] as number, t.size]] : []));
  }

  /** A core for `model` with buffers for up to `capacity` images per call. */
  static async create<Exports, Shape extends { tensors: TensorSpec[] }>(
    model: KernelModel<Exports, Shape>,
    capacity: number,
  ): Promise<KernelCore> {
    const instance = await WebAssembly.instantiate(await compileKernels(model.module), KERNEL_IMPORTS);
    const exports = instance.exports as Exports & { memory: WebAssembly.Memory };
    return new KernelCore(exports.memory, model.createCompute(exports, model.shape, capacity), model.shape.tensors, capacity);
  }

  /** Length (f32s) of the padded parameter block; gradients and moments use the same layout. */
  get blockLength(): number {
    return this.c.blockLength;
  }

  private f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  /** The padded parameter block, a live view into wasm memory. */
  paramBlock(): Float32Array {
    return this.f32(this.c.paramsPtr, this.blockLength);
  }

  /** Adds `grads` (a padded gradient block, e.g. another shard's) into the gradients. */
  accumulateGradients(grads: Float32Array): void {
    this.f32(this.c.stagingPtr, this.blockLength).set(grads);
    this.c.accumulate();
  }

  private readSet(ptr: number): ParamSet {
    const block = this.f32(ptr, this.blockLength);
    const out: ParamSet = {};
    for (const { name, size } of this.tensors) {
      const at = this.c.offsets[name]!;
      out[name] = block.slice(at, at + size);
    }
    return out;
  }

  private writeSet(ptr: number, set: ParamSet, what: string): void {
    for (const name of Object.keys(set)) {
      if (!Object.hasOwn(this.c.offsets, name)) throw new RangeError(`unknown ${what} tensor '${name}' for this model`);
    }
    for (const { name, shape, size } of this.tensors) {
      const values = set[name];
      if (!values) throw new RangeError(`${what} tensor '${name}' is missing`);
      if (values.length !== size) {
        throw new RangeError(`${what} tensor '${name}' has ${values.length} values, expected ${size} ([${shape.join(', ')}])`);
      }
    }
    const block = this.f32(ptr, this.blockLength);
    for (const { name } of this.tensors) block.set(set[name]!, this.c.offsets[name]);
  }

  /** Replaces all parameters. @throws RangeError for a missing, unknown or wrongly sized tensor */
  setParams(params: ParamSet): void {
    this.writeSet(this.c.paramsPtr, params, 'parameter');
  }

  /** Copies out all parameters. */
  getParams(): ParamSet {
    return this.readSet(this.c.paramsPtr);
  }

  /** Copies out the gradients (those of the last {@link forwardBackward} plus any accumulated since). */
  getGradients(): ParamSet {
    return this.readSet(this.c.gradsPtr);
  }

  /** The pointers of the optimizer's state slots, in {@link OPTIMIZER_SLOTS} order. */
  private slotPtrs(kind: OptimizerKind): number[] {
    return OPTIMIZER_SLOTS[kind].map((_, i) => (i === 0 ? this.c.mPtr : this.c.vPtr));
  }

  /** Copies out the optimizer's state: `kind`, `step` and one tensor set per slot. */
  getOptimizerState(): OptimizerState {
    const state: OptimizerState = { kind: this.kind, step: this.step };
    const ptrs = this.slotPtrs(this.kind);
    OPTIMIZER_SLOTS[this.kind].forEach((slot, i) => {
      state[slot] = this.readSet(ptrs[i]!);
    });
    return state;
  }

  /** Replaces the optimizer's state (its `kind`, default Adam, decides the slots). @throws RangeError for a bad step count or tensors */
  setOptimizerState(state: OptimizerState): void {
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new RangeError(`optimizer step must be a non-negative integer, got ${state.step}`);
    const kind = state.kind ?? 'adam';
    if (!Object.hasOwn(OPTIMIZER_SLOTS, kind)) throw new RangeError(`unknown optimizer kind '${kind}'; expected adam or sgd`);
    const ptrs = this.slotPtrs(kind);
    OPTIMIZER_SLOTS[kind].forEach((slot, i) => {
      const set = state[slot];
      if (!set) throw new RangeError(`${kind} optimizer state is missing its '${slot}' tensors`);
      this.writeSet(ptrs[i]!, set, `${kind} '${slot}'`);
    });
    this.kind = kind;
    this.step = state.step;
  }

  /** Copies `count` images (and labels, if given) starting at image `start` into the input buffers. */
  loadInputs(x: Float32Array, y: Uint8Array | undefined, start: number, count: number): void {
    copyInputs(this.memory, this.c, x, y, start, count);
  }

  /**
   * Forward and backward over the `n` loaded images: the gradients of `gradScale × Σ loss` replace the gradient block
   * (the loss label-smoothed by `labelSmoothing`, a float32 value so that every thread uses the same one).
   * @returns the summed loss and the count of correct predictions
   */
  forwardBackward(n: number, gradScale: number, labelSmoothing = 0): { lossSum: number; correct: number } {
    return this.c.forwardBackward(n, gradScale, labelSmoothing);
  }

  /** Logits of the `n` loaded images, a live view valid until the next call. */
  forward(n: number): Float32Array {
    this.c.forward(n);
    return this.f32(this.c.logitsPtr, n * NUM_CLASSES);
  }

  /**
   * One optimizer update from the gradient block: Adam (PyTorch semantics, bias-corrected, AdamW weight decay) or SGD
   * (PyTorch semantics, coupled weight decay).
   * @throws FmnistModelError `E_CONFIG` when the state holds another optimizer's steps
   */
  update(update: UpdateOptions): void {
    const kind = optimizerKind(update);
    if (kind !== this.kind) {
      if (this.step > 0) {
        throw new FmnistModelError(
          'E_CONFIG',
          `this engine's optimizer state holds ${this.step} ${this.kind} steps; a ${kind} step cannot continue it. Train on with '${this.kind}', or start a new run (or call setOptimizerState with a ${kind} state).`,
        );
      }
      for (const ptr of this.slotPtrs('adam')) this.f32(ptr, this.blockLength).fill(0);
      this.kind = kind;
    }
    this.step++;
    if (update.kind === 'sgd') this.sgdUpdate(update);
    else this.adamUpdate(update);
  }

  private adamUpdate(adam: AdamOptions): void {
    decayWeights(this.paramBlock(), this.decayed, adam);
    const { learningRate, beta1, beta2, epsilon } = adam;
    this.c.adam(learningRate, beta1, beta2, epsilon, 1 - beta1 ** this.step, 1 - beta2 ** this.step);
  }

  private sgdUpdate(sgd: SgdOptions): void {
    coupleWeightDecay(this.f32(this.c.gradsPtr, this.blockLength), this.paramBlock(), this.decayed, sgd.weightDecay ?? 0);
    const undamped = Math.fround(1 - (sgd.dampening ?? 0));
    this.c.sgd(sgd.learningRate, sgd.momentum, undamped, sgd.nesterov ? 1 : 0, this.step === 1 ? 1 : 0);
  }
}
