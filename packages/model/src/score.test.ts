import { expect, it } from 'vitest';
import { scoreLogits } from './score';

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
