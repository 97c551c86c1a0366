/**
 * The body of `train()`, runtime-agnostic: the engine and the checkpoint store come from a {@link TrainRuntime} —
 * Node's (`train` of `@fmnist/model`: any backend, worker threads, a checkpoint directory) or the browser's (`train`
 * of `@fmnist/model/core`: the kernels in web workers, any {@link CheckpointStore}). No Node built-ins.
 */
import { createRng } from '@fmnist/data';
import type { CheckpointStore } from './checkpoint-store';
import type { ModelConfig } from './config';
import { optimizerKind, type ParamSet, type TrainEngine } from './engine';
import { createLrSchedule } from './lr-schedule';
import type { History, TrainOptions } from './train';
import { createCheckpointWriter, loadTrainStart } from './train-checkpoint';
import { runTrainingLoop, type TrainLoopState } from './train-loop';
import { resolveTrainOptions, trainingRecordOf } from './train-options';

/** What a runtime gives `train()`: its engine, and where checkpoints go. @internal */
export interface TrainRuntime {
  /** Starts the engine holding `params` for batches of up to `maxBatch`. */
  createEngine(config: ModelConfig, params: ParamSet, options: { maxBatch: number }): Promise<TrainEngine>;
  /** Where checkpoints are written and `resume` reads (absent: no checkpoints). */
  store?: CheckpointStore | undefined;
}

/**
 * Trains as `train()` documents, on the runtime's engine and store.
 * @internal
 */
export async function runTrain(options: TrainOptions, runtime: TrainRuntime): Promise<History> {
  const started = performance.now();
  const { model, data, epochs } = options;
  const resolved = resolveTrainOptions(options);
  const { batchSize } = resolved;
  const rng = createRng(resolved.seed);
  const { store } = runtime;
  const start = await loadTrainStart(model, {
    resume: options.resume,
    store,
    batchSize,
    trainExamples: data.train.count,
    optimizer: optimizerKind(resolved.adam),
  });
  if (start.rng) rng.setState(start.rng);
  // A resumed run continues the checkpoint's RNG: without a `seed`, it records the checkpoint's.
  const seed = options.seed ?? start.seed ?? resolved.seed;

  const engine = await runtime.createEngine(model.config, start.params, { maxBatch: batchSize });
  const training = trainingRecordOf(options, { ...resolved, seed }, engine, start.initSeed);
  const totalSteps = Math.ceil(data.train.count / batchSize) * epochs;
  const state: TrainLoopState = { lastGood: engine.getParams(), history: start.history, stopReason: 'completed' };
  const cb = options.callbacks ?? {};
  try {
    if (start.optimizerState) engine.setOptimizerState(start.optimizerState);
    await cb.onTrainBegin?.({ backend: engine.name, threads: engine.threads, startEpoch: start.startEpoch, epochs });
    await runTrainingLoop(
      {
        engine,
        data,
        numClasses: model.config.numClasses,
        epochs,
        batchSize,
        evalEvery: resolved.evalEvery,
        augment: options.augment,
        learningRate: resolved.adam.learningRate,
        adamAt: createLrSchedule(resolved.lrSchedule, resolved.adam, totalSteps),
        ...(resolved.loss ? { loss: resolved.loss } : {}),
        rng,
        start,
        checkpoint: createCheckpointWriter({
          store,
          model,
          training,
          dataset: options.dataset,
          engine,
          onCheckpoint: cb.onCheckpoint,
        }),
        checkpointLocation: store?.location,
        checkpointEvery: options.checkpointEvery,
        signal: options.signal,
        timeBudgetMs: options.timeBudgetMs,
        startedAt: started,
        callbacks: cb,
      },
      state,
    );
  } finally {
    model.params = state.lastGood;
    await engine.dispose();
  }
  const result: History = {
    epochs: state.history,
    loss: state.history.map((e) => e.trainLoss),
    stopReason: state.stopReason,
    backend: engine.name,
    threads: engine.threads,
    training,
    totalTimeMs: performance.now() - started,
    ...(state.finalEvaluation ? { finalEvaluation: state.finalEvaluation } : {}),
  };
  await cb.onTrainEnd?.(result);
  return result;
}
