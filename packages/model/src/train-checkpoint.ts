/**
 * The trainer's checkpoint bookkeeping: what a resumed run starts from (parameters, Adam's state, the epoch, the RNG
 * state and, for a mid-epoch checkpoint, the batch to continue at with the epoch's running sums), and writing a
 * checkpoint of the engine's state at an epoch boundary or mid-epoch.
 */
import type { RngState } from '@fmnist/data';
import type { CheckpointMeta, EpochRecord, StoredCheckpointMeta, TrainingRecord } from './checkpoint';
import type { CheckpointStore } from './checkpoint-store';
import type { OptimizerState, ParamSet, TrainEngine } from './engine';
import { FmnistModelError } from './errors';
import { checkParams, type FmnistModel } from './model';
import { recordedOptimizerKind } from './optimizer';

/** The running sums of an epoch in progress (what a mid-epoch checkpoint stores to continue the epoch's figures). */
export interface EpochPartial {
  lossSum: number;
  correct: number;
  seen: number;
  timeMs: number;
}

/** Where a mid-epoch checkpoint continues: after `batch` batches of the epoch, with its running sums. */
export interface ResumeAt {
  batch: number;
  partial: EpochPartial;
}

/** What training starts from: a fresh model, or a checkpoint. @internal */
export interface TrainStart {
  params: ParamSet;
  optimizerState?: OptimizerState;
  /** Epochs already completed. */
  startEpoch: number;
  /** Batches of epoch `startEpoch + 1` already trained (mid-epoch checkpoint), else 0. */
  skipBatches: number;
  /** The running sums of those batches. */
  partial: EpochPartial;
  /** The records of the completed epochs. */
  history: EpochRecord[];
  /** The RNG state to continue from (absent: a fresh run, seeded by `seed`). */
  rng?: RngState;
  /** The seed of the run's initial weights: the model's `config.seed`, or what the checkpoint records. */
  initSeed: number;
  /** The batch-order seed the checkpoint records (absent: a fresh run). */
  seed?: number;
}

/** The running sums of an epoch before its first batch. @internal */
export const EMPTY_PARTIAL: Readonly<EpochPartial> = Object.freeze({ lossSum: 0, correct: 0, seen: 0, timeMs: 0 });

/**
 * What training starts from: the model's own parameters, or (with `resume`) the checkpoint in the store,
 * checked against the model's config and, for a mid-epoch checkpoint, against this run's data and batch size.
 *
 * @param model - the model to train
 * @param options - `resume`, the checkpoint store, the batch size, number of training examples and optimizer kind of this run
 * @throws FmnistModelError `E_CHECKPOINT_MISMATCH` for a checkpoint of another optimizer or a mid-epoch checkpoint of other
 *   data or batch size, and the
 *   checkpoint reader's errors
 * @internal
 */
export async function loadTrainStart(
  model: FmnistModel,
  options: { resume?: boolean; store?: CheckpointStore; batchSize: number; trainExamples: number; optimizer: 'adam' | 'sgd' },
): Promise<TrainStart> {
  const fresh: TrainStart = {
    params: model.params,
    startEpoch: 0,
    skipBatches: 0,
    partial: { ...EMPTY_PARTIAL },
    history: [],
    initSeed: model.config.seed,
  };
  if (!options.resume) return fresh;
  const store = options.store as CheckpointStore;
  const dir = store.location;
  const ckpt = await store.load();
  if (!ckpt) {
    throw new FmnistModelError(
      'E_CHECKPOINT_MISSING',
      `${dir}: no such checkpoint to resume. Pass the checkpoint directory (or store) of an earlier run, or train without resume.`,
    );
  }
  checkParams(model.config, ckpt.params, `checkpoint in ${dir}`);
  const recordedOptimizer = recordedOptimizerKind(ckpt.meta.training);
  if (recordedOptimizer !== options.optimizer) {
    throw new FmnistModelError(
      'E_CHECKPOINT_MISMATCH',
      `checkpoint in ${dir} was trained with ${recordedOptimizer}; this run asks for ${options.optimizer}. Resume with the checkpoint's optimizer (optimizer: { kind: '${recordedOptimizer}' }).`,
    );
  }
  const start: TrainStart = {
    ...fresh,
    params: ckpt.params,
    optimizerState: ckpt.optimizer,
    startEpoch: ckpt.meta.epoch,
    history: ckpt.meta.history,
    rng: ckpt.meta.rng,
    // The weights came from the checkpoint's run; older checkpoints record their init seed only as `config.seed`.
    initSeed: ckpt.meta.training.initSeed ?? ckpt.meta.config.seed,
    seed: ckpt.meta.training.seed,
  };
  const resumeAt = (ckpt.meta as StoredCheckpointMeta).resumeAt;
  if (resumeAt) {
    // A mid-epoch resume point only means something for the batches it was counted in.
    const recorded = ckpt.meta.training;
    if (recorded.batchSize !== options.batchSize || recorded.trainExamples !== options.trainExamples) {
      throw new FmnistModelError(
        'E_CHECKPOINT_MISMATCH',
        `checkpoint in ${dir} stopped at batch ${resumeAt.batch} of an epoch of ${recorded.trainExamples} examples in batches of ${recorded.batchSize}; this run has ${options.trainExamples} examples in batches of ${options.batchSize}. Resume with the run's own data and batch size.`,
      );
    }
    start.skipBatches = resumeAt.batch;
    start.partial = resumeAt.partial;
  }
  return start;
}

/** Writes one checkpoint of the engine's state. @internal */
export type CheckpointWriter = (epochDone: number, rng: RngState, history: EpochRecord[], resumeAt?: ResumeAt) => Promise<void>;

/**
 * A {@link CheckpointWriter} for a run: a no-op without a store; else each call saves the engine's parameters and
 * optimizer state with the run's record (atomically, by the store) and then calls `onCheckpoint` with where it went.
 *
 * @param options - the store, the model, the training record, the dataset record, the engine and the hook
 * @internal
 */
export function createCheckpointWriter(options: {
  store?: CheckpointStore;
  model: FmnistModel;
  training: TrainingRecord;
  dataset?: CheckpointMeta['dataset'];
  engine: TrainEngine;
  onCheckpoint?: (path: string) => void | Promise<void>;
}): CheckpointWriter {
  const { store, model, training, dataset, engine, onCheckpoint } = options;
  return async (epochDone, rng, history, resumeAt) => {
    if (!store) return;
    const opt = engine.getOptimizerState();
    const meta: CheckpointMeta & { resumeAt?: ResumeAt } = {
      format: 'fmnist-checkpoint',
      version: 1,
      preset: model.preset,
      config: model.config,
      epoch: epochDone,
      step: opt.step,
      rng,
      training,
      history,
      dataset,
      producer: '@fmnist/model',
      createdAt: new Date().toISOString(),
      ...(resumeAt ? { resumeAt } : {}),
    };
    const path = await store.save({ meta, params: engine.getParams(), optimizer: opt });
    await onCheckpoint?.(path);
  };
}
