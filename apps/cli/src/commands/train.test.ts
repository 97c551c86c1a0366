/**
 * `fmnist train` in-process (its `run`, as the binary calls it), with `train` and `evaluate` of `@fmnist/model`
 * watched: the run's report figures come from the evaluation `train()` returns, and no second engine (no new worker
 * threads) is started after training unless that evaluation is missing. Small runs: 512–1024 images, one epoch.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { CLASS_NAMES } from '@fmnist/data';
import type { Evaluation, History } from '@fmnist/model';
import * as model from '@fmnist/model';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { perClassAccuracy } from '../charts';
import { run } from './train';

vi.mock('@fmnist/model', async (importOriginal) => {
  const original = await importOriginal<typeof import('@fmnist/model')>();
  return { ...original, train: vi.fn(original.train), evaluate: vi.fn(original.evaluate) };
});

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
  out = [];
  process.on('worker', onWorker);
  const train = vi.mocked(model.train);
  const original = train.getMockImplementation() as typeof model.train;
  train.mockImplementation(async (options) => {
    trainRunning = true;
    try {
      return await original(options);
    } finally {
      trainRunning = false;
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
