/**
 * Class 5 of the hardening issue (files read back are trusted): every field of checkpoint.json damaged in turn — the
 * cases are generated from CHECKPOINT_SCHEMA itself — plus the safetensors header, file references, special files and
 * non-finite weights. Each must end in the exact code with the field named.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_SCHEMA, type StoredCheckpointMeta } from './checkpoint';
import { loadCheckpoint, readCheckpointMeta, saveCheckpoint } from './checkpoint-node';
import { resolveConfig } from './config';
import { FmnistModelError } from './errors';
import { createModel } from './model';
import { decodeSafetensors, encodeSafetensors } from './safetensors';
import { checkSchema, listSchemaDamage } from './schema';

let root: string;
let caseNo = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmnist-ckpt-schema-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A checkpoint exercising every optional field (mid-epoch resume point, optimizer, augmentation, dataset). */
function validMeta(): StoredCheckpointMeta {
  return {
    format: 'fmnist-checkpoint',
    version: 1,
    preset: 'coursework',
    config: resolveConfig('coursework'),
    epoch: 1,
    step: 13,
    rng: [1, 2, 3, 4],
    training: {
      optimizer: 'adamw',
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: 0.01,
      batchSize: 64,
      epochs: 2,
      seed: 7,
      backend: 'kernels',
      threads: 1,
      normalization: 'unit',
      trainExamples: 600,
      lrSchedule: 'cosine',
      labelSmoothing: 0.1,
      augment: { shift: 1, flip: true, erase: 0.5 },
    },
    history: [{ epoch: 1, trainLoss: 0.5, trainAccuracy: 0.8, testLoss: 0.45, testAccuracy: 0.83, timeMs: 1000, imagesPerSecond: 600 }],
    dataset: { source: 'system', sha256: { trainImages: 'a'.repeat(64) } },
    producer: '@fmnist/model',
    createdAt: new Date(0).toISOString(),
    resumeAt: { batch: 3, partial: { lossSum: 100, correct: 150, seen: 192, timeMs: 30 } },
  };
}

/** Saves a valid checkpoint (seed preset, with optimizer state) into a fresh directory. */
async function freshCheckpoint(): Promise<string> {
  const dir = join(root, `c${caseNo++}`);
  const model = createModel('coursework');
  const opt = {
    step: 13,
    m: createModel({ preset: 'coursework', seed: 1 }).params,
    v: createModel({ preset: 'coursework', seed: 2 }).params,
  };
  await saveCheckpoint(dir, { meta: validMeta(), params: model.params, optimizer: opt });
  return dir;
}

async function expectCode(p: Promise<unknown>, code: string, message?: RegExp | string): Promise<FmnistModelError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a rejection').toBeInstanceOf(FmnistModelError);
  expect((err as FmnistModelError).code).toBe(code);
  if (message) expect((err as Error).message).toMatch(message);
  return err as FmnistModelError;
}

const withFiles = { ...validMeta(), files: { weights: 'model.step13.safetensors', optimizer: 'optimizer.step13.safetensors' } };
const generated = listSchemaDamage(CHECKPOINT_SCHEMA, withFiles);
const escapeRe = (p: string) => p.replace(/[.[\]]/g, (c) => `\\${c}`);

describe('checkpoint.json: every field damaged in turn (generated from CHECKPOINT_SCHEMA)', () => {
  it('generates enough cases to cover every field', () => {
    expect(generated.length).toBeGreaterThan(150);
    expect(new Set(generated.map((c) => c.path.replace(/\.[^.]*$/, ''))).size).toBeGreaterThan(8);
  });

  for (const c of generated) {
    it(`${c.path} ${c.label} → E_CHECKPOINT_CORRUPT naming '${c.path}'`, async () => {
      const dir = await freshCheckpoint();
      const file = join(dir, 'checkpoint.json');
      const doc = JSON.parse(await readFile(file, 'utf8'));
      c.damage(doc);
      await writeFile(file, JSON.stringify(doc));
      const err = await expectCode(loadCheckpoint(dir), 'E_CHECKPOINT_CORRUPT', new RegExp(`field '${escapeRe(c.path)}'`));
      expect(err.message).toContain(file);
    });
  }
});

describe('checkpoint.json: every value train accepts is read back', () => {
  it.each([
    ['a learning rate of 5000', { learningRate: 5000 }],
    ['a weight decay of 5000', { optimizer: 'adamw', weightDecay: 5000 }],
    ['a seed of -(2^53 - 1)', { seed: -Number.MAX_SAFE_INTEGER }],
  ])('%s', (_what, training) => {
    const meta = validMeta();
    Object.assign(meta.training, training);
    expect(checkSchema(CHECKPOINT_SCHEMA, validMeta())).toBeUndefined();
    expect(checkSchema(CHECKPOINT_SCHEMA, meta)).toBeUndefined();
  });
});

describe('checkpoint.json: values that are valid alone but inconsistent', () => {
  const damaged: [string, (m: StoredCheckpointMeta) => void, string][] = [
    ['epoch past training.epochs', (m) => Object.assign(m, { epoch: 5 }), 'epoch'],
    ['a string epoch', (m) => Object.assign(m, { epoch: '1' }), 'epoch'],
    ['history shorter than epoch', (m) => Object.assign(m, { history: [] }), 'history'],
    ['history numbered wrongly', (m) => Object.assign(m.history[0] as object, { epoch: 2 }), 'history'],
    ['resumeAt past the end of the epoch', (m) => Object.assign(m.resumeAt as object, { batch: 10 }), 'resumeAt.batch'],
    ['resumeAt far past the end', (m) => Object.assign(m.resumeAt as object, { batch: 1e6 }), 'resumeAt.batch'],
    ['more correct than seen', (m) => Object.assign(m.resumeAt?.partial as object, { correct: 500 }), 'resumeAt'],
    ['an all-zero RNG state', (m) => Object.assign(m, { rng: [0, 0, 0, 0] }), 'rng'],
    ['a config with a negative dim', (m) => Object.assign(m.config, { dim: -4 }), 'config'],
    ['a config of 10^12 parameters', (m) => Object.assign(m.config, { dim: 1_000_000, channelHidden: 1_000_000 }), 'config'],
    ['an unknown preset', (m) => Object.assign(m, { preset: 'tiny' }), 'preset'],
    ['Adam without beta2', (m) => delete m.training.beta2, 'training'],
    ['Adam with SGD momentum', (m) => Object.assign(m.training, { momentum: 0.9 }), 'training'],
    ['SGD with Adam betas', (m) => Object.assign(m.training, { optimizer: 'sgd', momentum: 0.9 }), 'training'],
    [
      'SGD without momentum',
      (m) => Object.assign(m.training, { optimizer: 'sgd', beta1: undefined, beta2: undefined, epsilon: undefined }),
      'training',
    ],
    ['SGD momentum 1', (m) => Object.assign(m.training, { optimizer: 'sgd', momentum: 1 }), 'training.momentum'],
    ['label smoothing 1', (m) => Object.assign(m.training, { labelSmoothing: 1 }), 'training.labelSmoothing'],
  ];
  for (const [name, damage, field] of damaged) {
    it(`${name} → E_CHECKPOINT_CORRUPT naming '${field}'`, async () => {
      const dir = await freshCheckpoint();
      const file = join(dir, 'checkpoint.json');
      const doc = JSON.parse(await readFile(file, 'utf8'));
      damage(doc);
      await writeFile(file, JSON.stringify(doc));
      await expectCode(readCheckpointMeta(dir), 'E_CHECKPOINT_CORRUPT', new RegExp(`field '${escapeRe(field)}'`));
    });
  }

  it('an optimizer file of another step → E_CHECKPOINT_CORRUPT naming step', async () => {
    const dir = await freshCheckpoint();
    const file = join(dir, 'checkpoint.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    doc.step = 12;
    await writeFile(file, JSON.stringify(doc));
    await expectCode(loadCheckpoint(dir), 'E_CHECKPOINT_CORRUPT', /field 'step' is 12.*saved at step 13/);
  });

  it('training.optimizer "sgd" over an Adam optimizer file → E_CHECKPOINT_CORRUPT naming both files', async () => {
    const dir = await freshCheckpoint();
    const file = join(dir, 'checkpoint.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    const { beta1: _1, beta2: _2, epsilon: _3, ...rest } = doc.training;
    doc.training = { ...rest, optimizer: 'sgd', momentum: 0.9 };
    await writeFile(file, JSON.stringify(doc));
    await expectCode(
      loadCheckpoint(dir),
      'E_CHECKPOINT_CORRUPT',
      /field 'training\.optimizer' is "sgd", but .*optimizer\.step13\.safetensors holds adam state/,
    );
  });

  it('a checkpoint of an older release without training.optimizer is Adam, and its state loads as Adam', async () => {
    const dir = await freshCheckpoint();
    const file = join(dir, 'checkpoint.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    delete doc.training.optimizer;
    await writeFile(file, JSON.stringify(doc));
    const back = await loadCheckpoint(dir);
    expect(back.meta.training.optimizer).toBeUndefined();
    expect(back.optimizer?.kind).toBe('adam');
    expect(Object.keys(back.optimizer ?? {}).sort()).toEqual(['kind', 'm', 'step', 'v']);
  });

  it('not JSON, an array, or another format → E_CHECKPOINT_CORRUPT', async () => {
    const dir = await freshCheckpoint();
    const file = join(dir, 'checkpoint.json');
    for (const [text, why] of [
      ['', /not valid JSON/],
      ['[]', /field 'format'/],
      ['null', /field 'format'/],
      ['{"format":"fmnist-checkpoint","version":2}', /field 'version' is 2/],
    ] as const) {
      await writeFile(file, text);
      await expectCode(loadCheckpoint(dir), 'E_CHECKPOINT_CORRUPT', why);
    }
  });
});

describe('file references stay inside the checkpoint directory', () => {
  it('a symlinked weights file pointing outside → E_CHECKPOINT_CORRUPT, nothing read', async () => {
    const dir = await freshCheckpoint();
    const outside = join(root, `outside-${caseNo++}.safetensors`);
    await writeFile(outside, await readFile(join(dir, 'model.step13.safetensors')));
    await rm(join(dir, 'model.step13.safetensors'));
    await symlink(outside, join(dir, 'model.step13.safetensors'));
    await expectCode(loadCheckpoint(dir), 'E_CHECKPOINT_CORRUPT', /field 'files\.weights'.*outside/);
  });

  it('a symlink to /etc/passwd as the optimizer file → E_CHECKPOINT_CORRUPT', async () => {
    const dir = await freshCheckpoint();
    await rm(join(dir, 'optimizer.step13.safetensors'));
    await symlink('/etc/passwd', join(dir, 'optimizer.step13.safetensors'));
    await expectCode(loadCheckpoint(dir), 'E_CHECKPOINT_CORRUPT', /field 'files\.optimizer'.*\/etc\/passwd/);
  });

  it('a symlink inside the directory is fine', async () => {
    const dir = await freshCheckpoint();
    const file = join(dir, 'checkpoint.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    doc.files.weights = 'alias.safetensors';
    await writeFile(file, JSON.stringify(doc));
    await symlink('model.step13.safetensors', join(dir, 'alias.safetensors'));
    expect((await loadCheckpoint(dir)).meta.step).toBe(13);
  });
});

describe('special files and non-finite weights', () => {
  const fifo = process.platform !== 'win32';
  it.skipIf(!fifo)('a FIFO as checkpoint.json or as the weights → E_CHECKPOINT_CORRUPT at once (no hang)', async () => {
    const dir = await freshCheckpoint();
    await rm(join(dir, 'model.step13.safetensors'));
    execFileSync('mkfifo', [join(dir, 'model.step13.safetensors')]);
    await expectCode(loadCheckpoint(dir), 'E_CHECKPOINT_CORRUPT', /not a regular file/);
    const dir2 = await freshCheckpoint();
    await rm(join(dir2, 'checkpoint.json'));
    execFileSync('mkfifo', [join(dir2, 'checkpoint.json')]);
    await expectCode(loadCheckpoint(dir2), 'E_CHECKPOINT_CORRUPT', /not a regular file/);
  });

  for (const [name, value] of [
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ] as const) {
    it(`a weight of ${name} → E_NON_FINITE naming the tensor`, async () => {
      const dir = join(root, `nf${caseNo++}`);
      const model = createModel('coursework');
      const [first] = Object.keys(model.params);
      (model.params[first as string] as Float32Array)[5] = value;
      const { resumeAt: _, ...meta } = validMeta();
      await saveCheckpoint(dir, { meta, params: model.params });
      await expectCode(loadCheckpoint(dir), 'E_NON_FINITE', new RegExp(`tensor '${first}' holds ${name} at index 5`));
    });
  }

  it('a NaN in the optimizer moments → E_NON_FINITE', async () => {
    const dir = join(root, `nf${caseNo++}`);
    const m = createModel({ preset: 'coursework', seed: 1 }).params;
    const [first] = Object.keys(m);
    (m[first as string] as Float32Array)[0] = Number.NaN;
    await saveCheckpoint(dir, { meta: validMeta(), params: createModel('coursework').params, optimizer: { step: 13, m, v: m } });
    await expectCode(loadCheckpoint(dir), 'E_NON_FINITE', /optimizer\.step13\.safetensors/);
  });
});

describe('safetensors header schema', () => {
  const t = { w: { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) } };
  /** Re-encodes a file with its header JSON replaced (the data section kept). */
  const withHeader = (edit: (h: Record<string, unknown>) => unknown): Uint8Array => {
    const bytes = encodeSafetensors(t, { k: 'v' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const replaced = edit(header); // edits in place; an array return value replaces the whole header
    const json = new TextEncoder().encode(JSON.stringify(Array.isArray(replaced) ? replaced : header));
    const out = new Uint8Array(8 + json.length + (bytes.length - 8 - n));
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(bytes.subarray(8 + n), 8 + json.length);
    return out;
  };
  const cases: [string, (h: Record<string, unknown>) => unknown, RegExp][] = [
    ['a null tensor entry', (h) => Object.assign(h, { w: null }), /field 'w'/],
    ['string shapes', (h) => Object.assign(h.w as object, { shape: ['2', '2'] }), /field 'w\.shape\[0\]'/],
    ['a negative dimension', (h) => Object.assign(h.w as object, { shape: [-2, -2] }), /field 'w\.shape\[0\]'/],
    ['offsets outside the file', (h) => Object.assign(h.w as object, { data_offsets: [0, 1600] }), /outside the file/],
    ['negative offsets', (h) => Object.assign(h.w as object, { data_offsets: [-16, 0] }), /field 'w\.data_offsets\[0\]'/],
    ['reversed offsets', (h) => Object.assign(h.w as object, { data_offsets: [16, 0] }), /field 'w\.data_offsets'/],
    ['string offsets', (h) => Object.assign(h.w as object, { data_offsets: '0-16' }), /field 'w\.data_offsets'/],
    ['dtype BF16', (h) => Object.assign(h.w as object, { dtype: 'BF16' }), /field 'w\.dtype' must be one of "F32", "F16"/],
    ['a missing dtype', (h) => delete (h.w as { dtype?: string }).dtype, /field 'w\.dtype' is missing/],
    ['non-string metadata', (h) => Object.assign(h, { __metadata__: { step: 5 } }), /field '__metadata__\.step'/],
    ['a header that is an array', () => [1, 2], /header must be/],
    ['more values than the shape', (h) => Object.assign(h.w as object, { shape: [2, 3] }), /has 16 bytes for shape \[2,3\]/],
  ];
  for (const [name, edit, message] of cases) {
    it(`${name} → E_CHECKPOINT_CORRUPT`, () => {
      let err: unknown;
      try {
        decodeSafetensors(withHeader(edit), 'w.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FmnistModelError);
      expect((err as FmnistModelError).code).toBe('E_CHECKPOINT_CORRUPT');
      expect((err as Error).message, (err as Error).message).toMatch(/^w\.safetensors: /);
      expect((err as Error).message, (err as Error).message).toMatch(message);
    });
  }

  it('a weights file of the wrong shape for the config → E_CHECKPOINT_MISMATCH', async () => {
    const dir = await freshCheckpoint();
    const file = join(dir, 'model.step13.safetensors');
    const { tensors } = decodeSafetensors(await readFile(file));
    const [name, first] = Object.entries(tensors)[0] as [string, { shape: number[]; data: Float32Array }];
    tensors[name] = { shape: [first.data.length], data: first.data };
    await writeFile(file, encodeSafetensors(tensors));
    await expectCode(loadCheckpoint(dir), 'E_CHECKPOINT_MISMATCH', new RegExp(`tensor '${name}'`));
  });
});
