/**
 * `train()`: its options, hooks and result, and the function that ties the parts together — options
 * (`train-options.ts`), the start point and checkpoints (`train-checkpoint.ts`), the learning-rate schedule
 * (`lr-schedule.ts`), the epoch loop with its evaluations (`train-loop.ts`, `evaluate.ts`).
 */
import type { Augmentation, ExampleSet } from '@fmnist/data';
import type { BackendName } from './backend';
import type { CheckpointMeta, EpochRecord, TrainingRecord } from './checkpoint';
import { directoryCheckpointStore } from './checkpoint-node';
import type { CheckpointStore } from './checkpoint-store';
import { createEngine } from './engines';
import type { KernelsTransport, SpawnKernelsWorker } from './kernels/pool-browser';
import type { FmnistModel } from './model';
import type { OptimizerOptions } from './optimizer';
import type { Evaluation } from './score';
import { runTrain } from './train-run';

/** Live numbers after each batch. */
export interface BatchLogs {
  /** 1-based epoch. */
  epoch: number;
  /** 1-based batch within the epoch. */
  batch: number;
  /** Batches in this epoch. */
  batches: number;
  /** This batch's loss. */
  loss: number;
  /** Mean loss so far this epoch. */
  meanLoss: number;
  /** Accuracy so far this epoch. */
  accuracy: number;
  /** Images per second so far this epoch. */
  imagesPerSecond: number;
}

/** Hooks called during training; each may be async and is awaited. */
export interface TrainCallbacks {
  onTrainBegin?(info: { backend: string; threads: number; startEpoch: number; epochs: number }): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onBatchEnd?(logs: BatchLogs): void | Promise<void>;
  onEpochEnd?(record: EpochRecord): void | Promise<void>;
  onCheckpoint?(path: string): void | Promise<void>;
  onTrainEnd?(history: History): void | Promise<void>;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** The model to train; its `params` are updated when training ends (or stops). */
  model: FmnistModel;
  /** Training set, and the test set evaluated every `evalEvery` epochs. */
  data: { train: ExampleSet; test?: ExampleSet };
  /** Total epochs (a resumed run continues up to this number). */
  epochs: number;
  /** @defaultValue 256 */
  batchSize?: number;
  /**
   * The optimizer: `{ kind: 'adam', beta1?, beta2?, epsilon? }` (PyTorch's `Adam`/`AdamW`) or
   * `{ kind: 'sgd', momentum?, dampening?, nesterov? }` (PyTorch's `SGD`, momentum 0.9 unless given); see
   * {@link OptimizerOptions}. Recorded in the checkpoint; a resumed run must use the checkpoint's optimizer.
   * @defaultValue Adam
   */
  optimizer?: OptimizerOptions;
  /** Learning rate (the peak with a schedule). @defaultValue 0.001 */
  learningRate?: number;
  /** Adam β1 (also `optimizer.beta1`). @defaultValue 0.9 */
  beta1?: number;
  /** Adam β2 (also `optimizer.beta2`). @defaultValue 0.999 */
  beta2?: number;
  /** Adam ε, PyTorch's default (tfjs's own default is 1e-7) (also `optimizer.epsilon`). @defaultValue 1e-8 */
  epsilon?: number;
  /**
   * Weight decay on the Linear weight matrices (biases and LayerNorm parameters are not decayed), with PyTorch's
   * semantics for each optimizer: decoupled for Adam (`torch.optim.AdamW`: weights scaled by `1 − lr·wd` before the
   * update), coupled for SGD (`torch.optim.SGD`'s `weight_decay`: `wd·p` added to the gradient). @defaultValue 0
   */
  weightDecay?: number;
  /**
   * Label smoothing ε in [0, 1) of the training loss, PyTorch's `CrossEntropyLoss(label_smoothing=ε)`: the target is
   * `(1 − ε)·onehot + ε / classes`. The reported training loss is the smoothed one; test loss stays plain
   * cross-entropy. Recorded in the checkpoint. @defaultValue 0
   */
  labelSmoothing?: number;
  /**
   * Seed of the batch order (and of the augmentation). The initial weights are the model's: `createModel` draws them
   * from its config's `seed`, so to seed a whole run with one number, as `torch.manual_seed(n)` does, create the model
   * with `createModel({ preset, seed: n })`; `train()` then uses that same `n` for the batch order unless `seed` says
   * otherwise. Both are recorded (`History.training.seed`, `History.training.initSeed`). A `resume` continues the
   * checkpoint's random state whatever `seed` is. @defaultValue the model's `config.seed` (0 for a preset); on `resume`,
   * the checkpoint's
   */
  seed?: number;
  /**
   * Learning-rate schedule: `constant` (the coursework), or `cosine` — annealed per step from `learningRate` to 0 over
   * all `epochs`. @defaultValue `'constant'`
   */
  lrSchedule?: 'constant' | 'cosine';
  /**
   * Training-time augmentation (`@fmnist/data`'s {@link Augmentation}): random shifts of up to `shift` pixels, random
   * left–right flips, Random Erasing with probability `erase`. @defaultValue none
   */
  augment?: Augmentation;
  /** Evaluate on `data.test` every N epochs (and always after the last). @defaultValue 1 */
  evalEvery?: number;
  callbacks?: TrainCallbacks;
  /** Stops training at the next batch boundary; a checkpoint is written first when `checkpointDir` is set. */
  signal?: AbortSignal;
  /**
   * Where to write a checkpoint after every epoch and when stopping (Node's `train` only; the same as
   * `checkpointStore: directoryCheckpointStore(dir)`).
   */
  checkpointDir?: string;
  /**
   * Where to write the checkpoints and read the one to `resume`, when not a directory: any {@link CheckpointStore}
   * (IndexedDB in a page, `memoryCheckpointStore()` …). Not with `checkpointDir`.
   */
  checkpointStore?: CheckpointStore;
  /**
   * Also write a checkpoint every N optimizer steps within an epoch (exactly resumable), so a crash or kill loses at
   * most N steps instead of the current epoch. Needs `checkpointDir`. @defaultValue only after every epoch
   */
  checkpointEvery?: number;
  /** Continue from the checkpoint in `checkpointDir` or `checkpointStore` (bit-identical to an uninterrupted run on the same engine). */
  resume?: boolean;
  /** Stop (cleanly, with a checkpoint) once this much wall time has passed. */
  timeBudgetMs?: number;
  /** @defaultValue `'auto'` */
  backend?: BackendName;
  /**
   * Threads for the kernels backend. @defaultValue the number of CPU cores (Node); in `@fmnist/model/core`'s `train`,
   * `navigator.hardwareConcurrency` with `kernels.spawn`, else 1
   */
  threads?: number;
  /**
   * The browser's kernels workers (`train` of `@fmnist/model/core`; Node's `train` uses worker threads and ignores
   * this): `spawn` starts one web worker running `runKernelsWorker()`, and `transport` says how the engine talks to
   * them — `shared` memory (a cross-origin isolated page), `message`s (any page), or `auto` (the default): shared
   * when the page is isolated. Without `spawn` the run has one thread.
   */
  kernels?: { spawn?: SpawnKernelsWorker; transport?: KernelsTransport };
  /** Extra fields recorded in the checkpoint (dataset source and checksums). */
  dataset?: CheckpointMeta['dataset'];
}

/**
 * The evaluation on `data.test` that `train()` ran after the last epoch it completed: loss, accuracy, confusion matrix
 * and the predicted class of every test image, for the parameters the model is left with.
 */
export interface FinalEvaluation extends Evaluation {
  /** The 1-based epoch after which it was computed (the last of {@link History.epochs}). */
  epoch: number;
}

/** The result of {@link train}. */
export interface History {
  /** One record per epoch run (a resumed run includes the earlier epochs). */
  epochs: EpochRecord[];
  /** Training loss per epoch (same as `epochs.map(e => e.trainLoss)`). */
  loss: number[];
  /** Why training ended. */
  stopReason: 'completed' | 'aborted' | 'time-budget';
  /** Engine used, e.g. `kernels` or `tfjs-wasm`. */
  backend: string;
  threads: number;
  /** Hyperparameters, as stored in checkpoints. */
  training: TrainingRecord;
  /** Wall time of this call. */
  totalTimeMs: number;
  /**
   * The test-set evaluation of the parameters `train()` leaves in `model.params` (so no second evaluation is needed
   * for a report). Absent when those parameters were not evaluated: no `data.test`, the last epoch run was not one of
   * the `evalEvery` epochs, training stopped mid-epoch (`signal`, `timeBudgetMs`), or a resumed run had no epoch
   * left to train. Then call `evaluate(model, data.test)`.
   */
  finalEvaluation?: FinalEvaluation;
}

/**
 * Trains a model with Adam and softmax cross-entropy, reshuffling the batches every epoch with a seeded RNG.
 * Deterministic: the same seed and engine give the same history. Writes a checkpoint after every epoch (and when
 * stopped by `signal` or `timeBudgetMs`) when `checkpointDir` is set, and can `resume` from it exactly.
 *
 * @param options - see {@link TrainOptions}
 * @returns the {@link History}
 * @throws FmnistModelError `E_NAN` when the loss becomes NaN/∞ (the last good checkpoint is kept), `E_BACKEND`,
 *   checkpoint errors on `resume`
 *
 * @example
 * ```ts
 * const { train: trainSet, test } = await loadFashionMnist();
 * const model = createModel('patch-mlp');
 * const history = await train({ model, data: { train: trainSet, test }, epochs: 3 });
 * history.epochs.at(-1)?.testAccuracy; // 0.8179 here
 * ```
 */
export async function train(options: TrainOptions): Promise<History> {
  const { checkpointDir } = options;
  return runTrain(options, {
    createEngine: (config, params, { maxBatch }) =>
      createEngine(config, params, { backend: options.backend, threads: options.threads, maxBatch }),
    store: options.checkpointStore ?? (checkpointDir !== undefined ? directoryCheckpointStore(checkpointDir) : undefined),
  });
}
