// Review of the IndexedDB run record (idb-store.ts): a crafted or older record whose settings are not a run's settings
// must not be offered for resuming (the trainer would fail on it with a raw TypeError such as "Cannot read properties
// of undefined (reading 'shift')"), and reading it names the store and the fix.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { clearRunRecord, readRunRecord, runRecordProblem, storedRunInfo, writeRunRecord } from './idb-store';
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
const files = { 'checkpoint.json': new Uint8Array([123, 125]) };

afterEach(() => clearRunRecord());

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
