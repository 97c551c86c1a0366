import { type AdamOptions, type AdamState, decayWeights, type ParamSet } from '../engine';
import { instantiateKernels, type KernelExports } from './wasm';

/** Pixels of one 28×28 image. */
export const IMAGE_PIXELS = 784;
/** Output classes. */
export const NUM_CLASSES = 10;
/** Default largest batch of the kernel engines. */
export const DEFAULT_MAX_BATCH = 256;

/**
 * The parameters of the one-block patch-MLP the kernels implement, in the order of the wasm parameter block.
 * Linear weights are `[in, out]`. `token_mlp.fc1` maps the 49 patches of one channel to 128: `t = hᵀ W + b`.
 */
export const KERNEL_PARAM_SHAPES: ReadonlyArray<readonly [name: string, shape: readonly number[]]> = [
  ['embed.weight', [16, 128]],
  ['embed.bias', [128]],
  ['blocks.0.token_mlp.fc1.weight', [49, 128]],
  ['blocks.0.token_mlp.fc1.bias', [128]],
  ['blocks.0.token_mlp.fc2.weight', [128, 49]],
  ['blocks.0.token_mlp.fc2.bias', [49]],
  ['blocks.0.channel_mlp.fc1.weight', [128, 128]],
  ['blocks.0.channel_mlp.fc1.bias', [128]],
  ['blocks.0.channel_mlp.fc2.weight', [128, 128]],
  ['blocks.0.channel_mlp.fc2.bias', [128]],
  ['head.weight', [128, 10]],
  ['head.bias', [10]],
];

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

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
 * One instance of the wasm kernels with its parameters, gradients and Adam state: the compute core of both kernel
 * engines (and, in plain JavaScript, of each worker of the parallel one).
 * @internal
 */
export class KernelCore {
  /** Adam updates applied so far. */
  step = 0;
  private readonly offsets: number[];
  /** `[offset, length]` of the Linear weight matrices (what AdamW's weight decay touches). */
  private readonly decayed: [number, number][];

  private constructor(
    private readonly k: KernelExports,
    /** Images one call can process. */
    readonly capacity: number,
  ) {
    this.offsets = KERNEL_PARAM_SHAPES.map(([name, shape], i) => {
      if (k.paramSize(i) !== size(shape)) throw new Error(`wasm kernels disagree on the size of ${name}`);
      return k.paramOffset(i);
    });
    this.decayed = KERNEL_PARAM_SHAPES.flatMap(([, shape], i) => (shape.length === 2 ? [[this.offsets[i] as number, size(shape)]] : []));
  }

  /** A core with buffers for up to `capacity` images per call. */
  static async create(capacity: number): Promise<KernelCore> {
    return new KernelCore(await instantiateKernels(capacity), capacity);
  }

  /** Length (f32s) of the padded parameter block; gradients and moments use the same layout. */
  get blockLength(): number {
    return this.k.paramBlockLength();
  }

  private f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, length);
  }

  /** The padded parameter block, a live view into wasm memory. */
  paramBlock(): Float32Array {
    return this.f32(this.k.paramsPtr(), this.blockLength);
  }

  /** Adds `grads` (a padded gradient block, e.g. another shard's) into the gradients. */
  accumulateGradients(grads: Float32Array): void {
    this.f32(this.k.gradStagingPtr(), this.blockLength).set(grads);
    this.k.accumulateGradients();
  }

  private readSet(ptr: number): ParamSet {
    const block = this.f32(ptr, this.blockLength);
    const out: ParamSet = {};
    KERNEL_PARAM_SHAPES.forEach(([name, shape], i) => {
      out[name] = block.slice(this.offsets[i], this.offsets[i]! + size(shape));
    });
    return out;
  }

  private writeSet(ptr: number, set: ParamSet, what: string): void {
    for (const name of Object.keys(set)) {
      if (!KERNEL_PARAM_SHAPES.some(([known]) => known === name)) {
        throw new RangeError(`unknown ${what} tensor '${name}' for the wasm-simd kernels`);
      }
    }
    for (const [name, shape] of KERNEL_PARAM_SHAPES) {
      const values = set[name];
      if (!values) throw new RangeError(`${what} tensor '${name}' is missing`);
      if (values.length !== size(shape)) {
        throw new RangeError(`${what} tensor '${name}' has ${values.length} values, expected ${size(shape)} ([${shape.join(', ')}])`);
      }
    }
    const block = this.f32(ptr, this.blockLength);
    KERNEL_PARAM_SHAPES.forEach(([name], i) => {
      block.set(set[name]!, this.offsets[i]);
    });
  }

  /** Replaces all parameters. @throws RangeError for a missing, unknown or wrongly sized tensor */
  setParams(params: ParamSet): void {
    this.writeSet(this.k.paramsPtr(), params, 'parameter');
  }

  /** Copies out all parameters. */
  getParams(): ParamSet {
    return this.readSet(this.k.paramsPtr());
  }

  /** Copies out the gradients of the last {@link forwardBackward} (before any accumulation). */
  getGradients(): ParamSet {
    return this.readSet(this.k.gradsPtr());
  }

  /** Copies out Adam's state. */
  getOptimizerState(): AdamState {
    return { step: this.step, m: this.readSet(this.k.adamMPtr()), v: this.readSet(this.k.adamVPtr()) };
  }

  /** Replaces Adam's state. @throws RangeError for a bad step count or tensors */
  setOptimizerState(state: AdamState): void {
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new RangeError(`Adam step must be a non-negative integer, got ${state.step}`);
    this.writeSet(this.k.adamMPtr(), state.m, 'Adam first-moment');
    this.writeSet(this.k.adamVPtr(), state.v, 'Adam second-moment');
    this.step = state.step;
  }

  /** Copies `count` images (and labels, if given) starting at image `start` into the input buffers. */
  loadInputs(x: Float32Array, y: Uint8Array | undefined, start: number, count: number): void {
    this.f32(this.k.imagesPtr(), count * IMAGE_PIXELS).set(x.subarray(start * IMAGE_PIXELS, (start + count) * IMAGE_PIXELS));
    if (y) new Uint8Array(this.k.memory.buffer, this.k.labelsPtr(), count).set(y.subarray(start, start + count));
  }

  /**
   * Forward and backward over the `n` loaded images: the gradients of `gradScale × Σ loss` replace the gradient block.
   * @returns the summed loss and the count of correct predictions
   */
  forwardBackward(n: number, gradScale: number): { lossSum: number; correct: number } {
    const lossSum = this.k.forwardBackward(n, gradScale);
    return { lossSum, correct: this.k.correctCount() };
  }

  /** Logits of the `n` loaded images, a live view valid until the next call. */
  forward(n: number): Float32Array {
    this.k.forward(n);
    return this.f32(this.k.logitsPtr(), n * NUM_CLASSES);
  }

  /** One Adam update (PyTorch semantics, bias-corrected) from the gradient block. */
  adamUpdate(adam: AdamOptions): void {
    this.step++;
    decayWeights(this.paramBlock(), this.decayed, adam);
    const { learningRate, beta1, beta2, epsilon } = adam;
    this.k.adamUpdate(learningRate, beta1, beta2, epsilon, 1 - beta1 ** this.step, 1 - beta2 ** this.step);
  }
}
