import type { ExampleSet } from '@fmnist/data';
import { describe, expect, it } from 'vitest';
import type { TrainEngine } from './engine';
import { FmnistModelError } from './errors';
import { TORCH, TORCH_CONFIG, torchBatch, torchInitialParams } from './fixtures/torch-fixture';
import { createMixerKernelEngine } from './kernels/mixer-engine';
import { randomBatch, randomConfigParams, relativeL2 } from './kernels/test-utils';
import { createModel } from './model';
import { resolveOptimizer } from './optimizer';
import { createTfjsEngine } from './tfjs-engine';
import { train } from './train';

const ENGINES: [string, () => Promise<TrainEngine>][] = [
  ['kernels, 1 thread', () => createMixerKernelEngine({ config: TORCH_CONFIG, threads: 1, maxBatch: TORCH.batch })],
  ['kernels, 2 threads', () => createMixerKernelEngine({ config: TORCH_CONFIG, threads: 2, maxBatch: TORCH.batch })],
  ['tfjs cpu', () => createTfjsEngine(TORCH_CONFIG, torchInitialParams(), { backend: 'cpu' })],
];
const cases = TORCH.cases.filter((c) => c.labelSmoothing);

describe.each(ENGINES)('label smoothing against PyTorch (CrossEntropyLoss(label_smoothing), %s)', (_, create) => {
  it('the fixture covers Adam, AdamW and SGD with ε 0.1 and 0.2', () => {
    expect(cases.map((c) => [c.optimizer.kind, c.weightDecay ?? 0, c.labelSmoothing])).toEqual([
      ['adam', 0, 0.1],
      ['adam', 0.05, 0.2],
      ['sgd', 0, 0.1],
    ]);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: 3 steps give PyTorch’s smoothed losses and updates', async (_, c) => {
    const engine = await create();
    try {
      const p0 = torchInitialParams();
      engine.setParams(p0);
      const update = resolveOptimizer({ optimizer: c.optimizer, learningRate: c.learningRate, weightDecay: c.weightDecay ?? 0 });
      const { x, y } = torchBatch();
      const losses: number[] = [];
      for (let i = 0; i < TORCH.steps; i++) losses.push((await engine.trainStep(x, y, update, { labelSmoothing: c.labelSmoothing })).loss);
      for (const [i, loss] of losses.entries()) expect(Math.abs(loss - c.losses[i]!) / c.losses[i]!, `loss ${i}`).toBeLessThan(1e-5);
      const after = engine.getParams();
      for (const name of Object.keys(p0)) {
        const ours = after[name]!.map((v, i) => v - p0[name]![i]!);
        const theirs = Float32Array.from(c.params[name]!, (v, i) => v - p0[name]![i]!);
        expect(relativeL2(ours, theirs), name).toBeLessThan(1e-4);
      }
    } finally {
      await engine.dispose();
    }
  });

  it('ε 0 is bit-identical to no label smoothing (today’s loss)', async () => {
    const adam = { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    const { x, y } = randomBatch(77, TORCH.batch);
    const runs = [];
    for (const loss of [undefined, { labelSmoothing: 0 }, {}]) {
      const engine = await create();
      try {
        engine.setParams(randomConfigParams(TORCH_CONFIG, 3));
        const results = [];
        for (let i = 0; i < 2; i++) results.push(await engine.trainStep(x, y, adam, loss));
        runs.push({ results, params: engine.getParams() });
      } finally {
        await engine.dispose();
      }
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });
});

describe('train({ labelSmoothing })', () => {
  const set: ExampleSet = {
    images: new Uint8Array(64 * 784).map((_, i) => (i * 37) % 256),
    labels: new Uint8Array(64).map((_, i) => i % 10),
    count: 64,
  };

  it('is recorded in the history and checkpoint record (absent when 0) and changes the training loss only', async () => {
    const opts = { data: { train: set, test: set }, epochs: 1, batchSize: 32, backend: 'kernels' as const, threads: 1 };
    const plain = await train({ ...opts, model: createModel(TORCH_CONFIG) });
    const smoothed = await train({ ...opts, model: createModel(TORCH_CONFIG), labelSmoothing: 0.1 });
    expect(plain.training).not.toHaveProperty('labelSmoothing');
    expect(smoothed.training.labelSmoothing).toBe(0.1);
    expect(smoothed.epochs[0]!.trainLoss).not.toBe(plain.epochs[0]!.trainLoss);
  });

  it.each([[-0.1], [1], [Number.NaN], ['0.1']])(
    'labelSmoothing %j → E_CONFIG naming the value and the range, nothing trained',
    async (bad) => {
      const model = createModel(TORCH_CONFIG);
      const before = model.params['head.bias']!.slice();
      const err = await train({ model, data: { train: set }, epochs: 1, labelSmoothing: bad as number }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FmnistModelError);
      expect((err as FmnistModelError).code).toBe('E_CONFIG');
      expect((err as Error).message).toContain(`'labelSmoothing' must be a number in [0, 1), got ${String(bad)}`);
      expect(model.params['head.bias']).toEqual(before);
    },
  );
});
