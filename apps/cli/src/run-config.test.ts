/** config.json of a run: every field damaged in turn (generated from RUN_CONFIG_SCHEMA), and the checks against the checkpoint. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSchemaDamage, resolveConfig, type StoredCheckpointMeta } from '@fmnist/model/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunError } from './errors';
import {
  checkConfigAgainstCheckpoint,
  checkSubsetAgainstCheckpoint,
  OLD_RUN_DEFAULTS,
  RUN_CONFIG_SCHEMA,
  type RunConfig,
  type RunSettings,
  readRunConfig,
  settingsFromCheckpoint,
} from './run-config';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-run-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const config = (): RunConfig => ({
  format: 'fmnist-run',
  version: 1,
  run: '/runs/a',
  command: 'fmnist train --subset 512',
  status: 'running',
  startTime: '2026-01-01T00:00:00.000Z',
  endTime: null,
  durationMs: null,
  resumedAt: ['2026-01-01T01:00:00.000Z'],
  model: { preset: 'coursework', parameters: 100, config: resolveConfig({ preset: 'coursework', seed: 3 }) },
  settings: {
    preset: 'coursework',
    epochs: 2,
    batchSize: 64,
    learningRate: 0.001,
    seed: 0,
    initSeed: 3,
    evalEvery: 1,
    subset: 512,
    lrSchedule: 'cosine',
    weightDecay: 0.01,
    augment: { shift: 1, flip: true, erase: 0.5 },
  },
  training: {},
  environment: {},
  dataset: {},
  result: null,
});

const meta = (): StoredCheckpointMeta => ({
  format: 'fmnist-checkpoint',
  version: 1,
  preset: 'coursework',
  config: resolveConfig({ preset: 'coursework', seed: 3 }),
  epoch: 1,
  step: 8,
  rng: [1, 2, 3, 4],
  training: {
    optimizer: 'adamw',
    learningRate: 0.001,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    weightDecay: 0.01,
    batchSize: 64,
    epochs: 2,
    seed: 0,
    initSeed: 3,
    backend: 'kernels',
    threads: 1,
    normalization: 'unit',
    trainExamples: 512,
    lrSchedule: 'cosine',
    augment: { flip: true, shift: 1, erase: 0.5 },
  },
  history: [{ epoch: 1, trainLoss: 2, trainAccuracy: 0.1, testLoss: 2, testAccuracy: 0.1, timeMs: 10, imagesPerSecond: 100 }],
  producer: '@fmnist/model',
  createdAt: '2026-01-01T00:00:00.000Z',
});

let n = 0;
const write = async (text: string) => {
  const path = join(dir, `config-${n++}.json`);
  await writeFile(path, text);
  return path;
};
const escapeRe = (p: string) => p.replace(/[.[\]]/g, (c) => `\\${c}`);

async function runError(p: Promise<unknown> | (() => unknown)): Promise<RunError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a RunError').toBeInstanceOf(RunError);
  return err as RunError;
}

describe('config.json: every field damaged in turn (generated from RUN_CONFIG_SCHEMA)', () => {
  const cases = listSchemaDamage(RUN_CONFIG_SCHEMA, config());
  it('covers the settings a resume depends on', () => {
    expect(cases.length).toBeGreaterThan(80);
    for (const f of ['epochs', 'batchSize', 'learningRate', 'seed', 'subset', 'evalEvery', 'preset', 'augment.shift'])
      expect(cases.some((c) => c.path === `settings.${f}`)).toBe(true);
  });
  for (const c of cases) {
    it(`${c.path} ${c.label} → E_RUN_CONFIG_CORRUPT naming '${c.path}'`, async () => {
      const doc = config();
      c.damage(doc);
      const path = await write(JSON.stringify(doc));
      const err = await runError(readRunConfig(path, true));
      expect(err.errorCode).toBe('E_RUN_CONFIG_CORRUPT');
      expect(err.message).toMatch(new RegExp(`field '${escapeRe(c.path === 'format' ? 'format' : c.path)}'`));
      expect(err.message).toContain(path);
      expect(err.message).toMatch(/delete config\.json to rebuild it from the checkpoint/);
    });
  }
});

describe('config.json: lost, special, or inconsistent with the checkpoint', () => {
  it.each([
    ['empty', ''],
    ['whitespace', '  \n'],
    ['truncated', JSON.stringify(config()).slice(0, 100)],
  ])('%s → lost (rebuildable), not an error', async (_, text) => {
    const read = await readRunConfig(await write(text), true);
    expect(read.kind).toBe('lost');
  });

  it('missing → lost', async () => {
    expect(await readRunConfig(join(dir, 'nope.json'), true)).toEqual({ kind: 'lost', why: 'is missing' });
  });

  it('a valid file reads back', async () => {
    const read = await readRunConfig(await write(JSON.stringify(config())), false);
    expect(read).toEqual({ kind: 'ok', config: config() });
  });

  it.skipIf(process.platform === 'win32')('a FIFO → E_RUN_CONFIG_CORRUPT at once (no hang)', async () => {
    const path = join(dir, `fifo-${n++}.json`);
    execFileSync('mkfifo', [path]);
    const err = await runError(readRunConfig(path, true));
    expect(err.errorCode).toBe('E_RUN_CONFIG_CORRUPT');
    expect(err.message).toMatch(/not a regular file/);
  });

  const files = { config: 'runs/a/config.json', checkpoint: 'runs/a/checkpoint/checkpoint.json' };
  const mismatches: [string, (c: RunConfig) => void, RegExp][] = [
    [
      'batch size',
      (c) => Object.assign(c.settings, { batchSize: 128 }),
      /'settings\.batchSize' is 128.*records 64 \(field 'training\.batchSize'\)/,
    ],
    ['learning rate', (c) => Object.assign(c.settings, { learningRate: 0.1 }), /'settings\.learningRate'/],
    ['seed', (c) => Object.assign(c.settings, { seed: 5 }), /'settings\.seed'/],
    ['init seed', (c) => Object.assign(c.settings, { initSeed: 5 }), /'settings\.initSeed' is 5.*records 3 \(field 'config\.seed'\)/],
    ['preset', (c) => Object.assign(c.settings, { preset: 'patch-mlp' }), /'settings\.preset' is "patch-mlp"/],
    ['schedule', (c) => Object.assign(c.settings, { lrSchedule: 'constant' }), /'settings\.lrSchedule'/],
    ['weight decay', (c) => Object.assign(c.settings, { weightDecay: 0 }), /'settings\.weightDecay'/],
    ['augmentation', (c) => Object.assign(c.settings, { augment: null }), /'settings\.augment'/],
    ['model config', (c) => Object.assign(c.model, { config: resolveConfig('patch-mlp') }), /'model\.config'/],
    ['optimizer', (c) => Object.assign(c.settings, { optimizer: 'sgd', momentum: 0.9 }), /'settings\.optimizer' is "sgd".*records "adam"/],
    ['label smoothing', (c) => Object.assign(c.settings, { labelSmoothing: 0.1 }), /'settings\.labelSmoothing' is 0\.1.*records 0 /],
  ];
  for (const [name, edit, message] of mismatches) {
    it(`a ${name} other than the checkpoint's → E_RUN_MISMATCH naming both fields`, async () => {
      const c = config();
      edit(c);
      const err = await runError(() => checkConfigAgainstCheckpoint(c, meta(), files));
      expect(err.errorCode).toBe('E_RUN_MISMATCH');
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(/delete it to rebuild it from the checkpoint/);
    });
  }

  it('the same settings in another key order agree', () => {
    expect(() => checkConfigAgainstCheckpoint(config(), meta(), files)).not.toThrow();
  });

  it('a subset other than the checkpoint’s examples → E_RUN_MISMATCH', async () => {
    const err = await runError(() => checkSubsetAgainstCheckpoint(256, 60000, meta(), files));
    expect(err.errorCode).toBe('E_RUN_MISMATCH');
    expect(err.message).toMatch(/'settings\.subset' gives 256.*trained on 512/);
    expect(() => checkSubsetAgainstCheckpoint(null, 512, meta(), files)).not.toThrow();
  });

  it('an SGD, label-smoothed checkpoint: settings rebuilt from it keep the optimizer, momentum and ε, and agree with it', () => {
    const m = meta();
    const { beta1: _1, beta2: _2, epsilon: _3, ...rest } = m.training;
    m.training = { ...rest, optimizer: 'sgd', momentum: 0.8, labelSmoothing: 0.1 };
    const rebuilt = settingsFromCheckpoint(m, 1);
    expect(rebuilt).toMatchObject({ optimizer: 'sgd', momentum: 0.8, labelSmoothing: 0.1 });
    expect(() => checkConfigAgainstCheckpoint({ ...config(), settings: rebuilt }, m, files)).not.toThrow();
    const other = { ...config(), settings: { ...rebuilt, momentum: 0.9 } };
    expect(() => checkConfigAgainstCheckpoint(other, m, files)).toThrow(/'settings\.momentum' is 0\.9.*records 0\.8/);
  });

  it('settings rebuilt from the checkpoint equal the ones it was trained with', () => {
    const rebuilt = settingsFromCheckpoint(meta(), 1);
    expect(rebuilt).toEqual({ ...config().settings, augment: meta().training.augment });
    expect(() => checkConfigAgainstCheckpoint({ ...config(), settings: rebuilt }, meta(), files)).not.toThrow();
  });

  it('a run from before initSeed (weights from seed 0 whatever its --seed) still reads, agrees and rebuilds with init seed 0', async () => {
    const old = config();
    old.settings.seed = 7;
    delete (old.settings as Partial<RunSettings>).initSeed;
    old.model.config = resolveConfig('coursework');
    const oldMeta = meta();
    oldMeta.training.seed = 7;
    delete oldMeta.training.initSeed;
    oldMeta.config = resolveConfig('coursework');
    const read = await readRunConfig(await write(JSON.stringify(old)), true);
    expect(read.kind).toBe('ok');
    expect(() => checkConfigAgainstCheckpoint(old, oldMeta, files)).not.toThrow();
    expect({ ...OLD_RUN_DEFAULTS, ...old.settings }.initSeed).toBe(0);
    expect(settingsFromCheckpoint(oldMeta, 1)).toMatchObject({ seed: 7, initSeed: 0 });
    // …and its config.json cannot claim another init seed than its checkpoint's config.
    const claimed = { ...old, settings: { ...old.settings, initSeed: 7 } };
    const err = await runError(() => checkConfigAgainstCheckpoint(claimed, oldMeta, files));
    expect(err.errorCode).toBe('E_RUN_MISMATCH');
    expect(err.message).toMatch(/'settings\.initSeed' is 7.*records 0/);
  });

  it('a run from before the rename records preset seed: it reads as coursework and agrees with its checkpoint', async () => {
    const old = config();
    old.model.preset = 'seed';
    old.settings.preset = 'seed';
    const read = await readRunConfig(await write(JSON.stringify(old)), true);
    if (read.kind !== 'ok') throw new Error(`expected ok, got ${read.why}`);
    expect(read.config.settings.preset).toBe('coursework');
    expect(read.config.model.preset).toBe('coursework');
    expect({
      ...read.config,
      model: { ...read.config.model, preset: 'seed' },
      settings: { ...read.config.settings, preset: 'seed' },
    }).toEqual(old);
    // The checkpoint beside it says seed too (parseMeta reads it as coursework), or coursework once a resume rewrote it.
    const seedMeta = { ...meta(), preset: 'seed' } as unknown as StoredCheckpointMeta;
    for (const m of [meta(), seedMeta]) {
      expect(() => checkConfigAgainstCheckpoint(read.config, m, files)).not.toThrow();
      expect(() => checkConfigAgainstCheckpoint(old, m, files)).not.toThrow();
    }
    // A preset that really differs is still refused.
    const other = { ...meta(), preset: 'patch-mlp' } as StoredCheckpointMeta;
    const err = await runError(() => checkConfigAgainstCheckpoint(old, other, files));
    expect(err.errorCode).toBe('E_RUN_MISMATCH');
    expect(err.message).toMatch(/'settings\.preset' is "coursework".*records "patch-mlp"/);
    // …and a name that is neither a preset nor an alias is a damaged config.json.
    const bad = await runError(
      readRunConfig(await write(JSON.stringify({ ...old, settings: { ...old.settings, preset: 'seeds' } })), true),
    );
    expect(bad.errorCode).toBe('E_RUN_CONFIG_CORRUPT');
    expect(bad.message).toMatch(/'settings\.preset'/);
  });

  it('a lost config.json: evalEvery is read back from the history, or the default when the history agrees with it', () => {
    const m = meta();
    m.training.epochs = 14;
    const record = (epoch: number, evaluated: boolean) => ({
      epoch,
      trainLoss: 1,
      trainAccuracy: 0.5,
      ...(evaluated ? { testLoss: 1, testAccuracy: 0.5 } : {}),
      timeMs: 10,
      imagesPerSecond: 100,
    });
    const history = (n: number, every: number) => Array.from({ length: n }, (_, k) => record(k + 1, (k + 1) % every === 0));
    // mixer-s7's recipe (7) after 5 epochs without an evaluation: 7, not "the end only".
    expect(settingsFromCheckpoint({ ...m, epoch: 5, history: history(5, 7) }, 7).evalEvery).toBe(7);
    // …and after 9 epochs with one at epoch 7, the history says 7 whatever the default.
    expect(settingsFromCheckpoint({ ...m, epoch: 9, history: history(9, 7) }, 1).evalEvery).toBe(7);
    // A default the history contradicts (1, but epochs 1–5 were not evaluated): the run evaluated at the end only.
    expect(settingsFromCheckpoint({ ...m, epoch: 5, history: history(5, 99) }, 1).evalEvery).toBe(14);
    expect(settingsFromCheckpoint({ ...m, epoch: 5, history: history(5, 99) }, 5).evalEvery).toBe(14);
    // Nothing trained yet: the default.
    expect(settingsFromCheckpoint({ ...m, epoch: 0, history: [] }, 7).evalEvery).toBe(7);
  });
});
