import { type Augmentation, batches, createRng, type ExampleSet, type RngState } from '@fmnist/data';
import type { BackendName } from './backend';
import type { CheckpointMeta, EpochRecord, StoredCheckpointMeta, TrainingRecord } from './checkpoint';
import { loadCheckpoint, saveCheckpoint } from './checkpoint-node';
import type { LossOptions, OptimizerState, TrainEngine, UpdateOptions } from './engine';
import { createEngine } from './engines';
import { FmnistModelError } from './errors';
import { checkParams, type FmnistModel } from './model';
import { type OptimizerOptions, recordedOptimizerKind, recordOptimizer, resolveOptimizer } from './optimizer';
import { type Evaluation, flipAveragedLogits, scoreLogits } from './score';

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
  /** Seed of the batch order (and of the augmentation). @defaultValue 0 */
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
  /** Where to write a checkpoint after every epoch and when stopping. */
  checkpointDir?: string;
  /**
   * Also write a checkpoint every N optimizer steps within an epoch (exactly resumable), so a crash or kill loses at
   * most N steps instead of the current epoch. Needs `checkpointDir`. @defaultValue only after every epoch
   */
  checkpointEvery?: number;
  /** Continue from the checkpoint in `checkpointDir` (bit-identical to an uninterrupted run on the same engine). */
  resume?: boolean;
  /** Stop (cleanly, with a checkpoint) once this much wall time has passed. */
  timeBudgetMs?: number;
  /** @defaultValue `'auto'` */
  backend?: BackendName;
  /** Threads for the kernels backend. @defaultValue number of CPU cores */
  threads?: number;
  /** Extra fields recorded in the checkpoint (dataset source and checksums). */
  dataset?: CheckpointMeta['dataset'];
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
}

const YIELD_EVERY_MS = 125;
const EVAL_BATCH = 1000;

async function predictSet(engine: TrainEngine, set: ExampleSet, numClasses: number): Promise<Float32Array> {
  const logits = new Float32Array(set.count * numClasses);
  for (const b of batches(set, { batchSize: EVAL_BATCH })) {
    logits.set(await engine.predict(b.x), (b.indices[0] as number) * numClasses);
  }
  return logits;
}

async function evaluateWith(engine: TrainEngine, set: ExampleSet, numClasses: number): Promise<Evaluation> {
  return scoreLogits(await predictSet(engine, set, numClasses), set.labels.subarray(0, set.count), numClasses);
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** @defaultValue `'auto'` */
  backend?: BackendName;
  /** Threads for the `kernels` backend. @defaultValue the number of CPU cores */
  threads?: number;
  /**
   * Test-time augmentation: `'flip'` averages the logits of each image and of its mirror image (`mirrorImages`), at
   * twice the inference cost. Training never uses it; report such accuracies as test-time augmented. @defaultValue `'none'`
   */
  tta?: 'none' | 'flip';
}

/**
 * Evaluates a model on a set: loss, accuracy, confusion matrix and predictions.
 *
 * @param model - the model
 * @param set - e.g. the test split
 * @param options - backend, threads and test-time augmentation
 * @returns the {@link Evaluation}
 * @throws RangeError for an unknown `tta`
 *
 * @example
 * ```ts
 * const { accuracy } = await evaluate(model, test);
 * const flipped = await evaluate(model, test, { tta: 'flip' }); // mixer-m: 90.73 % → 91.18 %
 * ```
 */
export async function evaluate(model: FmnistModel, set: ExampleSet, options: EvaluateOptions = {}): Promise<Evaluation> {
  const { tta = 'none', ...engineOptions } = options;
  if (tta !== 'none' && tta !== 'flip') throw new RangeError(`'tta' must be 'none' or 'flip', got '${tta}'.`);
  const { numClasses } = model.config;
  const engine = await createEngine(model.config, model.params, { ...engineOptions, maxBatch: EVAL_BATCH });
  try {
    const logits =
      tta === 'flip'
        ? await flipAveragedLogits(set.images.subarray(0, set.count * 784), (images) => predictSet(engine, { ...set, images }, numClasses))
        : await predictSet(engine, set, numClasses);
    return scoreLogits(logits, set.labels.subarray(0, set.count), numClasses);
  } finally {
    await engine.dispose();
  }
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`'${name}' must be a positive integer, got ${v}.`);
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
  const started = performance.now();
  const { model, data, epochs } = options;
  const batchSize = options.batchSize ?? 256;
  const seed = options.seed ?? 0;
  const evalEvery = options.evalEvery ?? 1;
  positiveInt('epochs', epochs);
  positiveInt('batchSize', batchSize);
  positiveInt('evalEvery', evalEvery);
  const weightDecay = options.weightDecay ?? 0;
  if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) throw new RangeError(`'weightDecay' must be ≥ 0, got ${weightDecay}.`);
  const adam: UpdateOptions = resolveOptimizer({ ...options, learningRate: options.learningRate ?? 1e-3, weightDecay });
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw new FmnistModelError(
      'E_CONFIG',
      `'labelSmoothing' must be a number in [0, 1), got ${String(labelSmoothing)}. Use e.g. 0.1, or 0 for plain cross-entropy.`,
    );
  }
  const lossOptions: LossOptions | undefined = labelSmoothing ? { labelSmoothing } : undefined;
  if (options.checkpointEvery !== undefined) {
    positiveInt('checkpointEvery', options.checkpointEvery);
    if (!options.checkpointDir) throw new TypeError(`'checkpointEvery' needs 'checkpointDir' (where to write the checkpoints).`);
  }
  if (!(adam.learningRate > 0) || !Number.isFinite(adam.learningRate))
    throw new RangeError(`'learningRate' must be > 0, got ${adam.learningRate}.`);
  const lrSchedule = options.lrSchedule ?? 'constant';
  if (lrSchedule !== 'constant' && lrSchedule !== 'cosine') {
    throw new RangeError(`'lrSchedule' must be 'constant' or 'cosine', got ${JSON.stringify(lrSchedule)}.`);
  }
  if (options.resume && !options.checkpointDir) throw new TypeError(`'resume' needs 'checkpointDir' (where the checkpoint to resume is).`);
  if (data.train.count === 0) throw new RangeError(`'data.train' is empty.`);

  const rng = createRng(seed);
  let startEpoch = 0;
  let skipBatches = 0;
  let partial = { lossSum: 0, correct: 0, seen: 0, timeMs: 0 };
  let history: EpochRecord[] = [];
  let params = model.params;
  let optimizerState: OptimizerState | undefined;
  if (options.resume) {
    const ckpt = await loadCheckpoint(options.checkpointDir as string);
    checkParams(model.config, ckpt.params, `checkpoint in ${options.checkpointDir}`);
    params = ckpt.params;
    optimizerState = ckpt.optimizer;
    const recorded = recordedOptimizerKind(ckpt.meta.training);
    if (recorded !== (adam.kind ?? 'adam')) {
      throw new FmnistModelError(
        'E_CHECKPOINT_MISMATCH',
        `checkpoint in ${options.checkpointDir} was trained with ${recorded}; this run asks for ${adam.kind ?? 'adam'}. Resume with the checkpoint's optimizer (optimizer: { kind: '${recorded}' }).`,
      );
    }
    startEpoch = ckpt.meta.epoch;
    history = ckpt.meta.history;
    rng.setState(ckpt.meta.rng);
    const resumeAt = (ckpt.meta as StoredCheckpointMeta).resumeAt;
    if (resumeAt) {
      // A mid-epoch resume point only means something for the batches it was counted in.
      const recorded = ckpt.meta.training;
      if (recorded.batchSize !== batchSize || recorded.trainExamples !== data.train.count) {
        throw new FmnistModelError(
          'E_CHECKPOINT_MISMATCH',
          `checkpoint in ${options.checkpointDir} stopped at batch ${resumeAt.batch} of an epoch of ${recorded.trainExamples} examples in batches of ${recorded.batchSize}; this run has ${data.train.count} examples in batches of ${batchSize}. Resume with the run's own data and batch size.`,
        );
      }
      skipBatches = resumeAt.batch;
      partial = resumeAt.partial;
    }
  }

  const engine = await createEngine(model.config, params, { backend: options.backend, threads: options.threads, maxBatch: batchSize });
  const { weightDecay: _wd, ...optimizerRecord } = recordOptimizer(adam);
  const training: TrainingRecord = {
    optimizer: optimizerRecord.optimizer,
    learningRate: adam.learningRate,
    ...optimizerRecord,
    ...(weightDecay ? { weightDecay } : {}),
    batchSize,
    epochs,
    seed,
    backend: engine.name,
    threads: engine.threads,
    normalization: 'unit',
    trainExamples: data.train.count,
    lrSchedule,
    ...(labelSmoothing ? { labelSmoothing } : {}),
    ...(options.augment ? { augment: options.augment } : {}),
  };
  const stepsPerEpoch = Math.ceil(data.train.count / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  /** Optimizer options for the update that follows `done` updates. */
  const adamAt = (done: number): UpdateOptions =>
    lrSchedule === 'cosine'
      ? { ...adam, learningRate: adam.learningRate * 0.5 * (1 + Math.cos((Math.PI * Math.min(done, totalSteps)) / totalSteps)) }
      : adam;
  // Parameters after the last completed step that produced a finite loss: what the model keeps if training fails.
  let lastGood = engine.getParams();
  let stopReason: History['stopReason'] = 'completed';
  const cb = options.callbacks ?? {};
  try {
    if (optimizerState) engine.setOptimizerState(optimizerState);
    let stepsDone = optimizerState?.step ?? 0;
    await cb.onTrainBegin?.({ backend: engine.name, threads: engine.threads, startEpoch, epochs });

    const checkpoint = async (epochDone: number, rngAtEpochStart: RngState, resumeAt?: { batch: number; partial: typeof partial }) => {
      if (!options.checkpointDir) return;
      const opt = engine.getOptimizerState();
      const meta: CheckpointMeta & { resumeAt?: typeof resumeAt } = {
        format: 'fmnist-checkpoint',
        version: 1,
        preset: model.preset,
        config: model.config,
        epoch: epochDone,
        step: opt.step,
        rng: rngAtEpochStart,
        training,
        history,
        dataset: options.dataset,
        producer: '@fmnist/model',
        createdAt: new Date().toISOString(),
        ...(resumeAt ? { resumeAt } : {}),
      };
      const path = await saveCheckpoint(options.checkpointDir, { meta, params: engine.getParams(), optimizer: opt });
      await cb.onCheckpoint?.(path);
    };

    let lastYield = performance.now();
    outer: for (let epoch = startEpoch; epoch < epochs; epoch++) {
      await cb.onEpochBegin?.(epoch + 1);
      const rngAtEpochStart = rng.getState();
      const order = batches(data.train, { batchSize, shuffle: true, seed: rng, augment: options.augment });
      let { lossSum, correct, seen, timeMs } = partial;
      partial = { lossSum: 0, correct: 0, seen: 0, timeMs: 0 };
      let b = 0;
      for (const batch of order) {
        b++;
        if (b <= skipBatches) continue;
        const t0 = performance.now();
        const { loss, correct: c } = await engine.trainStep(batch.x, batch.y, adamAt(stepsDone), lossOptions);
        stepsDone++;
        timeMs += performance.now() - t0;
        if (!Number.isFinite(loss)) {
          throw new FmnistModelError(
            'E_NAN',
            `The training loss became ${loss} at epoch ${epoch + 1}, batch ${b} (learning rate ${adam.learningRate}). Training stopped; the last good checkpoint${options.checkpointDir ? ` in ${options.checkpointDir}` : ''} is kept. Lower the learning rate or use a preset with a sane init (e.g. patch-mlp).`,
          );
        }
        lossSum += loss * batch.size;
        correct += c;
        seen += batch.size;
        await cb.onBatchEnd?.({
          epoch: epoch + 1,
          batch: b,
          batches: order.size,
          loss,
          meanLoss: lossSum / seen,
          accuracy: correct / seen,
          imagesPerSecond: (seen / timeMs) * 1000,
        });
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await new Promise((r) => setImmediate(r));
          lastYield = performance.now();
        }
        // Mid-epoch checkpoints (the end of an epoch writes its own): when stopping, and every `checkpointEvery` steps.
        const outOfTime = options.timeBudgetMs !== undefined && performance.now() - started >= options.timeBudgetMs;
        const stop = options.signal?.aborted || outOfTime;
        const due = options.checkpointEvery !== undefined && stepsDone % options.checkpointEvery === 0;
        if ((stop || due) && b < order.size) {
          if (stop) {
            stopReason = options.signal?.aborted ? 'aborted' : 'time-budget';
            lastGood = engine.getParams();
          }
          await checkpoint(epoch, rngAtEpochStart, { batch: b, partial: { lossSum, correct, seen, timeMs } });
          if (stop) break outer;
        }
      }
      skipBatches = 0;
      const record: EpochRecord = {
        epoch: epoch + 1,
        trainLoss: lossSum / seen,
        trainAccuracy: correct / seen,
        timeMs,
        imagesPerSecond: (seen / timeMs) * 1000,
      };
      if (data.test && ((epoch + 1) % evalEvery === 0 || epoch + 1 === epochs)) {
        const ev = await evaluateWith(engine, data.test, model.config.numClasses);
        record.testLoss = ev.loss;
        record.testAccuracy = ev.accuracy;
      }
      history = [...history, record];
      lastGood = engine.getParams();
      await checkpoint(epoch + 1, rng.getState());
      await cb.onEpochEnd?.(record);
      if (options.signal?.aborted || (options.timeBudgetMs !== undefined && performance.now() - started >= options.timeBudgetMs)) {
        if (epoch + 1 < epochs) stopReason = options.signal?.aborted ? 'aborted' : 'time-budget';
        break;
      }
    }
  } finally {
    model.params = lastGood;
    await engine.dispose();
  }
  const result: History = {
    epochs: history,
    loss: history.map((e) => e.trainLoss),
    stopReason,
    backend: engine.name,
    threads: engine.threads,
    training,
    totalTimeMs: performance.now() - started,
  };
  await cb.onTrainEnd?.(result);
  return result;
}
