import { beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../config';
import { KernelCore } from './core';
import { mixerModel } from './mixer-model';
import { KERNEL_PARAM_SHAPES, randomBatch, randomParams, referenceGradients, relativeL2, useCpuBackend } from './test-utils';

describe('wasm kernels, patch-MLP: loss and gradients match TensorFlow.js autodiff', () => {
  let core: KernelCore;
  beforeAll(async () => {
    await useCpuBackend();
    core = await KernelCore.create(mixerModel(PRESETS['patch-mlp']), 32);
  });

  it.each([1, 7, 13, 32])('batch %i', (n) => {
    const params = randomParams(100 + n);
    const { x, y } = randomBatch(200 + n, n);
    core.setParams(params);
    core.loadInputs(x, y, 0, n);
    const { lossSum } = core.forwardBackward(n, 1 / n);
    const grads = core.getGradients();
    const ref = referenceGradients(params, x, y);

    expect(Math.abs(lossSum / n - ref.loss) / ref.loss).toBeLessThan(1e-5);
    for (const [name] of KERNEL_PARAM_SHAPES) {
      expect(relativeL2(grads[name]!, ref.grads[name]!), name).toBeLessThan(1e-4);
    }
  });
});
