/** `train()`'s options checked and completed with their defaults, in one place, before anything is read or built. */
import type { TrainingRecord } from './checkpoint';
import type { LossOptions, UpdateOptions } from './engine';
import { FmnistModelError } from './errors';
import type { LrScheduleName } from './lr-schedule';
import { recordOptimizer, resolveOptimizer } from './optimizer';
import type { TrainOptions } from './train';

/** {@link TrainOptions} with every default filled in and every value checked. @internal */
export interface ResolvedTrainOptions {
  batchSize: number;
  seed: number;
  evalEvery: number;
  /** The optimizer's options before any schedule (`learningRate` is the base rate). */
  adam: UpdateOptions;
  /** The loss options of every step (absent: plain cross-entropy). */
  loss?: LossOptions;
  lrSchedule: LrScheduleName;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`'${name}' must be a positive integer, got ${v}.`);
}

/**
 * Checks `train()`'s options and fills in the defaults.
 *
 * @param options - as passed to `train()`
 * @returns the resolved values
 * @throws RangeError for a value out of range, TypeError for an option that needs another (`resume`, `checkpointEvery`)
 * @internal
 */
export function resolveTrainOptions(options: TrainOptions): ResolvedTrainOptions {
  const { data, epochs } = options;
  const batchSize = options.batchSize ?? 256;
  const seed = options.seed ?? options.model.config.seed;
  const evalEvery = options.evalEvery ?? 1;
  positiveInt('epochs', epochs);
  positiveInt('batchSize', batchSize);
  positiveInt('evalEvery', evalEvery);
  const weightDecay = options.weightDecay ?? 0;
  // The bounds a checkpoint's record is read back with (checkpoint.ts): a run never writes a checkpoint it cannot resume.
  if (!(weightDecay >= 0) || !Number.isFinite(weightDecay))
    throw new RangeError(`'weightDecay' must be a finite number ≥ 0, got ${weightDecay}.`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`'seed' must be a safe integer, got ${seed}.`);
  const adam: UpdateOptions = resolveOptimizer({ ...options, learningRate: options.learningRate ?? 1e-3, weightDecay });
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw new FmnistModelError(
      'E_CONFIG',
      `'labelSmoothing' must be a number in [0, 1), got ${String(labelSmoothing)}. Use e.g. 0.1, or 0 for plain cross-entropy.`,
    );
  }
  if (options.checkpointEvery !== undefined) {
    positiveInt('checkpointEvery', options.checkpointEvery);
    if (!options.checkpointDir && !options.checkpointStore)
      throw new TypeError(`'checkpointEvery' needs 'checkpointDir' or 'checkpointStore' (where to write the checkpoints).`);
  }
  if (!(adam.learningRate > 0) || !Number.isFinite(adam.learningRate))
    throw new RangeError(`'learningRate' must be a finite number > 0, got ${adam.learningRate}.`);
  const lrSchedule = options.lrSchedule ?? 'constant';
  if (lrSchedule !== 'constant' && lrSchedule !== 'cosine') {
    throw new RangeError(`'lrSchedule' must be 'constant' or 'cosine', got ${JSON.stringify(lrSchedule)}.`);
  }
  if (options.checkpointDir === '')
    throw new TypeError(
      `'checkpointDir' is empty; pass the directory to write the checkpoints to (e.g. runs/NAME/checkpoint), or leave it out.`,
    );
  if (options.checkpointDir !== undefined && options.checkpointStore !== undefined)
    throw new TypeError(`Pass 'checkpointDir' or 'checkpointStore', not both.`);
  if (options.resume && !options.checkpointDir && !options.checkpointStore)
    throw new TypeError(`'resume' needs 'checkpointDir' or 'checkpointStore' (where the checkpoint to resume is).`);
  if (data.train.count === 0) throw new RangeError(`'data.train' is empty.`);
  // Its evaluation would be NaN, which a checkpoint cannot hold (JSON writes null; the schema refuses it on resume).
  if (data.test && data.test.count === 0) throw new RangeError(`'data.test' is empty; pass test images, or leave 'data.test' out.`);
  return { batchSize, seed, evalEvery, adam, lrSchedule, ...(labelSmoothing ? { loss: { labelSmoothing } } : {}) };
}

/**
 * The hyperparameters and environment recorded in checkpoints and returned in `History.training`.
 *
 * @param options - `train()`'s options
 * @param resolved - their {@link resolveTrainOptions} values
 * @param engine - the engine that runs the training
 * @param initSeed - the seed of the run's initial weights
 * @internal
 */
export function trainingRecordOf(
  options: TrainOptions,
  resolved: ResolvedTrainOptions,
  engine: { readonly name: string; readonly threads: number },
  initSeed: number,
): TrainingRecord {
  const { weightDecay, ...optimizerRecord } = recordOptimizer(resolved.adam);
  return {
    optimizer: optimizerRecord.optimizer,
    learningRate: resolved.adam.learningRate,
    ...optimizerRecord,
    ...(weightDecay ? { weightDecay } : {}),
    batchSize: resolved.batchSize,
    epochs: options.epochs,
    seed: resolved.seed,
    initSeed,
    backend: engine.name,
    threads: engine.threads,
    normalization: 'unit',
    trainExamples: options.data.train.count,
    lrSchedule: resolved.lrSchedule,
    ...(resolved.loss ? { labelSmoothing: resolved.loss.labelSmoothing } : {}),
    ...(options.augment ? { augment: options.augment } : {}),
  };
}
