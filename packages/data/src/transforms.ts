import { type FashionMnistSplit, IMAGE_COLS, IMAGE_PIXELS, IMAGE_ROWS, NUM_CLASSES } from './dataset';
import { createRng, type Rng } from './random';

/** Mean pixel value of the 60,000 training images after scaling to [0, 1]. */
export const FASHION_MNIST_MEAN = 0.286;
/** Standard deviation of the training pixels after scaling to [0, 1]. */
export const FASHION_MNIST_STD = 0.353;

/**
 * How pixels are turned into model inputs: `'unit'` divides by 255 (the coursework's choice, the default),
 * `'standard'` then subtracts {@link FASHION_MNIST_MEAN} and divides by {@link FASHION_MNIST_STD}, or give your own.
 */
export type Normalization = 'unit' | 'standard' | { mean: number; std: number };

/** Resolves a {@link Normalization} to the affine map `x / 255 * scale + shift` as `{ mean, std }`. */
export function resolveNormalization(normalization: Normalization = 'unit'): { mean: number; std: number } {
  if (normalization === 'unit') return { mean: 0, std: 1 };
  if (normalization === 'standard') return { mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD };
  // A std of Infinity maps every pixel to 0, and one below ~1e-30 overflows float32 to ±Infinity or NaN.
  if (
    normalization === null ||
    typeof normalization !== 'object' ||
    !Number.isFinite(normalization.mean) ||
    !(normalization.std >= 1e-6 && Number.isFinite(normalization.std))
  ) {
    throw new TypeError(
      `'normalization' must be 'unit', 'standard' or { mean (finite), std (finite, ≥ 1e-6) }, got ${JSON.stringify(normalization)}.`,
    );
  }
  return normalization;
}

/**
 * Converts pixel bytes to floats: `(byte / 255 - mean) / std`.
 *
 * @param pixels - bytes 0–255 (any number of images)
 * @param normalization - see {@link Normalization} @defaultValue `'unit'`
 * @param out - optional output array of the same length, to avoid allocating
 * @returns the normalised pixels
 *
 * @example
 * ```ts
 * normalize(new Uint8Array([0, 255])); // Float32Array [0, 1]
 * normalize(new Uint8Array([0]), 'standard'); // Float32Array [-0.8102]
 * ```
 */
export function normalize(pixels: Uint8Array, normalization: Normalization = 'unit', out?: Float32Array): Float32Array {
  const { mean, std } = resolveNormalization(normalization);
  const target = out ?? new Float32Array(pixels.length);
  if (target.length !== pixels.length) {
    throw new RangeError(`'out' must have length ${pixels.length}, got ${target.length}.`);
  }
  const scale = 1 / (255 * std);
  const shift = -mean / std;
  for (let i = 0; i < pixels.length; i++) target[i] = (pixels[i] as number) * scale + shift;
  return target;
}

function toRng(seed: number | Rng): Rng {
  return typeof seed === 'number' ? createRng(seed) : seed;
}

/**
 * A seeded random permutation of `0 … n-1` (Fisher–Yates).
 *
 * @param n - how many indices
 * @param seed - an integer seed or an {@link Rng} to draw from
 * @returns the permuted indices
 *
 * @example
 * ```ts
 * permutation(5, 42); // Uint32Array, the same order every run
 * ```
 */
export function permutation(n: number, seed: number | Rng): Uint32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`'n' must be a non-negative integer, got ${n}.`);
  const rng = toRng(seed);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/**
 * Returns a shuffled copy of `items` (seeded Fisher–Yates); the input is not changed.
 *
 * @param items - an array or typed array
 * @param seed - an integer seed or an {@link Rng}
 * @returns a new array of the same kind, shuffled
 *
 * @example
 * ```ts
 * shuffle([1, 2, 3, 4], 7); // e.g. [3, 1, 4, 2], the same every run
 * ```
 */
export function shuffle<T>(items: readonly T[], seed: number | Rng): T[] {
  const order = permutation(items.length, seed);
  return Array.from(order, (i) => items[i] as T);
}

/** A split, or any subset of one, as parallel image/label arrays. */
export type ExampleSet = Pick<FashionMnistSplit, 'images' | 'labels' | 'count'>;

/**
 * Random training-time augmentation of 28×28 images, drawn from the batches' seeded RNG so runs stay reproducible.
 * Applied in this order: shift, flip, erase.
 */
export interface Augmentation {
  /** Shift each image by up to this many pixels in each direction (zero fill): an integer in [0, 27]. @defaultValue 0 */
  shift?: number;
  /** Mirror each image left–right with probability ½. @defaultValue false */
  flip?: boolean;
  /**
   * Random Erasing (Zhong et al., 2020): with this probability, fill one random rectangle covering 2–40 % of the image,
   * aspect ratio 0.3–3.3, with uniformly random pixel values; the paper's Fashion-MNIST setting is 0.5. In [0, 1].
   * @defaultValue 0
   */
  erase?: number;
}

/**
 * Describes an augmentation for people, in the one wording the CLI and the web app share.
 *
 * @param augment - an augmentation, or nothing
 * @returns e.g. `shift ±1 px + flip + erase p 0.5`, or `none` when nothing is on
 *
 * @example
 * ```ts
 * describeAugmentation({ shift: 1, flip: true }); // 'shift ±1 px + flip'
 * describeAugmentation(undefined); // 'none'
 * ```
 */
export function describeAugmentation(augment: Augmentation | null | undefined): string {
  const { shift, flip, erase } = augment ?? {};
  const parts = [shift ? `shift ±${shift} px` : '', flip ? 'flip' : '', erase ? `erase p ${erase}` : ''];
  return parts.filter(Boolean).join(' + ') || 'none';
}

/**
 * How a batch's float pixels are shaped for a framework. One grey channel makes the three layouts the same bytes; they
 * differ in the `shape` reported with them:
 * - `'flat'`: `[n, 784]`, for dense layers (the default);
 * - `'nhwc'`: `[n, 28, 28, 1]`, channels last (TensorFlow.js `conv2d`);
 * - `'nchw'`: `[n, 1, 28, 28]`, channels first (PyTorch, ONNX, the exported `@fmnist/onnx` models).
 */
export type Layout = 'flat' | 'nhwc' | 'nchw';

/**
 * The shape of `count` images in a {@link Layout}.
 *
 * @param count - number of images
 * @param layout - see {@link Layout} @defaultValue `'flat'`
 * @param rows - image height @defaultValue 28
 * @param cols - image width @defaultValue 28
 * @returns e.g. `[count, 1, 28, 28]` for `'nchw'`
 * @throws TypeError for an unknown layout
 *
 * @example
 * ```ts
 * layoutShape(32, 'nhwc'); // [32, 28, 28, 1]
 * ```
 */
export function layoutShape(count: number, layout: Layout = 'flat', rows: number = IMAGE_ROWS, cols: number = IMAGE_COLS): number[] {
  switch (layout) {
    case 'flat':
      return [count, rows * cols];
    case 'nhwc':
      return [count, rows, cols, 1];
    case 'nchw':
      return [count, 1, rows, cols];
    default:
      throw new TypeError(`'layout' must be 'flat', 'nhwc' or 'nchw', got ${JSON.stringify(layout)}.`);
  }
}

/**
 * One-hot encodes labels: row `i` of the result is all zeros except a 1 at column `labels[i]`.
 *
 * @param labels - class indices, integers in `[0, numClasses)`
 * @param numClasses - number of classes @defaultValue 10
 * @returns `labels.length * numClasses` floats, row-major (shape `[n, numClasses]`)
 * @throws RangeError for a label outside `[0, numClasses)` (naming its index) or a bad `numClasses`
 *
 * @example
 * ```ts
 * oneHot(new Uint8Array([2, 0]), 3); // Float32Array [0, 0, 1, 1, 0, 0]
 * ```
 */
export function oneHot(labels: ArrayLike<number>, numClasses: number = NUM_CLASSES): Float32Array {
  if (!Number.isInteger(numClasses) || numClasses <= 0) {
    throw new RangeError(`'numClasses' must be a positive integer, got ${numClasses}.`);
  }
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new RangeError(`'labels[${i}]' must be an integer in [0, ${numClasses - 1}], got ${label}.`);
    }
    out[i * numClasses + label] = 1;
  }
  return out;
}

/** Options of {@link batches}. */
export interface BatchOptions {
  /** Shape reported in each batch's `shape` (see {@link Layout}). @defaultValue `'flat'` */
  layout?: Layout;
  /** Examples per batch. @defaultValue 256 */
  batchSize?: number;
  /** Shuffle the order (reshuffled on every iteration from the seeded RNG). @defaultValue false */
  shuffle?: boolean;
  /** Seed of the shuffle, required when `shuffle` is true. Each new iteration continues the same RNG stream. */
  seed?: number | Rng;
  /** Skip the last, smaller batch. @defaultValue false */
  dropLast?: boolean;
  /** Pixel normalisation. @defaultValue `'unit'` (`/255`) */
  normalization?: Normalization;
  /** Random training-time augmentation (see {@link Augmentation}), drawn from the seeded RNG. Needs `seed`. 28×28 only. */
  augment?: Augmentation;
}

/** One mini-batch: normalised pixels, labels, and which examples they are. */
export interface Batch {
  /** `size * 784` normalised pixels, image after image. */
  x: Float32Array;
  /** Shape of `x` in the batch's {@link Layout}: `[size, 784]`, `[size, 28, 28, 1]` or `[size, 1, 28, 28]`. */
  shape: number[];
  /** `size` labels. */
  y: Uint8Array;
  /** Indices of these examples in the source set. */
  indices: Uint32Array;
  /** Examples in this batch. */
  size: number;
}

/** A lazy, restartable sequence of batches: iterate it (sync or async) once per epoch. */
export interface Batches extends Iterable<Batch>, AsyncIterable<Batch> {
  /** Number of batches one iteration yields. */
  readonly size: number;
}

/**
 * Mini-batches over a split, made lazily one at a time: only the current batch is allocated, never a copy of the whole
 * set. Iterating again starts a new epoch (a new shuffle when `shuffle` is on).
 *
 * @param set - a split (or a subset from {@link trainValidationSplit})
 * @param options - see {@link BatchOptions}
 * @returns a restartable iterable of {@link Batch}
 * @throws RangeError for a bad `batchSize`; TypeError when `shuffle` has no `seed`
 *
 * @example
 * ```ts
 * const epoch = batches(train, { batchSize: 256, shuffle: true, seed: 1 });
 * for (const { x, y } of epoch) {
 *   // x: Float32Array(256 * 784), y: Uint8Array(256)
 * }
 * ```
 */
export function batches(set: ExampleSet, options: BatchOptions = {}): Batches {
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new RangeError(`'batchSize' must be a positive integer, got ${batchSize}.`);
  }
  if ((options.shuffle || options.augment) && options.seed === undefined) {
    throw new TypeError(
      `'seed' is required when 'shuffle' or 'augment' is set, so runs are reproducible; pass e.g. { shuffle: true, seed: 42 }.`,
    );
  }
  const shift = options.augment?.shift ?? 0;
  const flip = options.augment?.flip ?? false;
  if (!Number.isInteger(shift) || shift < 0 || shift >= IMAGE_ROWS) {
    throw new RangeError(`'augment.shift' must be an integer in [0, ${IMAGE_ROWS - 1}], got ${shift}.`);
  }
  const erase = options.augment?.erase ?? 0;
  if (!(erase >= 0 && erase <= 1)) {
    throw new RangeError(`'augment.erase' must be a probability in [0, 1] such as 0.5, got ${erase}.`);
  }
  const augmenting = shift > 0 || flip || erase > 0;
  const pixels = set.count > 0 ? set.images.length / set.count : IMAGE_PIXELS;
  const layout = options.layout ?? 'flat';
  layoutShape(0, layout); // checks it
  if (layout !== 'flat' && pixels !== IMAGE_PIXELS) throw new RangeError(`'layout' ${layout} needs 28×28 images.`);
  const { mean, std } = resolveNormalization(options.normalization);
  const scale = 1 / (255 * std);
  const offset = -mean / std;
  const rng = options.shuffle || augmenting ? toRng(options.seed as number | Rng) : undefined;
  if (augmenting && set.count > 0 && pixels !== IMAGE_PIXELS) throw new RangeError(`'augment' needs 28×28 images.`);
  const full = Math.floor(set.count / batchSize);
  const size = options.dropLast || set.count % batchSize === 0 ? full : full + 1;

  function* iterate(): Generator<Batch> {
    const order = options.shuffle && rng ? permutation(set.count, rng) : undefined;
    for (let b = 0; b < size; b++) {
      const start = b * batchSize;
      const n = Math.min(batchSize, set.count - start);
      const x = new Float32Array(n * pixels);
      const y = new Uint8Array(n);
      const indices = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const idx = order ? (order[start + i] as number) : start + i;
        indices[i] = idx;
        y[i] = set.labels[idx] as number;
        const src = idx * pixels;
        const dst = i * pixels;
        if (augmenting && rng) {
          augmentInto(set.images, src, x, dst, rng, shift, flip, scale, offset);
          if (erase > 0 && rng.next() < erase) eraseInto(x, dst, rng, scale, offset);
        } else {
          for (let p = 0; p < pixels; p++) x[dst + p] = (set.images[src + p] as number) * scale + offset;
        }
      }
      yield { x, shape: layout === 'flat' ? [n, pixels] : layoutShape(n, layout), y, indices, size: n };
    }
  }
  return {
    size,
    [Symbol.iterator]: iterate,
    async *[Symbol.asyncIterator]() {
      yield* iterate();
    },
  };
}

/** Options of {@link toBatch}. */
export interface ToBatchOptions {
  /** Pixel normalisation. @defaultValue `'unit'` (`/255`) */
  normalization?: Normalization;
  /** Shape reported as `shape` (see {@link Layout}). @defaultValue `'flat'` */
  layout?: Layout;
}

/**
 * A whole split (or subset) as one float {@link Batch}, in order: for evaluation, or to hand a framework all of it.
 *
 * @param set - a split or subset of 28×28 images
 * @param options - normalisation and layout
 * @returns `x` with `count * 784` floats and its `shape`, the labels `y`, `indices` 0…count-1
 * @throws TypeError for an unknown layout; RangeError when the images are not 28×28
 *
 * @example
 * ```ts
 * const all = toBatch(test, { layout: 'nchw' }); // all.shape = [10000, 1, 28, 28]
 * ```
 */
export function toBatch(set: ExampleSet, options: ToBatchOptions = {}): Batch {
  const layout = options.layout ?? 'flat';
  const shape = layoutShape(set.count, layout);
  if (set.images.length !== set.count * IMAGE_PIXELS) {
    throw new RangeError(`'set.images' must hold count × 784 = ${set.count * IMAGE_PIXELS} pixels, got ${set.images.length}.`);
  }
  return {
    x: normalize(set.images, options.normalization),
    shape,
    y: set.labels.slice(0, set.count),
    indices: Uint32Array.from({ length: set.count }, (_, i) => i),
    size: set.count,
  };
}

/** Writes one shifted (zero-filled) and possibly mirrored, normalised 28×28 image. */
function augmentInto(
  images: Uint8Array,
  src: number,
  x: Float32Array,
  dst: number,
  rng: Rng,
  maxShift: number,
  flip: boolean,
  scale: number,
  offset: number,
): void {
  const dy = maxShift > 0 ? rng.int(2 * maxShift + 1) - maxShift : 0;
  const dx = maxShift > 0 ? rng.int(2 * maxShift + 1) - maxShift : 0;
  const mirror = flip && rng.next() < 0.5;
  for (let r = 0; r < IMAGE_ROWS; r++) {
    const sr = r - dy;
    for (let c = 0; c < IMAGE_COLS; c++) {
      const sc = (mirror ? IMAGE_COLS - 1 - c : c) - dx;
      const inside = sr >= 0 && sr < IMAGE_ROWS && sc >= 0 && sc < IMAGE_COLS;
      x[dst + r * IMAGE_COLS + c] = (inside ? (images[src + sr * IMAGE_COLS + sc] as number) : 0) * scale + offset;
    }
  }
}

/** Random Erasing's bounds (Zhong et al., 2020, their Fashion-MNIST setting): erased area and aspect ratio. */
const ERASE_AREA = [0.02, 0.4] as const;
const ERASE_LOG_RATIO = [Math.log(0.3), Math.log(1 / 0.3)] as const;
/** Rectangles drawn before giving up on one that fits (torchvision's 10). */
const ERASE_ATTEMPTS = 10;

/** Fills one random rectangle of a normalised 28×28 image with random pixel values (0–255, normalised). */
function eraseInto(x: Float32Array, dst: number, rng: Rng, scale: number, offset: number): void {
  for (let attempt = 0; attempt < ERASE_ATTEMPTS; attempt++) {
    const area = IMAGE_PIXELS * (ERASE_AREA[0] + (ERASE_AREA[1] - ERASE_AREA[0]) * rng.next());
    const ratio = Math.exp(ERASE_LOG_RATIO[0] + (ERASE_LOG_RATIO[1] - ERASE_LOG_RATIO[0]) * rng.next());
    const h = Math.round(Math.sqrt(area * ratio));
    const w = Math.round(Math.sqrt(area / ratio));
    if (h < 1 || w < 1 || h >= IMAGE_ROWS || w >= IMAGE_COLS) continue;
    const top = rng.int(IMAGE_ROWS - h + 1);
    const left = rng.int(IMAGE_COLS - w + 1);
    for (let r = top; r < top + h; r++) {
      for (let c = left; c < left + w; c++) x[dst + r * IMAGE_COLS + c] = rng.int(256) * scale + offset;
    }
    return;
  }
}

/**
 * Copies the chosen examples into a new, compact set.
 *
 * @param set - source split or subset
 * @param indices - which examples, in the order wanted
 * @returns a new split holding only those examples
 *
 * @example
 * ```ts
 * const firstHundred = subset(train, Uint32Array.from({ length: 100 }, (_, i) => i));
 * ```
 */
export function subset(set: ExampleSet, indices: ArrayLike<number>): FashionMnistSplit {
  const pixels = set.count > 0 ? set.images.length / set.count : IMAGE_PIXELS;
  const images = new Uint8Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const idx = indices[i] as number;
    if (!Number.isInteger(idx) || idx < 0 || idx >= set.count) {
      throw new RangeError(`'indices[${i}]' must be an integer in [0, ${set.count - 1}], got ${idx}.`);
    }
    images.set(set.images.subarray(idx * pixels, (idx + 1) * pixels), i * pixels);
    labels[i] = set.labels[idx] as number;
  }
  return { images, labels, count: indices.length, rows: IMAGE_ROWS, cols: IMAGE_COLS };
}

/** Options of {@link trainValidationSplit}. */
export interface TrainValidationSplitOptions {
  /** Fraction of examples held out for validation, in (0, 1). @defaultValue 0.1 */
  validationFraction?: number;
  /** Seed of the random assignment. */
  seed: number | Rng;
  /** Keep every class's share equal in both parts. @defaultValue true */
  stratify?: boolean;
}

/**
 * Splits a set into a training part and a held-out validation part, at random (seeded), stratified by class by default
 * so each class keeps its share.
 *
 * @param set - usually the official training split
 * @param options - fraction, seed, stratification
 * @returns `{ train, validation }`, both compact copies
 *
 * @example
 * ```ts
 * const { train: fit, validation } = trainValidationSplit(train, { validationFraction: 0.1, seed: 1 });
 * // fit.count === 54000, validation.count === 6000, 600 of each class
 * ```
 */
export function trainValidationSplit(
  set: ExampleSet,
  options: TrainValidationSplitOptions,
): { train: FashionMnistSplit; validation: FashionMnistSplit } {
  const fraction = options.validationFraction ?? 0.1;
  if (!(fraction > 0 && fraction < 1)) {
    throw new RangeError(`'validationFraction' must be between 0 and 1 (exclusive), got ${fraction}.`);
  }
  if (options.seed === undefined) throw new TypeError(`'seed' is required, e.g. { seed: 42 }.`);
  const rng = toRng(options.seed);
  const validation: number[] = [];
  const train: number[] = [];
  if (options.stratify ?? true) {
    // Every label present is a stratum, in ascending order (for Fashion-MNIST 0–9, as always): a label of 10 or more
    // (a dataset with more classes) is split like the others, never dropped.
    const strata = new Map<number, number[]>();
    for (let i = 0; i < set.count; i++) {
      const label = set.labels[i] as number;
      const members = strata.get(label);
      if (members) members.push(i);
      else strata.set(label, [i]);
    }
    const byClass = [...strata.keys()].sort((a, b) => a - b).map((label) => strata.get(label) as number[]);
    for (const members of byClass) {
      const order = permutation(members.length, rng);
      const nVal = Math.round(members.length * fraction);
      for (let k = 0; k < order.length; k++) (k < nVal ? validation : train).push(members[order[k] as number] as number);
    }
    validation.sort((a, b) => a - b);
    train.sort((a, b) => a - b);
  } else {
    const order = permutation(set.count, rng);
    const nVal = Math.round(set.count * fraction);
    for (let k = 0; k < order.length; k++) (k < nVal ? validation : train).push(order[k] as number);
  }
  return { train: subset(set, train), validation: subset(set, validation) };
}

/** Options of {@link patchify}. */
export interface PatchifyOptions {
  /** Side of a square patch in pixels; must divide the image size. @defaultValue 4 */
  patchSize?: number;
  /** Image height. @defaultValue 28 */
  rows?: number;
  /** Image width. @defaultValue 28 */
  cols?: number;
  /** Output array to fill instead of allocating. */
  out?: Float32Array;
}

/**
 * Cuts images into non-overlapping square patches: a 28×28 image becomes 49 patches of 4×4 = 16 values. Patches are
 * ordered row-major over the image (patch `pr * 7 + pc`), and the pixels inside a patch row-major too. The output has
 * the same length as the input, laid out `[image][patch][pixel]`.
 *
 * @param images - `n * rows * cols` values (bytes or already normalised floats)
 * @param options - patch size, image size, output buffer
 * @returns `n * (rows/p * cols/p) * p * p` floats
 * @throws RangeError when the patch size does not divide the image or the input length is wrong
 *
 * @example
 * ```ts
 * const patches = patchify(normalize(getImage(test, 0))); // Float32Array(784) = 49 × 16
 * ```
 */
export function patchify(images: Uint8Array | Float32Array, options: PatchifyOptions = {}): Float32Array {
  const p = options.patchSize ?? 4;
  const rows = options.rows ?? IMAGE_ROWS;
  const cols = options.cols ?? IMAGE_COLS;
  if (!Number.isInteger(p) || p <= 0 || rows % p !== 0 || cols % p !== 0) {
    throw new RangeError(`'patchSize' must be a positive integer dividing ${rows}×${cols}, got ${p}.`);
  }
  const pixels = rows * cols;
  if (images.length % pixels !== 0) {
    throw new RangeError(`'images' length must be a multiple of ${pixels} (${rows}×${cols}), got ${images.length}.`);
  }
  const out = options.out ?? new Float32Array(images.length);
  if (out.length !== images.length) throw new RangeError(`'out' must have length ${images.length}, got ${out.length}.`);
  const n = images.length / pixels;
  const pr = rows / p;
  const pc = cols / p;
  const patchLen = p * p;
  for (let img = 0; img < n; img++) {
    const base = img * pixels;
    let o = base;
    for (let a = 0; a < pr; a++) {
      for (let b = 0; b < pc; b++) {
        for (let i = 0; i < p; i++) {
          const src = base + (a * p + i) * cols + b * p;
          for (let j = 0; j < p; j++) out[o + i * p + j] = images[src + j] as number;
        }
        o += patchLen;
      }
    }
  }
  return out;
}

/**
 * Mirrors every image left–right (what the `flip` augmentation does to the images it picks), e.g. for flip test-time
 * augmentation: average a model's logits on `images` and on `mirrorImages(images)`.
 *
 * @param images - `n * rows * cols` pixels
 * @param options - image size (default 28×28)
 * @returns a new array of the mirrored images
 * @throws RangeError when the input length is not a whole number of images
 *
 * @example
 * ```ts
 * const mirrored = mirrorImages(test.images); // image i, column c → column 27 − c
 * ```
 */
export function mirrorImages(images: Uint8Array, options: { rows?: number; cols?: number } = {}): Uint8Array {
  const rows = options.rows ?? IMAGE_ROWS;
  const cols = options.cols ?? IMAGE_COLS;
  for (const [name, v] of [
    ['rows', rows],
    ['cols', cols],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`'${name}' must be a positive integer, got ${v}.`);
  }
  if (images.length % (rows * cols) !== 0) {
    throw new RangeError(`'images' length must be a multiple of ${rows * cols} (${rows}×${cols}), got ${images.length}.`);
  }
  const out = new Uint8Array(images.length);
  for (let row = 0; row < images.length; row += cols) {
    for (let c = 0; c < cols; c++) out[row + c] = images[row + cols - 1 - c] as number;
  }
  return out;
}
