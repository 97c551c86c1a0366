import { mirrorImages } from '@fmnist/data';
import { expect, it } from 'vitest';
import { flipAveragedLogits, scoreLogits } from './score';

it('scoreLogits: accuracy, mean cross-entropy, confusion matrix and predictions', () => {
  const s = scoreLogits(new Float32Array([2, 0, 0, 3, 1, 1]), new Uint8Array([0, 0, 1]), 2);
  // Rows: [2, 0] → 0 (label 0, right); [0, 3] → 1 (label 0, wrong); [1, 1] → 0, ties go to the first (label 1, wrong).
  expect(s.accuracy).toBeCloseTo(1 / 3, 10);
  const ce = (a: number, b: number, label: 0 | 1) => Math.log(Math.exp(a) + Math.exp(b)) - (label === 0 ? a : b);
  expect(s.loss).toBeCloseTo((ce(2, 0, 0) + ce(0, 3, 0) + ce(1, 1, 1)) / 3, 6);
  expect(s.confusion).toEqual([
    [1, 1],
    [1, 0],
  ]);
  expect(Array.from(s.predictions)).toEqual([0, 1, 0]);
});

it('flipAveragedLogits: the mean of the logits on the images and on their mirror images', async () => {
  const images = new Uint8Array(2 * 784).map((_, i) => (i * 13) % 256);
  // A stand-in model: logit k of image j is pixel k of its first row, so mirroring changes it.
  const seen: Uint8Array[] = [];
  const predict = (x: Uint8Array) => {
    seen.push(x);
    return Float32Array.from({ length: 20 }, (_, i) => x[Math.floor(i / 10) * 784 + (i % 10)] as number);
  };
  const logits = await flipAveragedLogits(images, predict);
  expect(seen).toEqual([images, mirrorImages(images)]);
  const plain = predict(images);
  const mirrored = predict(mirrorImages(images));
  expect(Array.from(logits)).toEqual(Array.from(plain, (v, i) => (v + (mirrored[i] as number)) / 2));
  expect(logits).not.toEqual(plain);
});
