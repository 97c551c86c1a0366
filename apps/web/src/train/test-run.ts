/**
 * Test fixture: a real {@link FinishedRun} — `createModel('patch-mlp')` trained one epoch by `@fmnist/model`'s own
 * `train()` in Node on a small learnable synthetic set, its checkpoint directory read back as `checkpointFiles` — and a
 * fake {@link TrainSession} that emits scripted events. Unit tests only.
 * @internal
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, type ExampleSet } from '@fmnist/data';
import { createModel, train } from '@fmnist/model';
import type { FinishedRun, StoredRun, TrainSession, TrainSessionEventMap, TrainSettings, TrainState } from './session-types';

/** A learnable synthetic set: class k has a bright 4×4 block at patch k (plus noise). */
export function syntheticSet(n: number, seed: number): ExampleSet {
  const rng = createRng(seed);
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 10;
    labels[i] = k;
    for (let p = 0; p < 784; p++) images[i * 784 + p] = Math.floor(rng.next() * 60);
    const r0 = 4 * Math.floor((k * 5) / 7);
    const c0 = 4 * ((k * 5) % 7);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) images[i * 784 + (r0 + r) * 28 + c0 + c] = 250;
  }
  return { images, labels, count: n };
}

/** The settings of {@link trainTestRun}. */
export const TEST_RUN_SETTINGS: TrainSettings = {
  preset: 'patch-mlp',
  epochs: 1,
  batchSize: 100,
  learningRate: 1e-3,
  lrSchedule: 'constant',
  weightDecay: 0,
  labelSmoothing: 0,
  augment: {},
  subset: 300,
  seed: 3,
  threads: 1,
};

/**
 * Trains `patch-mlp` for one epoch on 300 synthetic images (test: 100) with a checkpoint directory in the system temp
 * folder, and returns the finished run as the session would hand it over; the folder is removed again.
 *
 * @returns the run
 */
export async function trainTestRun(): Promise<FinishedRun> {
  const dir = await mkdtemp(join(tmpdir(), 'fmnist-web-run-'));
  try {
    const s = TEST_RUN_SETTINGS;
    const model = createModel({ preset: s.preset, seed: s.seed });
    const t0 = performance.now();
    const history = await train({
      model,
      data: { train: syntheticSet(300, 1), test: syntheticSet(100, 2) },
      epochs: s.epochs,
      batchSize: s.batchSize,
      learningRate: s.learningRate,
      seed: s.seed,
      threads: 1,
      checkpointDir: dir,
    });
    const evaluation = history.finalEvaluation;
    if (!evaluation) throw new Error('train() did not evaluate the last epoch');
    const checkpointFiles: Record<string, Uint8Array> = {};
    for (const name of await readdir(dir)) checkpointFiles[name] = new Uint8Array(await readFile(join(dir, name)));
    return {
      settings: s,
      preset: s.preset,
      config: model.config,
      params: model.params,
      epochs: history.epochs,
      stopReason: history.stopReason,
      training: history.training,
      evaluation,
      checkpointFiles,
      backend: history.backend,
      threads: history.threads,
      trainTimeMs: performance.now() - t0,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A {@link TrainSession} that records calls and emits what the test tells it to. */
export class FakeSession extends EventTarget implements TrainSession {
  state: TrainState = 'idle';
  calls: string[] = [];
  stored: StoredRun | undefined;

  // Typed listeners (CustomEvent details), as TrainSession declares them.
  // biome-ignore lint/suspicious/noExplicitAny: one signature for both of TrainSession's overloads
  override addEventListener(type: string, listener: any, options?: AddEventListenerOptions | boolean): void {
    super.addEventListener(type, listener, options);
  }

  /** Emits one event, as the real session does (`state` also updates {@link state}). */
  emit<K extends keyof TrainSessionEventMap>(type: K, detail: TrainSessionEventMap[K]): void {
    if (type === 'state') this.state = (detail as TrainSessionEventMap['state']).state;
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  async start(settings: TrainSettings): Promise<void> {
    this.calls.push(`start ${settings.preset}`);
  }
  async pause(): Promise<void> {
    this.calls.push('pause');
  }
  async resume(): Promise<void> {
    this.calls.push('resume');
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
  }
  async storedRun(): Promise<StoredRun | undefined> {
    return this.stored;
  }
  async discardStoredRun(): Promise<void> {
    this.calls.push('discard');
    this.stored = undefined;
  }
}
