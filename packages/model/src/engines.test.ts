// AdamW's decoupled weight decay: every engine applies p ← p·(1 − lr·wd) − adamUpdate to Linear weights only.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from './backend';
import { type ModelConfig, paramSpecs, resolveConfig } from './config';
import type { AdamState, ParamSet } from './engine';
import { createEngine } from './engines';
import { randomBatch, useCpuBackend } from './kernels/test-utils';
import { createModel } from './model';

const LR = 1e-2;
const WD = 0.5;
const ADAM = { learningRate: LR, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const BATCH = randomBatch(42, 48);

function zeros(params: ParamSet): ParamSet {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, new Float32Array(v.length)]));
}

/** Parameters after one step from `start` with the given weight decay. */
async function oneStep(config: ModelConfig, start: ParamSet, backend: BackendName, weightDecay: number): Promise<ParamSet> {
  const engine = await createEngine(config, start, { backend, threads: 1, maxBatch: 64 });
  try {
    const state: AdamState = { step: 0, m: zeros(start), v: zeros(start) };
    engine.setOptimizerState(state);
    await engine.trainStep(BATCH.x, BATCH.y, { ...ADAM, weightDecay });
    return engine.getParams();
  } finally {
    await engine.dispose();
  }
}

beforeAll(useCpuBackend);

describe.each<[string, BackendName, ModelConfig]>([
  ['patch-MLP kernels', 'kernels', resolveConfig('patch-mlp')],
  ['Mixer kernels', 'kernels', resolveConfig({ preset: 'mixer-s', dim: 32, tokenHidden: 16, channelHidden: 64, blocks: 2 })],
  ['TensorFlow.js cpu', 'cpu', resolveConfig({ preset: 'mixer-s', dim: 16, tokenHidden: 8, channelHidden: 32, blocks: 1 })],
])('weight decay on %s', (_, backend, config) => {
  it('shrinks Linear weights by lr·wd·p before the Adam update, and leaves biases and LayerNorm alone', async () => {
    const start = createModel({ ...config, seed: 3 }).params;
    const plain = await oneStep(config, start, backend, 0);
    const decayed = await oneStep(config, start, backend, WD);
    let checkedWeights = 0;
    let checkedOthers = 0;
    for (const spec of paramSpecs(config)) {
      const p0 = start[spec.name] as Float32Array;
      const a = plain[spec.name] as Float32Array;
      const b = decayed[spec.name] as Float32Array;
      if (spec.kind === 'weight') {
        // p·(1 − lr·wd) − u  =  (p − u) − lr·wd·p
        let maxErr = 0;
        for (let i = 0; i < p0.length; i++)
          maxErr = Math.max(maxErr, Math.abs((b[i] as number) - ((a[i] as number) - LR * WD * (p0[i] as number))));
        expect(maxErr, spec.name).toBeLessThan(1e-6);
        checkedWeights++;
      } else {
        expect(Array.from(b), spec.name).toEqual(Array.from(a));
        checkedOthers++;
      }
    }
    expect(checkedWeights).toBeGreaterThanOrEqual(5);
    expect(checkedOthers).toBeGreaterThanOrEqual(5);
  });
});
