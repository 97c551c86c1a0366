import { createRng } from '@fmnist/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ModelConfig, paramSpecs, resolveConfig } from './config';
import { initParams } from './model';
import { tf, useTfjsBackend } from './tfjs-backend';
import { createTfjsEngine, createTfjsForward } from './tfjs-engine';

const adam = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const randomImages = (n: number, seed: number) => {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * 784 }, () => rng.next());
};
const smallMixer: ModelConfig = resolveConfig({ preset: 'mixer-s', dim: 16, tokenHidden: 8, channelHidden: 32, blocks: 2 });

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

beforeAll(async () => {
  await useTfjsBackend('cpu');
});

describe('TensorFlow.js forward/backward', () => {
  for (const [name, config] of [
    ['patch-mlp', resolveConfig('patch-mlp')],
    ['mixer (LayerNorm, residual, 2 blocks)', smallMixer],
  ] as const) {
    it(`${name}: custom explicit-transpose gradients equal autodiff (rel ≤ 1e-5)`, () => {
      const params = initParams(config);
      const specs = paramSpecs(config);
      const x = tf.tensor2d(randomImages(5, 1), [5, 784]);
      const y = tf.oneHot(tf.tensor1d([0, 3, 9, 3, 7], 'int32'), 10);
      const vars = specs.map((s) => tf.tensor(params[s.name] as Float32Array, s.shape));
      const gradsOf = (explicit: boolean) => {
        const forward = createTfjsForward(config, explicit);
        const f = (...ts: tf.Tensor[]) => {
          const v = Object.fromEntries(specs.map((s, i) => [s.name, ts[i] as tf.Tensor]));
          return tf.losses.softmaxCrossEntropy(y, forward(x, v)) as tf.Scalar;
        };
        return tf
          .grads(f)(vars)
          .map((g) => g.dataSync() as Float32Array);
      };
      const custom = gradsOf(true);
      const auto = gradsOf(false);
      for (let i = 0; i < specs.length; i++)
        expect(relErr(custom[i] as Float32Array, auto[i] as Float32Array), specs[i]?.name).toBeLessThan(1e-5);
    });
  }

  it('the mean of per-patch head logits equals the head on the mean patch (the ONNX graph computes the former)', () => {
    const config = resolveConfig('patch-mlp');
    const params = initParams(config);
    const forward = createTfjsForward(config, false);
    const v = Object.fromEntries(paramSpecs(config).map((s) => [s.name, tf.tensor(params[s.name] as Float32Array, s.shape)]));
    const x = tf.tensor2d(randomImages(3, 2), [3, 784]);
    const logits = forward(x, v).dataSync();
    expect(logits.length).toBe(30);
    // Recompute with the head applied to every patch, then averaged.
    const manual = tf.tidy(() => {
      const patches = tf.reshape(tf.transpose(tf.reshape(x, [3, 7, 4, 7, 4]), [0, 1, 3, 2, 4]), [3 * 49, 16]);
      const gelu = (t: tf.Tensor) => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.mul(t, Math.SQRT1_2))));
      let h = tf.add(tf.matMul(patches, v['embed.weight'] as tf.Tensor2D), v['embed.bias'] as tf.Tensor);
      let t = tf.reshape(tf.transpose(tf.reshape(h, [3, 49, 128]), [0, 2, 1]), [3 * 128, 49]) as tf.Tensor2D;
      t = tf.add(
        tf.matMul(
          gelu(
            tf.add(tf.matMul(t, v['blocks.0.token_mlp.fc1.weight'] as tf.Tensor2D), v['blocks.0.token_mlp.fc1.bias'] as tf.Tensor),
          ) as tf.Tensor2D,
          v['blocks.0.token_mlp.fc2.weight'] as tf.Tensor2D,
        ),
        v['blocks.0.token_mlp.fc2.bias'] as tf.Tensor,
      );
      h = tf.reshape(tf.transpose(tf.reshape(t, [3, 128, 49]), [0, 2, 1]), [3 * 49, 128]);
      h = tf.add(
        tf.matMul(
          gelu(
            tf.add(
              tf.matMul(h as tf.Tensor2D, v['blocks.0.channel_mlp.fc1.weight'] as tf.Tensor2D),
              v['blocks.0.channel_mlp.fc1.bias'] as tf.Tensor,
            ),
          ) as tf.Tensor2D,
          v['blocks.0.channel_mlp.fc2.weight'] as tf.Tensor2D,
        ),
        v['blocks.0.channel_mlp.fc2.bias'] as tf.Tensor,
      );
      const perPatch = tf.add(tf.matMul(h as tf.Tensor2D, v['head.weight'] as tf.Tensor2D), v['head.bias'] as tf.Tensor);
      return tf.mean(tf.reshape(perPatch, [3, 49, 10]), 1).dataSync();
    });
    for (let i = 0; i < 30; i++) expect(logits[i]).toBeCloseTo(manual[i] as number, 4);
  });
});

describe('TensorFlow.js engine', () => {
  it('is deterministic, round-trips optimizer state exactly, and leaks no tensors', async () => {
    const config = smallMixer;
    const x = randomImages(8, 3);
    const y = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const run = async (
      steps: number,
      from?: { params: Record<string, Float32Array>; opt: ReturnType<Awaited<ReturnType<typeof createTfjsEngine>>['getOptimizerState']> },
    ) => {
      const engine = await createTfjsEngine(config, from?.params ?? initParams(config), { backend: 'cpu' });
      if (from) engine.setOptimizerState(from.opt);
      const before = tf.memory().numTensors;
      const losses: number[] = [];
      for (let i = 0; i < steps; i++) losses.push((await engine.trainStep(x, y, adam)).loss);
      expect(tf.memory().numTensors).toBe(before);
      const out = { params: engine.getParams(), opt: engine.getOptimizerState(), losses };
      await engine.dispose();
      return out;
    };
    const a = await run(4);
    const b = await run(4);
    expect(b.losses).toEqual(a.losses);
    expect(a.losses[3]).toBeLessThan(a.losses[0] as number);
    const half = await run(2);
    const resumed = await run(2, { params: half.params, opt: half.opt });
    for (const k of Object.keys(a.params))
      expect(Array.from(resumed.params[k] as Float32Array)).toEqual(Array.from(a.params[k] as Float32Array));
    expect(resumed.opt.step).toBe(4);
  });
});
