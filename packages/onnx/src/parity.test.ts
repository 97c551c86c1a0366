/**
 * Parity of the exported graph with the model in TensorFlow.js (the reference forward pass of @fmnist/model, on its
 * wasm backend), run by onnxruntime-node on real test images, for every preset and some custom configs. The trained
 * default model is covered in real-data.test.ts.
 */
import { loadFashionMnist, normalize } from '@fmnist/data';
import { createModel, type FmnistModel, type ModelConfig, type PresetName } from '@fmnist/model';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx } from './export';
import { argmax, compare, createSession, mismatches, runOnnx, tfjsLogits } from './test-helpers';

let x: Float32Array;
beforeAll(async () => {
  const { test } = await loadFashionMnist();
  x = normalize(test.images.subarray(0, 1000 * 784));
});

/** Logits within 1e-4 (or 2e-6 of the largest logit, when logits are so large that 1e-4 is below float32 resolution). */
async function checkParity(model: FmnistModel, n: number) {
  const reference = await tfjsLogits(model, x, n);
  const session = await createSession(exportOnnx(model));
  const { logits, probabilities, dims } = await runOnnx(session, x, n);
  expect(dims).toEqual([n, model.config.numClasses]);
  const { maxDiff, maxAbs } = compare(reference, logits);
  const tolerance = Math.max(1e-4, 2e-6 * maxAbs);
  expect(maxDiff, `max |logit diff| ${maxDiff} (largest logit ${maxAbs})`).toBeLessThanOrEqual(tolerance);
  expect(mismatches(argmax(reference, model.config.numClasses), argmax(logits, model.config.numClasses))).toBe(0);
  // probabilities = softmax(logits) and sum to 1.
  const C = model.config.numClasses;
  for (let i = 0; i < n; i += 97) {
    let sum = 0;
    for (let c = 0; c < C; c++) sum += probabilities[i * C + c] as number;
    expect(sum).toBeCloseTo(1, 5);
  }
  await session.release();
  return { maxDiff, maxAbs };
}

describe('parity with TensorFlow.js on real test images (randomly initialised presets)', () => {
  // `patch-mlp` is checked trained, on 1,000 images, in real-data.test.ts. `seed` has N(0, 1) weights, so its logits
  // reach ~2e5, where one float32 ulp is ~0.016: it is held to 2e-6 of the largest logit instead of 1e-4 absolute.
  // mixer-m (0.56 M parameters) runs on 300 images and mixer-l (1.1 M) on 150: their TensorFlow.js reference (wasm, one
  // thread) is the slow part; the other presets run on all 1,000.
  it.each([
    ['coursework', 1000],
    ['mixer-s', 1000],
    ['mixer-m', 300],
    ['mixer-l', 150],
  ] as [PresetName, number][])('%s on %i images: same logits and argmax', async (preset, n) => {
    const { maxDiff, maxAbs } = await checkParity(createModel(preset), n);
    console.log(`${preset}: max |logit diff| ${maxDiff.toExponential(2)} over ${n} images (largest |logit| ${maxAbs.toExponential(2)})`);
  });

  it.each([
    ['ReLU', { activation: 'relu' }],
    ['no activation, 7×7 patches', { activation: 'none', patchSize: 7 }],
    ['2×2 patches, LayerNorm without residual, 5 classes', { patchSize: 2, norm: 'layernorm', residual: false, numClasses: 5, dim: 32 }],
    ['14×14 patches, 2 blocks with residual', { patchSize: 14, blocks: 2, residual: true, seed: 3 }],
  ] as [string, Partial<ModelConfig>][])('custom config: %s', async (_name, overrides) => {
    await checkParity(createModel({ preset: 'patch-mlp', ...overrides }), 200);
  });
});
