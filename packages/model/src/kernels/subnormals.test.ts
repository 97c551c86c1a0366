// No kernel writes a subnormal f32 (x86 processes them ~100× slower and WebAssembly cannot flush them to zero): the
// coursework's N(0, 1) init drives most GELU inputs far into the tail, where exp, erfc and their products underflow.
import { describe, expect, it } from 'vitest';
import { type ModelConfig, PRESETS } from '../config';
import { initParams } from '../model';
import type { KernelCompute, KernelModel, TensorSpec } from './core';
import { type MixerKernelExports, mixerModel } from './mixer-model';
import { randomBatch } from './test-utils';
import { compileKernels, KERNEL_IMPORTS } from './wasm';

const FLT_MIN = 1.1754944e-38;
const isSubnormal = (v: number) => v !== 0 && Math.abs(v) < FLT_MIN;

/** Indices of the subnormal f32 words in linear memory (the allocator's small headers read as subnormals too). */
function subnormalWords(memory: WebAssembly.Memory): Set<number> {
  const words = new Float32Array(memory.buffer);
  const found = new Set<number>();
  for (let i = 0; i < words.length; i++) if (isSubnormal(words[i]!)) found.add(i);
  return found;
}

async function instantiate<E>(model: KernelModel<E, { tensors: TensorSpec[] }>, capacity: number) {
  const instance = await WebAssembly.instantiate(await compileKernels(model.module), KERNEL_IMPORTS);
  const exports = instance.exports as E & { memory: WebAssembly.Memory };
  return { exports, memory: exports.memory, compute: model.createCompute(exports, model.shape, capacity) as KernelCompute };
}

/** Trains `steps` Adam steps of `config` (its own init) on one batch; returns the subnormal words it left behind. */
async function trainAndScan(config: ModelConfig, model: KernelModel<never, { tensors: TensorSpec[] }>, n: number, steps: number) {
  const { memory, compute: c } = await instantiate(model, n);
  const params = initParams(config);
  const block = new Float32Array(memory.buffer, c.paramsPtr, c.blockLength);
  for (const { name } of model.shape.tensors) block.set(params[name]!, c.offsets[name]);
  const { x, y } = randomBatch(5, n);
  new Uint8Array(memory.buffer, c.labelsPtr, n).set(y); // label bytes can read as a subnormal word: scanned as a baseline
  const before = subnormalWords(memory);
  const losses: number[] = [];
  for (let t = 1; t <= steps; t++) {
    new Float32Array(memory.buffer, c.imagesPtr, n * 784).set(x);
    losses.push(c.forwardBackward(n, 1 / n).lossSum / n);
    c.adam(1e-3, 0.9, 0.999, 1e-8, 1 - 0.9 ** t, 1 - 0.999 ** t);
  }
  const after = subnormalWords(memory);
  return { created: [...after].filter((i) => !before.has(i)).length, losses };
}

describe('no kernel writes a subnormal float', () => {
  it('the patch-MLP (the coursework preset), coursework N(0, 1) init: forward, backward and Adam', async () => {
    const { created, losses } = await trainAndScan(PRESETS.coursework, mixerModel(PRESETS.coursework) as never, 32, 3);
    expect(losses[0]).toBeGreaterThan(1000); // the huge starting loss: pre-activations far in GELU's tail
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(created).toBe(0);
  });

  it('the Mixer kernels, a one-block GELU Mixer with N(0, 1) init', async () => {
    const config: ModelConfig = {
      ...PRESETS['mixer-s'],
      dim: 32,
      tokenHidden: 16,
      channelHidden: 64,
      blocks: 1,
      init: { kind: 'normal', std: 1 },
    };
    const { created, losses } = await trainAndScan(config, mixerModel(config) as never, 16, 3);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(created).toBe(0);
  });

  describe('single kernels of the Mixer module', () => {
    async function mixer() {
      const { exports } = await instantiate(mixerModel(PRESETS['mixer-s']) as never, 1);
      const k = exports as unknown as MixerKernelExports;
      const f32 = (ptr: number, n: number) => new Float32Array(k.memory.buffer, ptr, n);
      return { k, f32 };
    }

    it('geluForward: the far tail is exactly 0 (value) and 0 / 1 (derivative); inside the cut the values are normal', async () => {
      const { k, f32 } = await mixer();
      const z = [-1e6, -40, -20, -12.7, -9, -8.9, -8, -6, -1e-39, 0, 1e-39, 9, 40, Number.NaN, -Infinity];
      const Z = k.allocF32(z.length);
      const G = k.allocF32(z.length);
      f32(Z, z.length).set(z);
      k.geluForward(Z, G, z.length);
      const g = [...f32(G, z.length)];
      const d = [...f32(Z, z.length)];
      expect([...g, ...d].filter(isSubnormal)).toEqual([]);
      // beyond |z| = sqrt(80): exact
      for (const i of [0, 1, 2, 3, 4]) {
        expect(g[i]).toBe(0); // flushed: +0
        expect(d[i]).toBe(0);
      }
      expect(g[11]).toBe(9);
      expect(d[11]).toBe(1);
      expect(g[12]).toBe(40);
      // just inside the cut the tail is still computed: gelu(z) = z Φ(z) (A&S 7.1.26: ≤ 2 % relative out here)
      const gelu = [-2.485177593696293e-18, -4.9767684594174555e-15, -5.919525870226207e-9]; // z = -8.9, -8, -6
      for (const [j, want] of gelu.entries()) expect(Math.abs(g[5 + j]! / want - 1)).toBeLessThan(0.02);
      // subnormal inputs give zeros, not subnormals
      expect(g[8]).toBe(0);
      expect(g[10]).toBe(0);
      expect(d[9]).toBeCloseTo(0.5, 6);
      expect(g[13]).toBeNaN(); // NaN propagates (divergence stays visible)
      expect(d[13]).toBeNaN();
      expect(g[14]).toBeNaN(); // -inf × 0, as any float reference gives
    });

    it('adam: moments of a parameter whose gradient is 0 decay to exactly 0, never through subnormals', async () => {
      const { k, f32 } = await mixer();
      const n = 4;
      const [p, g, m, v] = [0, 1, 2, 3].map(() => k.allocF32(n)) as [number, number, number, number];
      f32(p, n).set([1, -1, 0.5, 2]);
      f32(g, n).set([1e-3, -1e-10, 1e-19, 1e-25]); // the last two: g² underflows
      k.adam(p, g, m, v, n, 1e-3, 0.9, 0.999, 1e-8, 1 - 0.9, 1 - 0.999);
      expect([...f32(v, n)].filter(isSubnormal)).toEqual([]);
      expect(f32(v, n)[3]).toBe(0);
      f32(g, n).fill(0);
      const seen: number[] = [];
      for (let t = 2; t <= 1200; t++) {
        k.adam(p, g, m, v, n, 1e-3, 0.9, 0.999, 1e-8, 1 - 0.9 ** t, 1 - 0.999 ** t);
        seen.push(...f32(m, n), ...f32(v, n), ...f32(p, n));
      }
      expect(seen.filter(isSubnormal)).toEqual([]);
      expect([...f32(m, n)]).toEqual([0, 0, 0, 0]); // 0.9^1200 × 1e-4 underflowed: flushed
    });

    it('sgd: a momentum buffer whose gradient is 0 decays to exactly 0, never through subnormals', async () => {
      const { k, f32 } = await mixer();
      const n = 4;
      const [p, g, buf] = [0, 1, 2].map(() => k.allocF32(n)) as [number, number, number];
      f32(p, n).set([1, -1, 0.5, 2]);
      f32(g, n).set([1e-3, -1e-10, 1e-30, 1e-38]);
      k.sgd(p, g, buf, n, 0.1, 0.9, 1, 0, 1);
      f32(g, n).fill(0);
      const seen: number[] = [];
      for (let t = 2; t <= 1000; t++) {
        k.sgd(p, g, buf, n, 0.1, 0.9, 1, t % 2, 0); // plain and Nesterov
        seen.push(...f32(buf, n), ...f32(p, n));
      }
      expect(seen.filter(isSubnormal)).toEqual([]);
      expect([...f32(buf, n)]).toEqual([0, 0, 0, 0]); // 0.9^1000 × 1e-3 underflowed: flushed
    });

    it('softmaxCrossEntropy with label smoothing: the far classes get exactly −ε/K (no subnormals), the loss PyTorch’s', async () => {
      const { k, f32 } = await mixer();
      const logits = k.allocF32(10);
      const dLogits = k.allocF32(10);
      const labels = k.allocF32(1); // label 0
      const l = [0, -88, -90, -95, -100, -103, -200, -1e4, -87, -10];
      f32(logits, 10).set(l);
      const eps = Math.fround(0.1);
      const loss = k.softmaxCrossEntropy(logits, labels, dLogits, 1, 10, 1, eps);
      const d = [...f32(dLogits, 10)];
      expect(d.filter(isSubnormal)).toEqual([]);
      for (const i of [1, 2, 3, 4, 5, 6, 7]) expect(d[i]).toBe(Math.fround(-eps / 10));
      const lse = Math.log(l.reduce((a, v) => a + Math.exp(v), 0));
      const want = lse - (1 - eps) * l[0]! - (eps / 10) * l.reduce((a, v) => a + v, 0);
      expect(loss / want).toBeCloseTo(1, 6);
    });

    it('softmaxCrossEntropy: gradients of classes far below the winner are exactly 0', async () => {
      const { k, f32 } = await mixer();
      const logits = k.allocF32(10);
      const dLogits = k.allocF32(10);
      const labels = k.allocF32(1); // label 0 (u8 in the first byte)
      // logit gaps whose softmax lands in the f32 subnormal range (e^-88 … e^-103) and below it
      f32(logits, 10).set([0, -88, -90, -95, -100, -103, -200, -1e4, -87, -10]);
      const loss = k.softmaxCrossEntropy(logits, labels, dLogits, 1, 10, 1, 0);
      const d = [...f32(dLogits, 10)];
      expect(d.filter(isSubnormal)).toEqual([]);
      expect(d.slice(1, 8)).toEqual([0, 0, 0, 0, 0, 0, 0]);
      expect(d[8]! / Math.exp(-87)).toBeCloseTo(1, 4); // 1.6e-38: still normal, kept
      expect(d[8]).toBeGreaterThan(0);
      expect(loss).toBeCloseTo(Math.log1p(Math.exp(-10)), 7);
    });
  });
});
