/**
 * The TensorFlow.js adapter against the real library (`@tensorflow/tfjs`, cpu backend): shapes and encodings on a tiny
 * fixture, seeded reshuffling per epoch, and a small `tf.layers` model trained for one epoch through the adapter on
 * 10,000 real training images that must clear an accuracy floor on 2,000 real test images.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFashionMnist, SYSTEM_DATA_DIR } from './node/load';
import { tinySplit } from './test-fixtures';
import { toTfDataset } from './tfjs';
import { permutation, subset, toBatch } from './transforms';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const { images, labels } = tinySplit(30);
const tiny = { images, labels, count: 30 };

/** The example index of each row of `xs` (the fixture's first pixel of image i is 7·i). */
async function order(ds: tf.data.Dataset<{ xs: tf.Tensor; ys: tf.Tensor }>): Promise<number[]> {
  const seen: number[] = [];
  await ds.forEachAsync(({ xs, ys }) => {
    const rows = xs.reshape([xs.shape[0] as number, 784]);
    const first = rows.slice([0, 0], [-1, 1]).dataSync();
    for (const v of first) seen.push(Math.round((v * 255) / 7));
    tf.dispose([xs, ys, rows]);
  });
  return seen;
}

describe('toTfDataset', () => {
  it('yields xs in the layout asked for and one-hot float32 ys [n, 10]', async () => {
    const ds = toTfDataset(tf, tiny, { batchSize: 8, seed: 1 });
    const shapes: [number[], number[], string, string][] = [];
    await ds.forEachAsync(({ xs, ys }) => {
      shapes.push([xs.shape, ys.shape, xs.dtype, ys.dtype]);
      tf.dispose([xs, ys]);
    });
    expect(shapes[0]).toEqual([[8, 28, 28, 1], [8, 10], 'float32', 'float32']);
    expect(shapes.at(-1)).toEqual([[6, 28, 28, 1], [6, 10], 'float32', 'float32']);
    expect(shapes.length).toBe(4);
    const [nchw] = await toTfDataset(tf, tiny, { batchSize: 8, seed: 1, layout: 'nchw', labels: 'index' }).take(1).toArray();
    expect(nchw?.xs.shape).toEqual([8, 1, 28, 28]);
    expect([nchw?.ys.shape, nchw?.ys.dtype]).toEqual([[8], 'int32']);
    tf.dispose(nchw ? [nchw.xs, nchw.ys] : []);
  });

  it('the labels match the pixels: ys of a batch are the one-hot labels of its images', async () => {
    const [first] = await toTfDataset(tf, tiny, { batchSize: 30, seed: 3, layout: 'flat' }).take(1).toArray();
    const idx = Array.from(first?.xs.slice([0, 0], [-1, 1]).dataSync() ?? [], (v) => Math.round((v * 255) / 7));
    const argmax = Array.from(first?.ys.argMax(1).dataSync() ?? []);
    expect(argmax).toEqual(idx.map((i) => labels[i]));
    expect([...idx].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('reshuffles on every epoch, and the same seed repeats the same epochs', async () => {
    const a = toTfDataset(tf, tiny, { batchSize: 8, seed: 7 });
    const b = toTfDataset(tf, tiny, { batchSize: 8, seed: 7 });
    const a1 = await order(a);
    const a2 = await order(a);
    expect(a1).not.toEqual(a2);
    expect([...a1].sort((x, y) => x - y)).toEqual([...a2].sort((x, y) => x - y));
    expect([await order(b), await order(b)]).toEqual([a1, a2]);
    expect(await order(toTfDataset(tf, tiny, { batchSize: 8, shuffle: false }))).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('refuses shuffling without a seed and unknown encodings', () => {
    expect(() => toTfDataset(tf, tiny)).toThrow(/'seed' is required/);
    expect(() => toTfDataset(tf, tiny, { seed: 1, labels: 'sparse' as 'index' })).toThrow(
      `'labels' must be 'oneHot' or 'index', got "sparse".`,
    );
    expect(() => toTfDataset(tf, tiny, { seed: 1, batchSize: 0 })).toThrow(RangeError);
  });
});

describe.skipIf(!existsSync(`${SYSTEM_DATA_DIR}/train-images-idx3-ubyte.gz`))('toTfDataset trains a real tf.layers model', () => {
  it('dense 784→64→10, one epoch on 10,000 real training images → ≥ 0.75 accuracy on 2,000 test images', async () => {
    const { train, test } = await loadFashionMnist({ dir: SYSTEM_DATA_DIR });
    const fit = subset(train, permutation(train.count, 1).subarray(0, 10_000));
    const held = toBatch(subset(test, permutation(test.count, 2).subarray(0, 2_000)));
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [784],
          units: 64,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.003), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const history = await model.fitDataset(toTfDataset(tf, fit, { batchSize: 64, seed: 1, layout: 'flat' }), { epochs: 1, verbose: 0 });
    expect(history.epoch).toEqual([0]);
    const accuracy = tf.tidy(() => {
      const predicted = (model.predict(tf.tensor(held.x, held.shape)) as tf.Tensor).argMax(1);
      return predicted
        .equal(tf.tensor(Int32Array.from(held.y), [held.size], 'int32'))
        .mean()
        .dataSync()[0] as number;
    });
    console.log(`tfjs adapter: dense 784→64→10, 1 epoch on 10k, test accuracy on 2k = ${accuracy.toFixed(4)}`);
    expect(accuracy).toBeGreaterThanOrEqual(0.75);
    model.dispose();
  });
});
