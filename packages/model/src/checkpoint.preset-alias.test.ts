/**
 * Checkpoints written before the `seed` preset was renamed `coursework`: they record `preset: "seed"`, and still load,
 * read back under the canonical name (so a resume compares and records `coursework`), with the same weights.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_SCHEMA, type CheckpointMeta, parseMeta } from './checkpoint';
import { loadCheckpoint, readCheckpointMeta, saveCheckpoint } from './checkpoint-node';
import { resolveConfig } from './config';
import { FmnistModelError } from './errors';
import { createModel } from './model';
import { checkSchema } from './schema';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-ckpt-alias-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const meta = (preset: string): CheckpointMeta =>
  ({
    format: 'fmnist-checkpoint',
    version: 1,
    preset,
    config: resolveConfig('coursework'),
    epoch: 1,
    step: 4,
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
      threads: 1,
      normalization: 'unit',
      trainExamples: 1024,
    },
    history: [{ epoch: 1, trainLoss: 900, trainAccuracy: 0.4, timeMs: 1000, imagesPerSecond: 1024 }],
    producer: '@fmnist/model',
    createdAt: new Date(0).toISOString(),
  }) as CheckpointMeta;

describe('a checkpoint that records the old preset name seed', () => {
  it('parseMeta reads it as coursework; the schema accepts both names and nothing else', () => {
    expect(parseMeta(JSON.stringify(meta('seed')), 'checkpoint.json').preset).toBe('coursework');
    expect(parseMeta(JSON.stringify(meta('coursework')), 'checkpoint.json').preset).toBe('coursework');
    expect(checkSchema(CHECKPOINT_SCHEMA, meta('seed'))).toBeUndefined();
    const { preset: _, ...custom } = meta('coursework');
    expect(parseMeta(JSON.stringify(custom), 'checkpoint.json').preset).toBeUndefined();
    let err: unknown;
    try {
      parseMeta(JSON.stringify(meta('seeds')), 'runs/a/checkpoint/checkpoint.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FmnistModelError);
    expect((err as FmnistModelError).code).toBe('E_CHECKPOINT_CORRUPT');
    expect((err as FmnistModelError).message).toMatch(/runs\/a\/checkpoint\/checkpoint\.json: .*'preset'.*"seeds"/);
  });

  it('loadCheckpoint and readCheckpointMeta give coursework and the very weights that were saved', async () => {
    const model = createModel('coursework');
    await saveCheckpoint(dir, { meta: meta('coursework'), params: model.params });
    // What the release before the rename wrote: the same files, with "seed" as the preset.
    const file = join(dir, 'checkpoint.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    doc.preset = 'seed';
    await writeFile(file, JSON.stringify(doc));
    expect((await readCheckpointMeta(dir)).preset).toBe('coursework');
    const loaded = await loadCheckpoint(dir);
    expect(loaded.meta.preset).toBe('coursework');
    expect(loaded.meta.config).toEqual(resolveConfig('seed'));
    for (const [name, data] of Object.entries(model.params)) expect(loaded.params[name]).toEqual(data);
  });
});
