/**
 * `fmnist train` in-process (its `run`, as the binary calls it), with `train` and `evaluate` of `@fmnist/model`
 * watched: the run's report figures come from the evaluation `train()` returns, and no second engine (no new worker
 * threads) is started after training unless that evaluation is missing; `--seed` seeds the initial weights and the
 * batch order, and runs recorded before that resume as they did. Small runs: 256–1024 images, one or two epochs.
 */

import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { CLASS_NAMES } from '@fmnist/data';
import type { Evaluation, History } from '@fmnist/model';
import * as model from '@fmnist/model';
import { perClassAccuracy } from '@fmnist/report';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from './train';

vi.mock('@fmnist/model', async (importOriginal) => {
  const original = await importOriginal<typeof import('@fmnist/model')>();
  return { ...original, train: vi.fn(original.train), evaluate: vi.fn(original.evaluate) };
});

/** The real `train()` (the mock's implementation before the tests wrap it). */
const originalTrain = vi.mocked(model.train).getMockImplementation() as typeof model.train;

const hashParams = (params: Record<string, Float32Array>): string => {
  const h = createHash('sha256');
  for (const [k, v] of Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1)))
    h.update(k).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return h.digest('hex');
};
/** Each `train()` call: the seed it was given, the model's config seed, and its parameters before and after. */
let calls: { seed?: number; configSeed: number; initial: string; final?: string }[];

/** Workers started since `beforeEach`, and how many of them started while `train()` ran. */
let workers: { total: number; duringTrain: number };
let trainRunning = false;
const onWorker = (_: Worker) => {
  workers.total++;
  if (trainRunning) workers.duringTrain++;
};
let dir: string;
let out: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-cli-train-'));
  workers = { total: 0, duringTrain: 0 };
  calls = [];
  out = [];
  process.on('worker', onWorker);
  vi.mocked(model.train).mockImplementation(async (options) => {
    trainRunning = true;
    const call: (typeof calls)[number] = {
      seed: options.seed,
      configSeed: options.model.config.seed,
      initial: hashParams(options.model.params),
    };
    calls.push(call);
    try {
      return await originalTrain(options);
    } finally {
      trainRunning = false;
      call.final = hashParams(options.model.params);
    }
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
});
afterEach(async () => {
  process.off('worker', onWorker);
  vi.mocked(model.train).mockClear();
  vi.mocked(model.evaluate).mockClear();
  vi.restoreAllMocks();
  process.exitCode = undefined;
  await rm(dir, { recursive: true, force: true });
});

const flags = (extra: Record<string, unknown> = {}) => ({
  preset: 'patch-mlp' as const,
  batchSize: 256,
  seed: 0,
  backend: 'kernels' as const,
  threads: 2,
  evalEvery: 1,
  epochs: 1,
  subset: 512,
  out: join(dir, 'run'),
  export: false,
  report: true,
  json: true,
  ...extra,
});
/** What commander reports for an option that was not typed. */
const command = { getOptionValueSource: () => 'default' };

/** The report figures the run wrote: config.json's result, per-class.csv and the `--json` summary. */
async function figures(runDir: string) {
  const config = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8'));
  const perClass = (await readFile(join(runDir, 'per-class.csv'), 'utf8')).trim().split('\n').slice(1);
  const summary = JSON.parse(out.join(''));
  return { result: config.result, perClass, summary };
}

function expectFigures(f: Awaited<ReturnType<typeof figures>>, ev: Evaluation): void {
  expect(f.result.testAccuracy).toBe(ev.accuracy);
  expect(f.result.testLoss).toBe(ev.loss);
  const perClass = perClassAccuracy(ev.confusion);
  expect(f.result.perClassAccuracy).toEqual(Object.fromEntries(CLASS_NAMES.map((n, i) => [n, perClass[i]])));
  expect(f.summary.testAccuracy).toBe(ev.accuracy);
  expect(f.summary.confusion).toEqual(ev.confusion);
  expect(f.perClass).toHaveLength(10);
}

describe('fmnist train: the report uses the evaluation train() returns', () => {
  it('a completed run: report figures equal History.finalEvaluation; evaluate() not called; no worker after training', async () => {
    await run(flags(), command);
    const history = (await vi.mocked(model.train).mock.results[0]?.value) as History;
    expect(history.stopReason).toBe('completed');
    expect(history.finalEvaluation?.epoch).toBe(1);
    expectFigures(await figures(join(dir, 'run')), history.finalEvaluation as Evaluation);
    expect(vi.mocked(model.evaluate)).not.toHaveBeenCalled();
    // threads 2 → one engine of one worker (the calling thread is the other), all started by train()
    expect(workers).toEqual({ total: 1, duringTrain: 1 });
  });

  it('stopped mid-epoch (time budget): the returned evaluation is missing, so one evaluate() gives the figures', async () => {
    await run(flags({ subset: 1024, timeBudget: 1 }), command);
    const history = (await vi.mocked(model.train).mock.results[0]?.value) as History;
    expect(history.stopReason).toBe('time-budget');
    expect(history.epochs).toEqual([]);
    expect(history.finalEvaluation).toBeUndefined();
    expect(vi.mocked(model.evaluate)).toHaveBeenCalledTimes(1);
    const evaluation = (await vi.mocked(model.evaluate).mock.results[0]?.value) as Evaluation;
    expectFigures(await figures(join(dir, 'run')), evaluation);
    expect(workers).toEqual({ total: 2, duringTrain: 1 });
  });
});

describe('fmnist train --seed: the initial weights and the batch order', () => {
  const quiet = { subset: 256, batchSize: 64, threads: 1, report: false, export: false, json: false };
  const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

  it('two seeds → other initial weights and batch order; the same seed → the same run, bit for bit; both recorded', async () => {
    for (const [name, seed] of [
      ['a', 1],
      ['b', 2],
      ['c', 1],
    ] as const)
      await run(flags({ ...quiet, seed, out: join(dir, name) }), command);
    expect(calls.map((c) => [c.seed, c.configSeed])).toEqual([
      [1, 1],
      [2, 2],
      [1, 1],
    ]);
    const [a, b, c] = calls as [(typeof calls)[0], (typeof calls)[0], (typeof calls)[0]];
    expect(a.initial).toBe(hashParams(model.createModel({ preset: 'patch-mlp', seed: 1 }).params));
    expect(a.initial).not.toBe(b.initial);
    expect(a.initial).toBe(c.initial);
    expect(a.final).not.toBe(b.final);
    expect(a.final).toBe(c.final);
    const weights = async (name: string) => readFile(join(dir, name, 'checkpoint', 'model.safetensors'));
    expect((await weights('a')).equals(await weights('c'))).toBe(true);
    const ckpt = (name: string) => readJson(join(dir, name, 'checkpoint', 'checkpoint.json'));
    // The batch order: the trainer's RNG after the epoch's shuffle.
    expect((await ckpt('a')).rng).not.toEqual((await ckpt('b')).rng);
    expect((await ckpt('a')).rng).toEqual((await ckpt('c')).rng);
    expect((await ckpt('b')).training).toMatchObject({ seed: 2, initSeed: 2 });
    expect((await ckpt('b')).config.seed).toBe(2);
    const config = await readJson(join(dir, 'b', 'config.json'));
    expect(config.settings).toMatchObject({ seed: 2, initSeed: 2 });
    expect(config.training).toMatchObject({ seed: 2, initSeed: 2 });
    expect(config.model.config.seed).toBe(2);
  });

  it('a run recorded before initSeed (weights from seed 0, --seed 3 for the batches) resumes exactly as before', async () => {
    await run(flags({ ...quiet, seed: 3, out: join(dir, 'new') }), command);
    // The same run as the previous version recorded it: no initSeed anywhere, and model config seed 0.
    await cp(join(dir, 'new'), join(dir, 'old'), { recursive: true });
    // biome-ignore lint/suspicious/noExplicitAny: a parsed JSON document, edited in place
    const edit = async (path: string, change: (doc: any) => void) => {
      const doc = await readJson(path);
      change(doc);
      await writeFile(path, JSON.stringify(doc, null, 2));
    };
    await edit(join(dir, 'old', 'config.json'), (doc) => {
      delete doc.settings.initSeed;
      delete doc.training.initSeed;
      doc.model.config.seed = 0;
    });
    await edit(join(dir, 'old', 'checkpoint', 'checkpoint.json'), (doc) => {
      delete doc.training.initSeed;
      doc.config.seed = 0;
    });
    const epochsFromCli = { getOptionValueSource: (name: string) => (name === 'epochs' ? 'cli' : 'default') };
    for (const name of ['new', 'old'])
      await run(flags({ ...quiet, subset: undefined, out: undefined, resume: join(dir, name), epochs: 2 }), epochsFromCli);
    const [, resumedNew, resumedOld] = calls as [unknown, (typeof calls)[0], (typeof calls)[0]];
    // From a checkpoint the weights are the checkpoint's: both resumes end bit for bit the same.
    expect(resumedOld.final).toBe(resumedNew.final);
    expect(resumedOld.configSeed).toBe(0);
    expect(resumedOld.seed).toBe(3);
    const config = await readJson(join(dir, 'old', 'config.json'));
    expect(config.status).toBe('completed');
    expect(config.settings).toMatchObject({ seed: 3, initSeed: 0 });
    expect(config.model.config.seed).toBe(0);
    expect((await readJson(join(dir, 'old', 'checkpoint', 'checkpoint.json'))).training).toMatchObject({ seed: 3, initSeed: 0 });

    // Killed before its first checkpoint: the old run starts again from seed 0's weights, with batches of seed 3.
    await mkdir(join(dir, 'old-early'));
    await cp(join(dir, 'old', 'config.json'), join(dir, 'old-early', 'config.json'));
    await edit(join(dir, 'old-early', 'config.json'), (doc) => {
      delete doc.settings.initSeed;
      doc.settings.epochs = 1;
    });
    await run(flags({ ...quiet, subset: undefined, out: undefined, resume: join(dir, 'old-early') }), command);
    const early = calls.at(-1) as (typeof calls)[0];
    expect(early.initial).toBe(hashParams(model.createModel('patch-mlp').params));
    expect(early.seed).toBe(3);
    expect(await readJson(join(dir, 'old-early', 'config.json')).then((c) => c.settings)).toMatchObject({ seed: 3, initSeed: 0 });
  });
});

describe('fmnist train --preset seed: the old name of coursework', () => {
  const quiet = { subset: 256, batchSize: 64, threads: 1, report: false, export: false, json: false };
  const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));
  // biome-ignore lint/suspicious/noExplicitAny: a parsed JSON document, edited in place
  const edit = async (path: string, change: (doc: any) => void) => {
    const doc = await readJson(path);
    change(doc);
    await writeFile(path, JSON.stringify(doc, null, 2));
  };

  it('a run recorded as seed (before the rename) resumes exactly, with --preset seed or none, and then records coursework', async () => {
    await run(flags({ ...quiet, preset: 'coursework', out: join(dir, 'new') }), command);
    expect((await readJson(join(dir, 'new', 'config.json'))).settings.preset).toBe('coursework');
    expect((await readJson(join(dir, 'new', 'checkpoint', 'checkpoint.json'))).preset).toBe('coursework');
    // The same run as the release before the rename recorded it.
    await cp(join(dir, 'new'), join(dir, 'old'), { recursive: true });
    await edit(join(dir, 'old', 'config.json'), (doc) => {
      doc.model.preset = 'seed';
      doc.settings.preset = 'seed';
    });
    await edit(join(dir, 'old', 'checkpoint', 'checkpoint.json'), (doc) => {
      doc.preset = 'seed';
    });
    await cp(join(dir, 'old'), join(dir, 'old-typed'), { recursive: true });
    const resume = { ...quiet, subset: undefined, out: undefined, epochs: 2 };
    const epochsFromCli = { getOptionValueSource: (name: string) => (name === 'epochs' ? 'cli' : 'default') };
    await run(flags({ ...resume, resume: join(dir, 'new') }), epochsFromCli);
    await run(flags({ ...resume, resume: join(dir, 'old') }), epochsFromCli);
    // `--preset seed` typed on the resume: commander's parser has made it coursework, which is the run's preset.
    const presetFromCli = { getOptionValueSource: (name: string) => (name === 'epochs' || name === 'preset' ? 'cli' : 'default') };
    await run(flags({ ...resume, preset: 'coursework', resume: join(dir, 'old-typed') }), presetFromCli);
    const [, resumedNew, resumedOld, resumedTyped] = calls as (typeof calls)[0][];
    expect(resumedOld?.initial).toBe(resumedNew?.initial);
    expect(resumedOld?.final).toBe(resumedNew?.final);
    expect(resumedTyped?.final).toBe(resumedNew?.final);
    for (const name of ['old', 'old-typed']) {
      const config = await readJson(join(dir, name, 'config.json'));
      expect(config.status).toBe('completed');
      expect(config.settings.preset).toBe('coursework');
      expect(config.model.preset).toBe('coursework');
      const ckpt = await readJson(join(dir, name, 'checkpoint', 'checkpoint.json'));
      expect(ckpt.preset).toBe('coursework');
      expect(ckpt.epoch).toBe(2);
    }
  });
});

describe('fmnist train: the recipe evalEvery (mixer-s7 evaluates every 7 epochs)', () => {
  it('without --eval-every, mixer-s7 takes its recipe: no test figure before epoch 3 of 3; metrics and report cope', async () => {
    const out = join(dir, 's7');
    await run(
      flags({ preset: 'mixer-s7', epochs: 3, evalEvery: undefined, subset: 256, batchSize: 64, threads: 1, json: false, out }),
      command,
    );
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.settings.evalEvery).toBe(7);
    expect(config.status).toBe('completed');
    const csv = (await readFile(join(out, 'metrics.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('epoch,train_loss,train_accuracy,test_loss,test_accuracy,time_s,images_per_s');
    const cells = csv.slice(1).map((line) => line.split(','));
    expect(cells.map((c) => c[0])).toEqual(['1', '2', '3']);
    expect(cells.map((c) => [c[3], c[4]])).toEqual([
      ['', ''],
      ['', ''],
      [expect.stringMatching(/^\d+\.\d+$/), expect.stringMatching(/^0\.\d+$/)],
    ]);
    const jsonl = (await readFile(join(out, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(jsonl.map((r) => r.test_accuracy === null)).toEqual([true, true, false]);
    expect(config.result.testAccuracy).toBe(jsonl[2].test_accuracy);
    const report = await readFile(join(out, 'report.html'), 'utf8');
    expect(report).toMatch(/<tr><td>1<\/td><td>[\d.]+<\/td><td>[\d.]+%<\/td><td>–<\/td><td>–<\/td>/);
    expect(report).not.toMatch(/>\s*(NaN|undefined)[\s%]*</);
    // The progress: a dash for the epochs without a test figure, the figures for the last.
    const progress = vi
      .mocked(process.stderr.write)
      .mock.calls.map((c) => String(c[0]))
      .join('')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
      .replace(/\x1b\[[0-9;]*m/g, '');
    expect(progress).toMatch(/epoch 1\/3 +train loss [\d.]+ acc [\d.]+% +test – /);
    expect(progress).toMatch(/epoch 2\/3 +train loss [\d.]+ acc [\d.]+% +test – /);
    expect(progress).toMatch(/epoch 3\/3 +train loss [\d.]+ acc [\d.]+% +test loss [\d.]+ acc [\d.]+%/);
    // Only the last epoch was evaluated, by train() itself: no second evaluation for the report.
    expect(vi.mocked(model.evaluate)).not.toHaveBeenCalled();
  });

  it('--eval-every overrides the recipe', async () => {
    const out = join(dir, 'p');
    await run(flags({ epochs: 2, evalEvery: 2, subset: 256, batchSize: 64, threads: 1, json: false, report: false, out }), {
      getOptionValueSource: (name: string) => (name === 'evalEvery' ? 'cli' : 'default'),
    });
    const jsonl = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(jsonl.map((l) => JSON.parse(l).test_accuracy === null)).toEqual([true, false]);
    expect(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')).settings.evalEvery).toBe(2);
  });
});
