import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The patch-MLP (`patch-mlp`, `seed`) on the kernel engine, against a TensorFlow.js autodiff reference written as the
// coursework states the model (per-patch head, logits averaged), on 1 and 2 threads.
import { PRESETS } from '../config';
import type { ParamSet, TrainEngine } from '../engine';
import { splitBatch } from './engine-impl';
import { createMixerKernelEngine } from './mixer-engine';
import {
  ADAM,
  KERNEL_PARAM_SHAPES,
  randomBatch,
  randomParams,
  referenceGradients,
  referencePredict,
  relativeL2,
  useCpuBackend,
} from './test-utils';
import { kernelsBuild } from './wasm';

/** The patch-MLP on `threads` threads. */
const createKernelEngine = (options: { maxBatch?: number; threads?: number }) =>
  createMixerKernelEngine({ config: PRESETS['patch-mlp'], ...options });
const createParallelKernelEngine = (options: { maxBatch?: number; threads: number }) => createKernelEngine(options);

const MAX_BATCH = 128;
/** Three steps: even, uneven over two threads (48 + 49), and small enough for one thread. */
const BATCHES = [64, 97, 13].map((n, i) => randomBatch(1000 + i, n));

/** Trains from `params` and a fresh optimizer. */
async function train(engine: TrainEngine, params: ParamSet, batches = BATCHES) {
  engine.setParams(params);
  engine.setOptimizerState(emptyState());
  const results = [];
  for (const { x, y } of batches) results.push(await engine.trainStep(x, y, ADAM));
  return { results, params: engine.getParams() };
}

describe('splitBatch', () => {
  it('splits evenly, the calling thread taking the smaller share, and keeps small batches on one thread', () => {
    expect(splitBatch(256, 2)).toEqual([128, 128]);
    expect(splitBatch(97, 2)).toEqual([48, 49]);
    expect(splitBatch(15, 2)).toEqual([15, 0]);
    expect(splitBatch(16, 2)).toEqual([8, 8]);
    expect(splitBatch(100, 3)).toEqual([33, 33, 34]);
    expect(splitBatch(20, 4)).toEqual([10, 10, 0, 0]);
    expect(splitBatch(5, 1)).toEqual([5]);
  });
});

describe('the patch-MLP on the kernel engine, 1 and 2 threads', () => {
  let single: TrainEngine;
  let parallel: TrainEngine;
  const params = randomParams(7);

  beforeAll(async () => {
    await useCpuBackend();
    single = await createKernelEngine({ maxBatch: MAX_BATCH });
    parallel = await createParallelKernelEngine({ threads: 2, maxBatch: MAX_BATCH });
  });
  afterAll(async () => {
    await parallel?.dispose();
    await single?.dispose();
  });

  it('describe themselves', () => {
    expect(single.name).toBe(`wasm-${kernelsBuild()}`);
    expect(single.threads).toBe(1);
    expect(parallel.threads).toBe(2);
  });

  it('report the loss and accuracy of the batch before the update', async () => {
    const { x, y } = BATCHES[1]!;
    const ref = referenceGradients(params, x, y);
    const logits = referencePredict(params, x);
    let correct = 0;
    for (let i = 0; i < y.length; i++) {
      const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
      if (row.indexOf(Math.max(...row)) === y[i]) correct++;
    }
    for (const engine of [single, parallel]) {
      engine.setParams(params);
      const result = await engine.trainStep(x, y, ADAM);
      expect(Math.abs(result.loss - ref.loss) / ref.loss).toBeLessThan(1e-5);
      expect(result.correct).toBe(correct);
    }
  });

  it('single-thread and parallel engines agree after 3 steps (uneven and single-thread shards)', async () => {
    const a = await train(single, params);
    const b = await train(parallel, params);
    for (const [name] of KERNEL_PARAM_SHAPES) expect(relativeL2(b.params[name]!, a.params[name]!), name).toBeLessThan(1e-5);
    a.results.forEach((r, i) => {
      expect(b.results[i]!.loss).toBeCloseTo(r.loss, 5);
      expect(b.results[i]!.correct).toBe(r.correct);
    });
  });

  it('are deterministic: the same params and batches give bit-identical params', async () => {
    for (const engine of [single, parallel]) {
      const first = await train(engine, params);
      const second = await train(engine, params);
      for (const [name] of KERNEL_PARAM_SHAPES) expect(second.params[name], name).toEqual(first.params[name]);
    }
  });

  it('resume bit-identically from saved params and optimizer state', async () => {
    const steps = [0, 1, 2, 3].map((i) => randomBatch(2000 + i, 40 + i));
    for (const [engine, fresh] of [
      [single, () => createKernelEngine({ maxBatch: MAX_BATCH })],
      [parallel, () => createParallelKernelEngine({ threads: 2, maxBatch: MAX_BATCH })],
    ] as const) {
      engine.setParams(params);
      engine.setOptimizerState(emptyState());
      for (const { x, y } of steps.slice(0, 2)) await engine.trainStep(x, y, ADAM);
      const saved = { params: engine.getParams(), state: engine.getOptimizerState() };
      expect(saved.state.step).toBe(2);
      for (const { x, y } of steps.slice(2)) await engine.trainStep(x, y, ADAM);
      const expected = engine.getParams();

      const resumed = await fresh();
      try {
        resumed.setParams(saved.params);
        resumed.setOptimizerState(saved.state);
        for (const { x, y } of steps.slice(2)) await resumed.trainStep(x, y, ADAM);
        const actual = resumed.getParams();
        for (const [name] of KERNEL_PARAM_SHAPES) expect(actual[name], name).toEqual(expected[name]);
        expect(resumed.getOptimizerState()).toEqual(engine.getOptimizerState());
      } finally {
        await resumed.dispose();
      }
    }
  });

  it('predict matches the TensorFlow.js logits for any batch size (chunked above maxBatch)', async () => {
    for (const n of [1, 15, 31, MAX_BATCH * 2 + 3]) {
      const { x } = randomBatch(3000 + n, n);
      const ref = referencePredict(params, x);
      for (const engine of [single, parallel]) {
        engine.setParams(params);
        const logits = await engine.predict(x);
        expect(logits.length).toBe(n * 10);
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - ref[i]!));
        expect(worst, `${engine.threads} threads, batch ${n}`).toBeLessThan(1e-4);
      }
    }
    expect(await single.predict(new Float32Array(0))).toEqual(new Float32Array(0));
  });

  it('reject bad batches with a RangeError naming the value and the limit', async () => {
    const big = randomBatch(1, MAX_BATCH + 1);
    for (const engine of [single, parallel]) {
      await expect(engine.trainStep(big.x, big.y, ADAM)).rejects.toThrow(
        new RangeError(`batch ${MAX_BATCH + 1} exceeds maxBatch ${MAX_BATCH}`),
      );
      await expect(engine.trainStep(new Float32Array(1000), new Uint8Array(1), ADAM)).rejects.toThrow(
        /x\.length 1000 is not a multiple of 784/,
      );
      await expect(engine.predict(new Float32Array(785))).rejects.toThrow(RangeError);
      await expect(engine.trainStep(new Float32Array(784), new Uint8Array(2), ADAM)).rejects.toThrow(/y\.length 2/);
      await expect(engine.trainStep(new Float32Array(784), new Uint8Array([10]), ADAM)).rejects.toThrow(/label 10/);
    }
    expect(() => single.setParams({ ...params, 'embed.weight': new Float32Array(3) })).toThrow(
      /'embed.weight' has 3 values, expected 2048/,
    );
    await expect(createParallelKernelEngine({ threads: 0 })).rejects.toThrow(RangeError);
    await expect(createKernelEngine({ maxBatch: 1.5 })).rejects.toThrow(RangeError);
  });

  it('refuse work after dispose (which is idempotent)', async () => {
    for (const engine of [await createKernelEngine({ maxBatch: 16 }), await createParallelKernelEngine({ threads: 2, maxBatch: 16 })]) {
      await engine.dispose();
      await engine.dispose();
      await expect(engine.predict(new Float32Array(784))).rejects.toThrow(/disposed/);
    }
  });
});

function emptyState() {
  const zeros = (): ParamSet =>
    Object.fromEntries(KERNEL_PARAM_SHAPES.map(([name, shape]) => [name, new Float32Array(shape.reduce((a, b) => a * b, 1))]));
  return { step: 0, m: zeros(), v: zeros() };
}
