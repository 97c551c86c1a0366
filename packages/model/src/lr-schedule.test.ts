import { describe, expect, it } from 'vitest';
import type { AdamOptions } from './engine';
import { createLrSchedule } from './lr-schedule';

const adam: AdamOptions = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.05 };

describe('createLrSchedule', () => {
  it('constant: the same options at every step', () => {
    const at = createLrSchedule('constant', adam, 10);
    for (const done of [0, 5, 10, 50]) expect(at(done)).toBe(adam);
  });

  it('cosine: the peak at step 0, half at the middle, 0 at the end and after it; the other options kept', () => {
    const at = createLrSchedule('cosine', adam, 100);
    expect(at(0)).toEqual(adam);
    expect(at(50).learningRate).toBeCloseTo(0.005, 15);
    expect(at(25).learningRate).toBeCloseTo(0.01 * 0.5 * (1 + Math.SQRT1_2), 15);
    expect(at(100).learningRate).toBeCloseTo(0, 15);
    expect(at(250).learningRate).toBe(at(100).learningRate);
    const { learningRate: _, ...rest } = at(30);
    const { learningRate: __, ...base } = adam;
    expect(rest).toEqual(base);
  });
});
