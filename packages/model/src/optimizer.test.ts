import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelConfig, resolveConfig } from './config';
import type { OptimizerState, ParamSet, TrainEngine, UpdateOptions } from './engine';
import { FmnistModelError } from './errors';
import { TORCH, TORCH_CONFIG, type TorchCase, torchBatch, torchInitialParams } from './fixtures/torch-fixture';
import { createMixerKernelEngine } from './kernels/mixer-engine';
import { randomBatch, randomConfigParams, relativeL2 } from './kernels/test-utils';
import { initParams } from './model';
import { resolveOptimizer } from './optimizer';
import { createTfjsEngine } from './tfjs-engine';

/** The update options of a fixture case, through the trainer's own resolution. */
const updateOf = (c: TorchCase): UpdateOptions =>
  resolveOptimizer({ optimizer: c.optimizer, learningRate: c.learningRate, weightDecay: c.weightDecay ?? 0 });

const ENGINES: [string, () => Promise<TrainEngine>][] = [
  ['kernels, 1 thread', () => createMixerKernelEngine({ config: TORCH_CONFIG, threads: 1, maxBatch: TORCH.batch })],
  ['kernels, 2 threads', () => createMixerKernelEngine({ config: TORCH_CONFIG, threads: 2, maxBatch: TORCH.batch })],
  ['tfjs cpu', () => createTfjsEngine(TORCH_CONFIG, torchInitialParams(), { backend: 'cpu' })],
];

describe.each(ENGINES)('optimizers against PyTorch (torch.optim, %s)', (_, create) => {
  let engine: TrainEngine;
  beforeAll(async () => {
    engine = await create();
  });
  afterAll(() => engine?.dispose());

  const sgdCases = TORCH.cases.filter((c) => c.optimizer.kind === 'sgd' && !c.labelSmoothing);
  it('the fixture covers SGD with momentum, Nesterov with weight decay, dampening and plain SGD', () => {
    expect(sgdCases.map((c) => c.name)).toEqual([
      'sgd momentum 0.9',
      'sgd nesterov, weight decay 0.01',
      'sgd momentum 0.5, dampening 0.1',
      'sgd without momentum',
    ]);
  });

  it.each(sgdCases.map((c) => [c.name, c] as const))('%s: 3 steps give PyTorch’s losses and updates', async (_, c) => {
    const p0 = torchInitialParams();
    engine.setParams(p0);
    engine.setOptimizerState({ kind: 'sgd', step: 0, momentum: zerosLike(p0) });
    const { x, y } = torchBatch();
    const losses: number[] = [];
    for (let i = 0; i < TORCH.steps; i++) losses.push((await engine.trainStep(x, y, updateOf(c))).loss);
    for (const [i, loss] of losses.entries()) expect(Math.abs(loss - c.losses[i]!) / c.losses[i]!, `loss ${i}`).toBeLessThan(1e-5);
    const after = engine.getParams();
    for (const name of Object.keys(p0)) {
      // the update (params after − before), so that the check does not hide in the unchanged bulk of the weights
      const ours = after[name]!.map((v, i) => v - p0[name]![i]!);
      const theirs = Float32Array.from(c.params[name]!, (v, i) => v - p0[name]![i]!);
      expect(relativeL2(ours, theirs), name).toBeLessThan(1e-4);
    }
    expect(engine.getOptimizerState().step).toBe(TORCH.steps);
  });
});

function zerosLike(set: ParamSet): ParamSet {
  return Object.fromEntries(Object.entries(set).map(([k, v]) => [k, new Float32Array(v.length)]));
}

describe('SGD state: exact resume, and no silent switch of optimizer', () => {
  const config: ModelConfig = resolveConfig({ preset: 'mixer-s', dim: 32, tokenHidden: 16, channelHidden: 32, blocks: 2 });
  const sgd: UpdateOptions = { kind: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 };
  const steps = [0, 1, 2, 3].map((i) => randomBatch(500 + i, 24 + i));

  it.each([
    ['kernels, 2 threads', () => createMixerKernelEngine({ config, threads: 2, maxBatch: 64 })],
    ['tfjs cpu', () => createTfjsEngine(config, initParams(config), { backend: 'cpu' })],
  ] as const)('%s: params + momentum saved after 2 steps, restored in a fresh engine, give bit-identical steps 3–4', async (_, create) => {
    const params = randomConfigParams(config, 9);
    // one engine at a time: TensorFlow.js engines register their variables by name
    const engine = await create();
    let saved: { params: ParamSet; state: OptimizerState };
    let expected: { params: ParamSet; state: OptimizerState };
    try {
      engine.setParams(params);
      for (const { x, y } of steps.slice(0, 2)) await engine.trainStep(x, y, sgd);
      saved = { params: engine.getParams(), state: engine.getOptimizerState() };
      expect(saved.state.kind).toBe('sgd');
      expect(Object.keys(saved.state).sort()).toEqual(['kind', 'momentum', 'step']);
      for (const { x, y } of steps.slice(2)) await engine.trainStep(x, y, sgd);
      expected = { params: engine.getParams(), state: engine.getOptimizerState() };
    } finally {
      await engine.dispose();
    }
    const resumed = await create();
    try {
      resumed.setParams(saved.params);
      resumed.setOptimizerState(saved.state);
      for (const { x, y } of steps.slice(2)) await resumed.trainStep(x, y, sgd);
      const actual = resumed.getParams();
      for (const name of Object.keys(expected.params)) expect(actual[name], name).toEqual(expected.params[name]);
      expect(resumed.getOptimizerState()).toEqual(expected.state);

      // an Adam step cannot continue SGD state (nor the other way round)
      const adam = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
      const err = await resumed.trainStep(steps[0]!.x, steps[0]!.y, adam).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FmnistModelError);
      expect((err as FmnistModelError).code).toBe('E_CONFIG');
      expect((err as Error).message).toMatch(/holds 4 sgd steps; a adam step cannot continue it/);
    } finally {
      await resumed.dispose();
    }
  });
});

describe('resolveOptimizer: the optimizer description the engines receive', () => {
  const base = { learningRate: 0.1, weightDecay: 0 };
  it('defaults: Adam with PyTorch’s β and ε; SGD with momentum 0.9; top-level beta1… still work', () => {
    expect(resolveOptimizer(base)).toEqual({ learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
    expect(resolveOptimizer({ ...base, beta1: 0.8, epsilon: 1e-6 })).toMatchObject({ beta1: 0.8, beta2: 0.999, epsilon: 1e-6 });
    expect(resolveOptimizer({ ...base, optimizer: { kind: 'adam', beta2: 0.98 } })).toMatchObject({ beta2: 0.98 });
    expect(resolveOptimizer({ ...base, optimizer: { kind: 'sgd' } })).toEqual({
      kind: 'sgd',
      learningRate: 0.1,
      momentum: 0.9,
      weightDecay: 0,
    });
    expect(resolveOptimizer({ ...base, weightDecay: 0.1, optimizer: { kind: 'sgd', momentum: 0.5, dampening: 0.2 } })).toEqual({
      kind: 'sgd',
      learningRate: 0.1,
      momentum: 0.5,
      dampening: 0.2,
      weightDecay: 0.1,
    });
  });

  /** The error resolving `optimizer` throws (it must throw). */
  const refusal = (optimizer: unknown, extra: object = {}): FmnistModelError => {
    try {
      resolveOptimizer({ ...base, ...extra, optimizer: optimizer as never });
    } catch (err) {
      return err as FmnistModelError;
    }
    throw new Error(`resolveOptimizer accepted ${JSON.stringify(optimizer)}`);
  };

  it.each([
    [{ kind: 'sgd', momentum: -0.1 }, /'optimizer\.momentum' must be a number in \[0, 1\), got -0\.1/],
    [{ kind: 'sgd', momentum: 1 }, /'optimizer\.momentum' must be a number in \[0, 1\), got 1\b/],
    [{ kind: 'sgd', momentum: Number.NaN }, /'optimizer\.momentum' must be a number in \[0, 1\), got NaN/],
    [{ kind: 'sgd', momentum: '0.9' }, /'optimizer\.momentum' must be a number in \[0, 1\), got 0\.9/],
    [{ kind: 'sgd', dampening: 1.5 }, /'optimizer\.dampening' must be a number in \[0, 1\], got 1\.5/],
    [{ kind: 'sgd', momentum: 0, nesterov: true }, /Nesterov momentum needs 'optimizer\.momentum' > 0 .*got momentum 0/],
    [{ kind: 'sgd', nesterov: true, dampening: 0.1 }, /Nesterov .*dampening 0\.1/],
    [{ kind: 'rmsprop' }, /'optimizer\.kind' must be 'adam' or 'sgd', got "rmsprop"/],
    [{ kind: 'adam', beta1: 1 }, /'beta1' must be a number in \[0, 1\), got 1/],
    [{ kind: 'adam', epsilon: 0 }, /'epsilon' must be a number in \(0, 1\], got 0/],
  ])('%j → E_CONFIG naming the value and the range', (optimizer, message) => {
    const err = refusal(optimizer);
    expect(err).toBeInstanceOf(FmnistModelError);
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toMatch(message);
  });

  it('Adam settings with SGD → E_CONFIG naming the setting', () => {
    const err = refusal({ kind: 'sgd' }, { beta2: 0.99 });
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toMatch(/'beta2' is an Adam setting, but 'optimizer' is SGD \(got beta2 0\.99\)/);
  });
});
