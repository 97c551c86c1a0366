import { describe, expect, it } from 'vitest';
import { createModel } from './model';
import type { TrainOptions } from './train';
import { resolveTrainOptions, trainingRecordOf } from './train-options';

const set = { images: new Uint8Array(784 * 4), labels: new Uint8Array(4), count: 4 };
const base = (extra: Partial<TrainOptions> = {}): TrainOptions => ({
  model: createModel('patch-mlp'),
  data: { train: set },
  epochs: 2,
  ...extra,
});

describe('resolveTrainOptions', () => {
  it('fills in the documented defaults; the seed defaults to the model’s config seed', () => {
    expect(resolveTrainOptions(base())).toEqual({
      batchSize: 256,
      seed: 0,
      evalEvery: 1,
      adam: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 },
      lrSchedule: 'constant',
    });
    expect(resolveTrainOptions(base({ model: createModel({ preset: 'patch-mlp', seed: 11 }) })).seed).toBe(11);
    expect(resolveTrainOptions(base({ model: createModel({ preset: 'patch-mlp', seed: 11 }), seed: 3 })).seed).toBe(3);
  });

  it.each<[string, Partial<TrainOptions>, RegExp]>([
    ['epochs 1.5', { epochs: 1.5 }, /'epochs' must be a positive integer, got 1.5/],
    ['batchSize 0', { batchSize: 0 }, /'batchSize' must be a positive integer, got 0/],
    ['evalEvery -1', { evalEvery: -1 }, /'evalEvery' must be a positive integer, got -1/],
    ['weightDecay NaN', { weightDecay: Number.NaN }, /'weightDecay' must be a finite number ≥ 0, got NaN/],
    ['learningRate 0', { learningRate: 0 }, /'learningRate' must be a finite number > 0, got 0/],
    ['learningRate Infinity', { learningRate: Number.POSITIVE_INFINITY }, /'learningRate' must be a finite number > 0, got Infinity/],
    ['seed 2**60', { seed: 2 ** 60 }, /'seed' must be a safe integer, got 1152921504606847000/],
    ['lrSchedule step', { lrSchedule: 'step' as never }, /'lrSchedule' must be 'constant' or 'cosine', got "step"/],
    ['an empty training set', { data: { train: { ...set, count: 0 } } }, /'data\.train' is empty/],
  ])('refuses %s with a RangeError naming the option', (_, extra, message) => {
    expect(() => resolveTrainOptions(base(extra))).toThrow(RangeError);
    expect(() => resolveTrainOptions(base(extra))).toThrow(message);
  });

  it('refuses resume or checkpointEvery without checkpointDir with a TypeError', () => {
    expect(() => resolveTrainOptions(base({ resume: true }))).toThrow(TypeError);
    expect(() => resolveTrainOptions(base({ checkpointEvery: 5 }))).toThrow(/'checkpointEvery' needs 'checkpointDir'/);
  });
});

describe('trainingRecordOf', () => {
  it('records AdamW only with a weight decay, and both seeds', () => {
    const engine = { name: 'wasm-simd', threads: 2 };
    const adam = trainingRecordOf(base(), resolveTrainOptions(base()), engine, 5);
    expect(adam).toMatchObject({ optimizer: 'adam', seed: 0, initSeed: 5, batchSize: 256, epochs: 2, trainExamples: 4 });
    expect(adam).not.toHaveProperty('weightDecay');
    expect(adam).not.toHaveProperty('augment');
    const options = base({ weightDecay: 0.05, augment: { flip: true } });
    const adamw = trainingRecordOf(options, resolveTrainOptions(options), engine, 0);
    expect(adamw).toMatchObject({ optimizer: 'adamw', weightDecay: 0.05, augment: { flip: true } });
  });
});
