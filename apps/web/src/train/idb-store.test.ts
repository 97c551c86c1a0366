// The IndexedDB checkpoint store (fake-indexeddb in Node): it holds a Node checkpoint directory's files, reads them
// back with every check, offers only unfinished runs, and a damaged record is a typed error naming the store.
import 'fake-indexeddb/auto';
import { createModel, memoryCheckpointStore, train } from '@fmnist/model/core';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  clearRunRecord,
  IDB_LOCATION,
  idbCheckpointStore,
  readRunRecord,
  runRecordProblem,
  storedRunInfo,
  writeRunRecord,
} from './idb-store';
import type { TrainSettings } from './session-types';

const SETTINGS: TrainSettings = {
  preset: 'patch-mlp',
  epochs: 1,
  batchSize: 50,
  learningRate: 1e-3,
  lrSchedule: 'constant',
  weightDecay: 0,
  labelSmoothing: 0,
  augment: {},
  subset: null,
  seed: 0,
};

const data = {
  train: { images: new Uint8Array(100 * 784).map((_, i) => (i * 7) % 256), labels: new Uint8Array(100).map((_, i) => i % 10), count: 100 },
};

beforeEach(() => clearRunRecord());

describe('idbCheckpointStore', () => {
  it('keeps the files of a checkpoint directory and resumes a run to the same weights as a memory store', async () => {
    const store = idbCheckpointStore(SETTINGS, 'run-1');
    expect(await store.load()).toBeUndefined();
    const controller = new AbortController();
    const model = createModel('patch-mlp');
    await train({
      model,
      data,
      epochs: 1,
      batchSize: 50,
      checkpointStore: store,
      signal: controller.signal,
      callbacks: { onBatchEnd: () => controller.abort() },
    });
    const record = await readRunRecord();
    expect(Object.keys(record?.files ?? {}).sort()).toEqual([
      'checkpoint.json',
      'model.safetensors',
      'model.step1.safetensors',
      'optimizer.step1.safetensors',
    ]);
    expect(record).toMatchObject({ runId: 'run-1', settings: SETTINGS, epoch: 0, step: 1, finished: false });
    expect(await storedRunInfo()).toEqual({ runId: 'run-1', settings: SETTINGS, epoch: 0, step: 1, savedAt: record?.savedAt });

    const resumed = createModel('patch-mlp');
    await train({ model: resumed, data, epochs: 1, batchSize: 50, checkpointStore: store, resume: true });
    const straight = createModel('patch-mlp');
    await train({ model: straight, data, epochs: 1, batchSize: 50, checkpointStore: memoryCheckpointStore() });
    expect(resumed.params).toEqual(straight.params);
  }, 60_000); // it trains two short runs: 6.4 s under a full CI load, over vitest's 5 s default

  it('does not offer a finished run, or a run without a checkpoint yet', async () => {
    await writeRunRecord({ runId: 'run-1', settings: SETTINGS, epoch: 0, savedAt: 'now', finished: false });
    expect(await storedRunInfo()).toBeUndefined();
    await writeRunRecord({ runId: 'run-1', settings: SETTINGS, epoch: 1, savedAt: 'now', finished: true, files: {} });
    expect(await storedRunInfo()).toBeUndefined();
  });

  it('a damaged stored checkpoint is E_CHECKPOINT_CORRUPT / _MISSING naming the store, not a crash', async () => {
    await writeRunRecord({
      runId: 'run-1',
      settings: SETTINGS,
      epoch: 1,
      savedAt: 'now',
      finished: false,
      files: { 'checkpoint.json': new TextEncoder().encode('{"format":"fmnist-checkpoint"') },
    });
    await expect(idbCheckpointStore(SETTINGS, 'run-1').load()).rejects.toMatchObject({
      code: 'E_CHECKPOINT_CORRUPT',
      message: expect.stringContaining(`${IDB_LOCATION}/checkpoint.json: not valid JSON`),
    });
    await writeRunRecord({ runId: 'run-1', settings: SETTINGS, epoch: 1, savedAt: 'now', finished: false, files: {} });
    await expect(idbCheckpointStore(SETTINGS, 'run-1').load()).rejects.toMatchObject({ code: 'E_CHECKPOINT_MISSING' });
  });
});

describe('another run in the store', () => {
  it("a paused tab's store refuses to load the run another tab started since, naming the fix", async () => {
    await writeRunRecord({ runId: 'tab-b', settings: SETTINGS, epoch: 0, savedAt: '2026-12-02T04:00:00.000Z', finished: false });
    await expect(idbCheckpointStore(SETTINGS, 'tab-a').load()).rejects.toThrow(
      'IndexedDB fmnist-train/current now holds another run (started 2026-12-02T04:00:00.000Z, probably in another tab), so this one cannot continue. Start a new run, or resume that one.',
    );
    expect(await idbCheckpointStore(SETTINGS, 'tab-b').load()).toBeUndefined();
  });
});

describe('a damaged or foreign stored record', () => {
  it.each<[string, unknown]>([
    ['a string', 'hello'],
    ['no settings', { epoch: 0, savedAt: 'x', finished: false }],
    ['a negative epoch', { settings: SETTINGS, epoch: -1, savedAt: 'x', finished: false }],
    ['files that are not bytes', { settings: SETTINGS, epoch: 1, savedAt: 'x', finished: false, files: { 'checkpoint.json': 'text' } }],
  ])('%s: readRunRecord names the store and the fix, storedRunInfo offers nothing', async (_, value) => {
    await writeRunRecord(value as never);
    await expect(readRunRecord()).rejects.toThrow(
      /^IndexedDB fmnist-train\/current: the stored run is damaged \(.+\); discard it and start a new run\.$/,
    );
    expect(await storedRunInfo()).toBeUndefined();
    await clearRunRecord();
    expect(await readRunRecord()).toBeUndefined();
  });
});

// A crafted or older record whose settings are not a run's settings must not be offered for resuming (the trainer would
// fail on it with a raw TypeError such as "Cannot read properties of undefined (reading 'shift')"), and reading it
// names the store and the fix.
const files = { 'checkpoint.json': new Uint8Array([123, 125]) };

describe('stored settings (review)', () => {
  it('accepts the settings the app writes', () => {
    expect(runRecordProblem({ runId: 'r1', settings: SETTINGS, epoch: 1, savedAt: 'x', finished: false, files })).toBeUndefined();
    expect(
      runRecordProblem({ runId: 'r1', settings: { ...SETTINGS, subset: 1000, threads: 4 }, epoch: 1, savedAt: 'x', finished: false }),
    ).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['only a preset', { preset: 'patch-mlp' }],
    ['no augment', { ...SETTINGS, augment: undefined }],
    ['augment null', { ...SETTINGS, augment: null }],
    ['epochs as text', { ...SETTINGS, epochs: '3' }],
    ['batch size 0', { ...SETTINGS, batchSize: 0 }],
    ['a NaN learning rate', { ...SETTINGS, learningRate: Number.NaN }],
    ['an unknown schedule', { ...SETTINGS, lrSchedule: 'step' }],
    ['subset missing', { ...SETTINGS, subset: undefined }],
    ['a fractional seed', { ...SETTINGS, seed: 0.5 }],
    ['threads as text', { ...SETTINGS, threads: 'all' }],
  ])('%s: not offered for resuming, and reading it says the stored run is damaged', async (_, settings) => {
    const record = { runId: 'r1', settings, epoch: 1, savedAt: 'x', finished: false, files };
    expect(runRecordProblem(record)).toMatch(/settings/);
    await writeRunRecord(record as never);
    expect(await storedRunInfo()).toBeUndefined();
    await expect(readRunRecord()).rejects.toThrow(
      /^IndexedDB fmnist-train\/current: the stored run is damaged \(.*settings.*\); discard it/,
    );
  });
});
