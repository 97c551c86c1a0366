/**
 * `@fmnist/data/tfjs`: a TensorFlow.js adapter. Turns a split into a `tf.data.Dataset` of `{ xs, ys }` batches for
 * `model.fitDataset`, reshuffled (seeded) on every epoch, with one-hot labels and the image layout a model expects.
 *
 * TensorFlow.js is an optional peer dependency: pass your `tf` module (`@tensorflow/tfjs`, or `@tensorflow/tfjs-node`,
 * which re-exports it), so this package never loads a second copy of it.
 *
 * @packageDocumentation
 */
import type * as Tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from './dataset';
import { type Augmentation, type Batch, batches, type ExampleSet, type Layout, type Normalization, oneHot } from './transforms';

/** The part of the `@tensorflow/tfjs` module the adapter uses (the whole module fits). */
export type TfModule = Pick<typeof Tf, 'data' | 'tensor'>;

/** One element of the dataset: images `xs` (float32, shaped by `layout`) and labels `ys`. */
export type TfBatch = {
  /** float32 `[n, 784]`, `[n, 28, 28, 1]` or `[n, 1, 28, 28]` (see {@link Layout}). */
  xs: Tf.Tensor;
  /** float32 one-hot `[n, 10]` (`labels: 'oneHot'`), or int32 class indices `[n]` (`labels: 'index'`). */
  ys: Tf.Tensor;
};

/** Options of {@link toTfDataset}. */
export interface TfDatasetOptions {
  /** Examples per batch. @defaultValue 32 */
  batchSize?: number;
  /** Reshuffle on every epoch (every new iteration of the dataset). @defaultValue true */
  shuffle?: boolean;
  /** Seed of the shuffle and of `augment`: the same seed gives the same epochs. Required unless `shuffle: false`. */
  seed?: number;
  /** Image layout of `xs`. @defaultValue `'nhwc'` (TensorFlow.js convolutions are channels-last) */
  layout?: Layout;
  /** Label encoding of `ys`: one-hot float32 for `categoricalCrossentropy`, or int32 indices. @defaultValue `'oneHot'` */
  labels?: 'oneHot' | 'index';
  /** Pixel normalisation. @defaultValue `'unit'` (`/255`) */
  normalization?: Normalization;
  /** Random training-time augmentation, drawn from the seeded RNG (see {@link Augmentation}). */
  augment?: Augmentation;
  /** Skip the last, smaller batch. @defaultValue false */
  dropLast?: boolean;
}

/**
 * A `tf.data.Dataset` of `{ xs, ys }` batches over a split. Each iteration of the dataset (each epoch of
 * `model.fitDataset`) draws a new order from the seeded RNG, so epochs differ but runs repeat. Tensors are made one
 * batch at a time, never for the whole set; `fitDataset` disposes them.
 *
 * @param tf - the `@tensorflow/tfjs` module (or `@tensorflow/tfjs-node`)
 * @param set - a split or subset, e.g. `train` of `loadFashionMnist()`
 * @param options - batch size, seed, layout, label encoding, normalisation, augmentation
 * @returns a dataset of {@link TfBatch}
 * @throws TypeError when shuffling without `seed`, or for an unknown `layout` / `labels`; RangeError for a bad `batchSize`
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { loadFashionMnist } from '@fmnist/data';
 * import { toTfDataset } from '@fmnist/data/tfjs';
 *
 * const { train } = await loadFashionMnist({ splits: ['train'] });
 * const model = tf.sequential({
 *   layers: [tf.layers.dense({ inputShape: [784], units: 64, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })],
 * });
 * model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
 * await model.fitDataset(toTfDataset(tf, train, { layout: 'flat', seed: 1 }), { epochs: 1 });
 * ```
 */
export function toTfDataset(tf: TfModule, set: ExampleSet, options: TfDatasetOptions = {}): Tf.data.Dataset<TfBatch> {
  const shuffle = options.shuffle ?? true;
  const labels = options.labels ?? 'oneHot';
  if (labels !== 'oneHot' && labels !== 'index') {
    throw new TypeError(`'labels' must be 'oneHot' or 'index', got ${JSON.stringify(labels)}.`);
  }
  if (shuffle && options.seed === undefined) {
    throw new TypeError(`'seed' is required when shuffling (the default), so epochs repeat across runs; pass e.g. { seed: 42 }.`);
  }
  const epochs = batches(set, {
    batchSize: options.batchSize ?? 32,
    shuffle,
    seed: options.seed,
    layout: options.layout ?? 'nhwc',
    normalization: options.normalization,
    augment: options.augment,
    dropLast: options.dropLast,
  });
  const toTensors = (b: Batch): TfBatch => ({
    xs: tf.tensor(b.x, b.shape, 'float32'),
    ys: labels === 'oneHot' ? tf.tensor(oneHot(b.y), [b.size, NUM_CLASSES], 'float32') : tf.tensor(Int32Array.from(b.y), [b.size], 'int32'),
  });
  // tf.data calls the generator function again on every iteration: a new epoch of `batches`, newly shuffled.
  return tf.data.generator<TfBatch>(function* () {
    for (const b of epochs) yield toTensors(b);
  });
}
