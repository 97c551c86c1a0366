/**
 * The trainer web worker: runs `@fmnist/model`'s own training loop (`train` of `@fmnist/model/core`) off the page's
 * main thread, with one kernels web worker per extra thread (kernels-shard-worker.ts) and its checkpoints in
 * IndexedDB (idb-store.ts). It loads the training and test sets through Cache Storage (data-cache.ts: fetched once,
 * then read from the cache by every later run, resume or finish), posts progress at most ~10 times a second, and ends
 * every run with a `done` (completed or stopped), a `paused` state, or a `failed` message.
 */
import { batches, type FashionMnistSplit, permutation, subset } from '@fmnist/data';
import {
  createModel,
  createPredictor,
  type Evaluation,
  type FmnistModel,
  FmnistModelError,
  type History,
  modelFromParams,
  type PresetName,
  scoreLogits,
  train,
} from '@fmnist/model/core';
import { loadSplitCached } from './data-cache';
import { idbCheckpointStore, readRunRecord, writeRunRecord } from './idb-store';
import type { TrainerEvent, TrainerRequest } from './protocol';
import { exportRunOnnx } from './run-files';
import type { FinishedRun, TrainProgress, TrainSettings } from './session-types';
import { formValuesOf, parseTrainForm } from './settings';

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<TrainerRequest>) => void) | null;
  postMessage(message: TrainerEvent, transfer?: Transferable[]): void;
};
const post = (event: TrainerEvent, transfer: Transferable[] = []) => scope.postMessage(event, transfer);

/** Progress messages at most this often. */
const PROGRESS_EVERY_MS = 100;

const spawn = () => new Worker(new URL('./kernels-shard-worker.ts', import.meta.url), { type: 'module', name: 'fmnist-train-shard' });

let controller: AbortController | undefined;
let pausing = false;
let running = false;

scope.onmessage = ({ data }) => {
  if (data.type === 'pause' || data.type === 'stop') {
    pausing = data.type === 'pause';
    controller?.abort();
  } else if ((data.type === 'start' || data.type === 'finish') && !running) {
    running = true;
    const job = () =>
      data.type === 'start' ? run(data.runId, data.settings, data.resume, data.baseUrl) : finish(data.runId, data.settings, data.baseUrl);
    // The run's last event goes out once the lock is released, so the page can start the next run at once.
    exclusively(job)
      .then(({ event, transfer }) => post(event, transfer))
      .catch((err: unknown) => {
        const e = err as Error & { code?: string };
        post({ type: 'failed', message: e?.message ?? String(err), ...(typeof e?.code === 'string' ? { code: e.code } : {}) });
      })
      .finally(() => {
        running = false;
      });
  }
};

/**
 * Runs `job` holding the app's training lock (Web Locks), so that two tabs never train into the same stored run; a
 * second tab is told so instead of overwriting the first one's checkpoints.
 */
async function exclusively<T>(job: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return job();
  return locks.request('fmnist-train', { ifAvailable: true }, async (lock) => {
    if (!lock) {
      throw new Error('Another tab of this app is training. Pause or stop it there (or close it), then start again here.');
    }
    return job();
  });
}

/** A run's last event (`paused` or `done`) and the buffers to transfer with it. */
interface Ending {
  event: TrainerEvent;
  transfer: Transferable[];
}

/** The 10,000 test images through the model (when `train()` did not evaluate the parameters it left). */
async function evaluateModel(model: FmnistModel, test: FashionMnistSplit): Promise<Evaluation> {
  const predictor = await createPredictor(model, { maxBatch: 1000 });
  const logits = new Float32Array(test.count * 10);
  for (const b of batches(test, { batchSize: 1000 })) logits.set(predictor.predict(b.x), (b.indices[0] as number) * 10);
  return scoreLogits(logits, test.labels.subarray(0, test.count), 10);
}

/**
 * The settings, checked by the Train view's own parser (the same limits as `fmnist train`): a page script or a stored
 * run from another version gets a message naming each bad field instead of a run on nonsense.
 */
function checkSettings(settings: TrainSettings): void {
  const parsed = parseTrainForm(formValuesOf(settings));
  if (!parsed.ok) throw new RangeError(`The run's settings are not valid: ${parsed.errors.map((e) => e.message).join(' ')}`);
}

async function run(runId: string, settings: TrainSettings, resume: boolean, baseUrl: string | undefined): Promise<Ending> {
  pausing = false;
  controller = new AbortController();
  checkSettings(settings);
  post({ type: 'state', state: 'loading' });
  const [all, test] = await Promise.all([
    loadSplitCached('train', {
      ...(baseUrl ? { baseUrl } : {}),
      onProgress: (loaded, total) => post({ type: 'download', progress: { loaded, total } }),
    }),
    loadSplitCached('test', baseUrl ? { baseUrl } : {}),
  ]);
  if (settings.subset !== null && !(Number.isInteger(settings.subset) && settings.subset >= 1 && settings.subset <= all.count)) {
    throw new RangeError(`subset ${settings.subset}: use 1 to ${all.count} training images, or all of them.`);
  }
  // As `fmnist train --subset N --seed S` draws it.
  const trainSet = settings.subset !== null ? subset(all, permutation(all.count, settings.seed).subarray(0, settings.subset)) : all;
  if (settings.batchSize > trainSet.count) {
    throw new RangeError(
      `batch size ${settings.batchSize} is larger than the ${trainSet.count} training images: use at most ${trainSet.count}.`,
    );
  }
  const model = createModel({ preset: settings.preset as PresetName, seed: settings.seed });
  const store = idbCheckpointStore(settings, runId);
  if (!resume) await writeRunRecord({ runId, settings, epoch: 0, savedAt: new Date().toISOString(), finished: false });
  const threads = settings.threads ?? Math.max(1, navigator.hardwareConcurrency || 1);
  const steps = Math.ceil(trainSet.count / settings.batchSize);
  let lastPost = 0;
  /** The latest step's figures not yet posted (the throttle skips steps; a stop must not). */
  let unposted: TrainProgress | undefined;
  const flushProgress = () => {
    if (unposted) post({ type: 'progress', progress: unposted });
    unposted = undefined;
  };
  const started = performance.now();
  post({ type: 'state', state: 'running' });
  const history: History = await train({
    model,
    data: { train: trainSet, test },
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    learningRate: settings.learningRate,
    lrSchedule: settings.lrSchedule,
    weightDecay: settings.weightDecay,
    ...(settings.labelSmoothing ? { labelSmoothing: settings.labelSmoothing } : {}),
    ...(settings.augment.shift || settings.augment.flip || settings.augment.erase ? { augment: settings.augment } : {}),
    seed: settings.seed,
    threads,
    kernels: { spawn },
    checkpointStore: store,
    resume,
    signal: controller.signal,
    dataset: { source: `web app: ${baseUrl ?? './data/'}`, sha256: {} },
    callbacks: {
      onBatchEnd(logs) {
        const left = (settings.epochs - logs.epoch) * steps + (logs.batches - logs.batch);
        const stepsPerSecond = logs.imagesPerSecond / settings.batchSize;
        unposted = {
          epoch: logs.epoch,
          epochs: settings.epochs,
          step: logs.batch,
          steps: logs.batches,
          loss: logs.loss,
          meanLoss: logs.meanLoss,
          accuracy: logs.accuracy,
          imagesPerSecond: logs.imagesPerSecond,
          etaSeconds: stepsPerSecond > 0 ? left / stepsPerSecond : Number.POSITIVE_INFINITY,
        };
        const now = performance.now();
        if (now - lastPost < PROGRESS_EVERY_MS && logs.batch !== logs.batches) return;
        lastPost = now;
        flushProgress();
      },
      onEpochEnd(record) {
        post({ type: 'epoch', record });
      },
    },
  });
  // The step the run stopped at (and its checkpoint holds), even when the throttle skipped it.
  flushProgress();
  const trainTimeMs = performance.now() - started;
  if (history.stopReason === 'aborted' && pausing) return { event: { type: 'state', state: 'paused' }, transfer: [] };
  return publish(settings, model, history.finalEvaluation ?? (await evaluateModel(model, test)), {
    epochs: history.epochs,
    stopReason: history.stopReason,
    training: history.training,
    backend: history.backend,
    threads: history.threads,
    trainTimeMs,
  });
}

/** Ends a run: marks the stored record finished and makes the `done` event with everything the page needs. */
async function publish(
  settings: TrainSettings,
  model: FmnistModel,
  evaluation: Evaluation,
  rest: Pick<FinishedRun, 'epochs' | 'stopReason' | 'training' | 'backend' | 'threads' | 'trainTimeMs'>,
): Promise<Ending> {
  const record = await readRunRecord();
  if (!record?.files) throw new FmnistModelError('E_CHECKPOINT_MISSING', 'The run left no checkpoint in IndexedDB; train again.');
  await writeRunRecord({ ...record, finished: true });
  const finished: FinishedRun = {
    settings,
    preset: model.preset as PresetName,
    config: model.config,
    params: model.params,
    evaluation,
    checkpointFiles: record.files,
    // Exported here, off the page's main thread (tens of milliseconds for the Mixers).
    onnx: exportRunOnnx({ checkpointFiles: record.files }),
    ...rest,
  };
  return { event: { type: 'done', run: finished }, transfer: [finished.onnx!.buffer as ArrayBuffer] };
}

/** Finishes the stored (paused) run as its checkpoint has it: no more training, an evaluation, `done`. */
async function finish(runId: string, settings: TrainSettings, baseUrl: string | undefined): Promise<Ending> {
  post({ type: 'state', state: 'loading' });
  const checkpoint = await idbCheckpointStore(settings, runId).load();
  if (!checkpoint) throw new FmnistModelError('E_CHECKPOINT_MISSING', 'There is no stored checkpoint to finish; start a new run.');
  const test = await loadSplitCached('test', baseUrl ? { baseUrl } : {});
  const model = modelFromParams(checkpoint.meta.config, checkpoint.params, checkpoint.meta.preset);
  return publish(settings, model, await evaluateModel(model, test), {
    epochs: checkpoint.meta.history,
    stopReason: 'aborted',
    training: checkpoint.meta.training,
    backend: checkpoint.meta.training.backend,
    threads: checkpoint.meta.training.threads,
    trainTimeMs: 0,
  });
}
