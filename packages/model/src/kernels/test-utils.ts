// Shared by the kernel tests: seeded data and a plain TensorFlow.js reference of the patch-MLP (cpu backend, autodiff).
import * as tf from '@tensorflow/tfjs';
import { type ModelConfig, PRESETS, paramSpecs } from '../config';
import type { ParamSet } from '../engine';

/** The patch-MLP's parameters (`patch-mlp` and `seed`), in block order: Linear weights `[in, out]`. */
export const KERNEL_PARAM_SHAPES: ReadonlyArray<readonly [name: string, shape: readonly number[]]> = paramSpecs(PRESETS['patch-mlp']).map(
  ({ name, shape }) => [name, shape] as const,
);

/** Adam with PyTorch's defaults. */
export const ADAM = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** A seeded uniform [0, 1) generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Weights ~ N(0, 1/fan_in), biases uniform in ±0.05 (non-zero so their gradients are exercised). */
export function randomParams(seed: number): ParamSet {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const params: ParamSet = {};
  for (const [name, shape] of KERNEL_PARAM_SHAPES) {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = shape.length === 2 ? gauss() / Math.sqrt(shape[0]!) : 0.1 * (rand() - 0.5);
    params[name] = values;
  }
  return params;
}

/** `n` images of normalised-looking pixels (about −0.8…2) and their labels. */
export function randomBatch(seed: number, n: number): { x: Float32Array; y: Uint8Array } {
  const rand = seededRandom(seed);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = (rand() - 0.286) / 0.353;
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.floor(rand() * 10);
  return { x, y };
}

/** ‖a − b‖ / ‖b‖. */
export function relativeL2(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

let ready: Promise<void> | undefined;

/** Selects tfjs's plain JavaScript backend (the reference). */
export function useCpuBackend(): Promise<void> {
  ready ??= tf.setBackend('cpu').then(() => tf.ready());
  return ready;
}

/** The model as written (per-patch head, logits averaged over patches). */
function referenceLogits(x: tf.Tensor2D, v: Record<string, tf.Tensor>): tf.Tensor2D {
  const B = x.shape[0];
  const gelu = (z: tf.Tensor) => tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))));
  const patches = tf.reshape(tf.transpose(tf.reshape(x, [B, 7, 4, 7, 4]), [0, 1, 3, 2, 4]), [B * 49, 16]);
  let h = tf.add(tf.matMul(patches as tf.Tensor2D, v['embed.weight'] as tf.Tensor2D), v['embed.bias']!);
  let t = tf.reshape(tf.transpose(tf.reshape(h, [B, 49, 128]), [0, 2, 1]), [B * 128, 49]) as tf.Tensor2D;
  t = tf.add(
    tf.matMul(
      gelu(tf.add(tf.matMul(t, v['blocks.0.token_mlp.fc1.weight'] as tf.Tensor2D), v['blocks.0.token_mlp.fc1.bias']!)) as tf.Tensor2D,
      v['blocks.0.token_mlp.fc2.weight'] as tf.Tensor2D,
    ),
    v['blocks.0.token_mlp.fc2.bias']!,
  );
  h = tf.reshape(tf.transpose(tf.reshape(t, [B, 128, 49]), [0, 2, 1]), [B * 49, 128]);
  h = tf.add(
    tf.matMul(
      gelu(tf.add(tf.matMul(h, v['blocks.0.channel_mlp.fc1.weight'] as tf.Tensor2D), v['blocks.0.channel_mlp.fc1.bias']!)) as tf.Tensor2D,
      v['blocks.0.channel_mlp.fc2.weight'] as tf.Tensor2D,
    ),
    v['blocks.0.channel_mlp.fc2.bias']!,
  );
  const perPatch = tf.add(tf.matMul(h, v['head.weight'] as tf.Tensor2D), v['head.bias']!);
  return tf.mean(tf.reshape(perPatch, [B, 49, 10]), 1);
}

const toTensors = (params: ParamSet) => KERNEL_PARAM_SHAPES.map(([name, shape]) => tf.tensor(params[name]!, shape as number[]));

/** Reference mean loss and gradient of every parameter, by tfjs autodiff. */
export function referenceGradients(params: ParamSet, x: Float32Array, y: Uint8Array): { loss: number; grads: ParamSet } {
  return tf.tidy(() => {
    const n = y.length;
    const xt = tf.tensor2d(x, [n, 784]);
    const onehot = tf.oneHot(tf.tensor1d(Array.from(y), 'int32'), 10);
    const names = KERNEL_PARAM_SHAPES.map(([name]) => name);
    const f = (...ts: tf.Tensor[]) => {
      const v = Object.fromEntries(names.map((name, i) => [name, ts[i]!]));
      return tf.losses.softmaxCrossEntropy(onehot, referenceLogits(xt, v)) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(f)(toTensors(params));
    return {
      loss: value.dataSync()[0]!,
      grads: Object.fromEntries(names.map((name, i) => [name, grads[i]!.dataSync() as Float32Array])),
    };
  });
}

/** Reference logits `[n, 10]`. */
export function referencePredict(params: ParamSet, x: Float32Array): Float32Array {
  return tf.tidy(() => {
    const ts = toTensors(params);
    const v = Object.fromEntries(KERNEL_PARAM_SHAPES.map(([name], i) => [name, ts[i]!]));
    return referenceLogits(tf.tensor2d(x, [x.length / 784, 784]), v).dataSync() as Float32Array;
  });
}

/** Parameters of any config: weights ~ N(0, 1/fan_in); biases, norm biases uniform ±0.05 and norm weights 1 ± 0.1 (so all are exercised). */
export function randomConfigParams(config: ModelConfig, seed: number): ParamSet {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const params: ParamSet = {};
  for (const { name, shape, kind } of paramSpecs(config)) {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) {
      values[i] =
        kind === 'weight' ? gauss() / Math.sqrt(shape[0]!) : kind === 'norm-weight' ? 1 + 0.2 * (rand() - 0.5) : 0.1 * (rand() - 0.5);
    }
    params[name] = values;
  }
  return params;
}
