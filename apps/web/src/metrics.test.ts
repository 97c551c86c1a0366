import { describe, expect, it } from 'vitest';
import { argmaxRows, median, rankClasses, scorePredictions, softmaxRows } from './metrics';

describe('metrics', () => {
  it('takes the argmax of each row, first on ties', () => {
    expect(Array.from(argmaxRows(new Float32Array([0.1, 0.9, 0.7, 0.3, 0.5, 0.5]), 2))).toEqual([1, 0, 0]);
    expect(() => argmaxRows(new Float32Array(5), 2)).toThrow(RangeError);
  });

  it('softmaxes rows in place, stably for large logits', () => {
    const p = softmaxRows(new Float32Array([0, 0, 1000, 1000 + Math.log(3)]), 2);
    expect(p[0]).toBeCloseTo(0.5, 6);
    expect(p[2]).toBeCloseTo(0.25, 5);
    expect(p[3]).toBeCloseTo(0.75, 5);
  });

  it('scores predictions: accuracy, confusion, per-class accuracy, wrong indices', () => {
    const s = scorePredictions(Uint8Array.of(0, 1, 1, 2, 0), Uint8Array.of(0, 1, 2, 2, 1), 3);
    expect(s.accuracy).toBeCloseTo(3 / 5, 12);
    expect(s.correct).toBe(3);
    expect(s.confusion).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 1, 1],
    ]);
    expect(s.perClass).toEqual([1, 0.5, 0.5]);
    expect(s.wrong).toEqual([2, 4]);
    expect(() => scorePredictions([0], [0, 1], 2)).toThrow(RangeError);
  });

  it('ranks classes and takes medians', () => {
    expect(rankClasses([0.2, 0.5, 0.3]).map((r) => r.index)).toEqual([1, 2, 0]);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
