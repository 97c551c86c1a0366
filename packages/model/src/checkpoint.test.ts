import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckpointMeta } from './checkpoint';
import { loadCheckpoint, saveCheckpoint } from './checkpoint-node';
import { resolveConfig } from './config';
import { FmnistModelError } from './errors';
import { createModel } from './model';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-ckpt-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function metaFor(preset: 'coursework' | 'patch-mlp' | 'mixer-s', step = 10): CheckpointMeta {
  return {
    format: 'fmnist-checkpoint',
    version: 1,
    preset,
    config: resolveConfig(preset),
    epoch: 1,
    step,
    rng: [1, 2, 3, 4],
    training: {
      optimizer: 'adam',
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      batchSize: 256,
      epochs: 3,
      seed: 0,
      backend: 'kernels',
      threads: 2,
      normalization: 'unit',
      trainExamples: 60000,
    },
    history: [{ epoch: 1, trainLoss: 0.5, trainAccuracy: 0.8, testLoss: 0.45, testAccuracy: 0.83, timeMs: 1000, imagesPerSecond: 60000 }],
    producer: '@fmnist/model',
    createdAt: new Date(0).toISOString(),
  };
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FmnistModelError);
    return (err as FmnistModelError).code;
  }
  throw new Error('expected a rejection');
};

describe('checkpoints', () => {
  it('round-trips params, optimizer state and meta; old step files are cleaned up', async () => {
    const model = createModel('patch-mlp');
    const opt = {
      step: 10,
      m: createModel({ preset: 'patch-mlp', seed: 1 }).params,
      v: createModel({ preset: 'patch-mlp', seed: 2 }).params,
    };
    await saveCheckpoint(dir, { meta: metaFor('patch-mlp', 5), params: model.params, optimizer: opt });
    await saveCheckpoint(dir, { meta: metaFor('patch-mlp', 10), params: model.params, optimizer: opt });
    expect((await readdir(dir)).sort()).toEqual([
      'checkpoint.json',
      'model.safetensors',
      'model.step10.safetensors',
      'optimizer.step10.safetensors',
    ]);
    const back = await loadCheckpoint(dir);
    expect(back.meta.history).toEqual(metaFor('patch-mlp').history);
    expect(back.meta.rng).toEqual([1, 2, 3, 4]);
    for (const k of Object.keys(model.params)) {
      expect(Array.from(back.params[k] as Float32Array)).toEqual(Array.from(model.params[k] as Float32Array));
      expect(Array.from(back.optimizer?.m?.[k] as Float32Array)).toEqual(Array.from(opt.m[k] as Float32Array));
    }
    expect(back.optimizer?.step).toBe(10);
    // Also loadable through the JSON path.
    expect((await loadCheckpoint(join(dir, 'checkpoint.json'))).meta.step).toBe(10);
  });

  it('a missing path → E_CHECKPOINT_MISSING', async () => {
    expect(await codeOf(loadCheckpoint(join(dir, 'nope')))).toBe('E_CHECKPOINT_MISSING');
  });

  it('corrupt JSON or a truncated weights file → E_CHECKPOINT_CORRUPT', async () => {
    await saveCheckpoint(dir, { meta: metaFor('coursework'), params: createModel('coursework').params });
    const weights = join(dir, 'model.step10.safetensors');
    const bytes = await readFile(weights);
    await writeFile(weights, bytes.subarray(0, bytes.length - 100));
    expect(await codeOf(loadCheckpoint(dir))).toBe('E_CHECKPOINT_CORRUPT');
    await writeFile(join(dir, 'checkpoint.json'), '{"format": "fmnist-checkpoint", "versi');
    expect(await codeOf(loadCheckpoint(dir))).toBe('E_CHECKPOINT_CORRUPT');
    await writeFile(join(dir, 'checkpoint.json'), '{"hello": 1}');
    expect(await codeOf(loadCheckpoint(dir))).toBe('E_CHECKPOINT_CORRUPT');
  });

  it('weights of another config → E_CHECKPOINT_MISMATCH naming the tensor', async () => {
    await saveCheckpoint(dir, { meta: metaFor('coursework'), params: createModel('coursework').params });
    const json = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'));
    json.config = resolveConfig('mixer-s');
    await writeFile(join(dir, 'checkpoint.json'), JSON.stringify(json));
    await expect(loadCheckpoint(dir)).rejects.toMatchObject({
      code: 'E_CHECKPOINT_MISMATCH',
      message: expect.stringMatching(/tensor '.*' /),
    });
  });

  it('a deleted weights file → E_CHECKPOINT_MISSING', async () => {
    await saveCheckpoint(dir, { meta: metaFor('coursework'), params: createModel('coursework').params });
    await rm(join(dir, 'model.step10.safetensors'));
    expect(await codeOf(loadCheckpoint(dir))).toBe('E_CHECKPOINT_MISSING');
  });
});
