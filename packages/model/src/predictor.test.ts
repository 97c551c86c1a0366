import { describe, expect, it } from 'vitest';
import { type ModelConfig, resolveConfig } from './config';
import type { ParamSet } from './engine';
import { createEngine } from './engines';
import { FmnistModelError } from './errors';
import { randomBatch, randomConfigParams } from './kernels/test-utils';
import { createModel } from './model';
import { createPredictor } from './predictor';

/** Logits of TensorFlow.js (cpu backend), the reference every engine is checked against. */
async function tfjsLogits(config: ModelConfig, params: ParamSet, x: Float32Array): Promise<Float32Array> {
  const engine = await createEngine(config, params, { backend: 'cpu' });
  try {
    return await engine.predict(x);
  } finally {
    await engine.dispose?.();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

const CONFIGS: [string, ModelConfig][] = [
  ['patch-mlp', resolveConfig('patch-mlp')],
  ['a small Mixer (LayerNorm, residuals)', resolveConfig({ preset: 'mixer-s', dim: 32, tokenHidden: 16, channelHidden: 64, blocks: 2 })],
  ['a one-block ReLU patch-MLP without norm (general kernels)', resolveConfig({ preset: 'patch-mlp', activation: 'relu', dim: 64 })],
];

describe('createPredictor', () => {
  it.each(CONFIGS)('gives the logits of TensorFlow.js for %s', async (_, config) => {
    const params = randomConfigParams(config, 7);
    const { x } = randomBatch(3, 37);
    const predictor = await createPredictor({ config, params }, { maxBatch: 16 });
    const logits = predictor.predict(x);
    expect(logits).toHaveLength(37 * 10);
    // Chunks of 16 (16 + 16 + 5) give what one call over all 37 gives.
    const whole = await createPredictor({ config, params }, { maxBatch: 64 });
    expect(whole.predict(x)).toEqual(logits);
    const reference = await tfjsLogits(config, params, x);
    expect(maxAbsDiff(logits, reference)).toBeLessThan(1e-4);
  });

  it('runs only the first n images and follows setParams', async () => {
    const model = createModel({ preset: 'patch-mlp', seed: 1 });
    const predictor = await createPredictor(model);
    const { x } = randomBatch(5, 4);
    const all = predictor.predict(x);
    expect(predictor.predict(x, 2)).toEqual(all.subarray(0, 20));
    expect(predictor.predict(x, 0)).toHaveLength(0);

    const other = randomConfigParams(model.config, 11);
    predictor.setParams(other);
    const after = predictor.predict(x);
    expect(maxAbsDiff(after, all)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(after, await tfjsLogits(model.config, other, x))).toBeLessThan(1e-4);
  });

  it('rejects bad inputs, parameters and configs with clear errors', async () => {
    const model = createModel('patch-mlp');
    const predictor = await createPredictor(model);
    expect(() => predictor.predict(new Float32Array(784), 2)).toThrow(/holds 1 images .* fewer than n = 2/);
    expect(() => predictor.predict(new Float32Array(784), 1.5)).toThrow(RangeError);

    const { 'head.bias': _, ...missing } = model.params;
    await expect(createPredictor({ config: model.config, params: missing })).rejects.toMatchObject({
      code: 'E_CHECKPOINT_MISMATCH',
      message: expect.stringContaining("'head.bias'"),
    });
    expect(() => predictor.setParams({ ...model.params, 'head.weight': new Float32Array(3) })).toThrow(FmnistModelError);

    const fiveClasses = resolveConfig({ preset: 'patch-mlp', numClasses: 5 });
    await expect(createPredictor({ config: fiveClasses, params: createModel(fiveClasses).params })).rejects.toMatchObject({
      code: 'E_BACKEND',
      message: expect.stringContaining('numClasses 5'),
    });
    await expect(createPredictor(model, { maxBatch: 0 })).rejects.toThrow(/maxBatch must be a positive integer/);
  });
});

describe('createPredictor and modelFromParams of a hand-made config or params', () => {
  it.each([
    ['an unknown activation', { activation: 'bogus' }, /'activation' must be 'gelu', 'relu' or 'none', got "bogus"/],
    ['a string for residual', { residual: 'yes' }, /'residual' must be true or false/],
    ['an unknown norm', { norm: 'whatever' }, /'norm' must be 'none' or 'layernorm'/],
  ])('%s is E_CONFIG, not different logits', async (_what, change, message) => {
    const model = createModel('patch-mlp');
    const config = { ...model.config, ...change } as unknown as ModelConfig;
    await expect(createPredictor({ config, params: model.params })).rejects.toThrow(message);
    const { modelFromParams } = await import('./model');
    expect(() => modelFromParams(config, model.params)).toThrow(message);
  });
  it('a tensor that is not a Float32Array is E_CHECKPOINT_MISMATCH naming it', async () => {
    const model = createModel('patch-mlp');
    const params = { ...model.params, 'head.bias': Array.from(model.params['head.bias'] as Float32Array) } as unknown as ParamSet;
    await expect(createPredictor({ config: model.config, params })).rejects.toThrow(
      /tensor 'head\.bias' must be a Float32Array, got an array/,
    );
  });
});
