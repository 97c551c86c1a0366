/**
 * The epoch and step loop of `train()`: seeded batch order per epoch, one engine step per batch, live logs, the
 * evaluation after every `evalEvery` epochs (and the last), checkpoints at epoch ends, every `checkpointEvery` steps
 * and when stopping, and the stop checks (abort signal, time budget, non-finite loss).
 */
import { batches, type ExampleSet, type Rng } from '@fmnist/data';
import type { EpochRecord } from './checkpoint';
import type { LossOptions, ParamSet, TrainEngine, UpdateOptions } from './engine';
import { FmnistModelError } from './errors';
import { evaluateWith } from './evaluate-with';
import type { FinalEvaluation, History, TrainCallbacks, TrainOptions } from './train';
import { type CheckpointWriter, EMPTY_PARTIAL, type TrainStart } from './train-checkpoint';

const YIELD_EVERY_MS = 125;

/** Lets other tasks run (timers, messages such as a page's "pause"): `setImmediate` in Node, a macrotask elsewhere. */
const yieldTask: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

/** Everything the loop reads. @internal */
export interface TrainLoopContext {
  engine: TrainEngine;
  data: { train: ExampleSet; test?: ExampleSet };
  numClasses: number;
  epochs: number;
  batchSize: number;
  evalEvery: number;
  augment: TrainOptions['augment'];
  /** The base learning rate (for the NaN message). */
  learningRate: number;
  /** Adam's options for the update after `done` updates (the learning-rate schedule). */
  adamAt: (done: number) => UpdateOptions;
  /** The loss options of every step (absent: plain cross-entropy). */
  loss?: LossOptions;
  rng: Rng;
  start: TrainStart;
  checkpoint: CheckpointWriter;
  /** Where checkpoints go (the store's location), for the NaN message. */
  checkpointLocation?: string;
  checkpointEvery?: number;
  signal?: AbortSignal;
  timeBudgetMs?: number;
  /** `performance.now()` when `train()` was called (the time budget counts from it). */
  startedAt: number;
  callbacks: TrainCallbacks;
}

/** What the loop leaves, updated as it runs (so a failure still leaves the last good parameters). @internal */
export interface TrainLoopState {
  /** Parameters after the last completed step that produced a finite loss: what the model keeps if training fails. */
  lastGood: ParamSet;
  history: EpochRecord[];
  stopReason: History['stopReason'];
  /** The evaluation of `lastGood` on the test set, when `lastGood` is the end of an evaluated epoch. */
  finalEvaluation?: FinalEvaluation;
}

/**
 * Runs the epochs from `ctx.start` up to `ctx.epochs`, or until stopped.
 *
 * @param ctx - the engine, data, options and hooks
 * @param state - updated in place as epochs complete
 * @throws FmnistModelError `E_NAN` when a loss is not finite; whatever a callback throws
 * @internal
 */
export async function runTrainingLoop(ctx: TrainLoopContext, state: TrainLoopState): Promise<void> {
  const { engine, data, epochs, batchSize, rng, callbacks: cb } = ctx;
  let { skipBatches, partial } = ctx.start;
  let stepsDone = ctx.start.optimizerState?.step ?? 0;
  const outOfTime = () => ctx.timeBudgetMs !== undefined && performance.now() - ctx.startedAt >= ctx.timeBudgetMs;
  let lastYield = performance.now();
  for (let epoch = ctx.start.startEpoch; epoch < epochs; epoch++) {
    await cb.onEpochBegin?.(epoch + 1);
    const rngAtEpochStart = rng.getState();
    const order = batches(data.train, { batchSize, shuffle: true, seed: rng, augment: ctx.augment });
    let { lossSum, correct, seen, timeMs } = partial;
    partial = { ...EMPTY_PARTIAL };
    let b = 0;
    for (const batch of order) {
      b++;
      if (b <= skipBatches) continue;
      const t0 = performance.now();
      const { loss, correct: c } = await engine.trainStep(batch.x, batch.y, ctx.adamAt(stepsDone), ctx.loss);
      stepsDone++;
      timeMs += performance.now() - t0;
      if (!Number.isFinite(loss)) {
        throw new FmnistModelError(
          'E_NAN',
          `The training loss became ${loss} at epoch ${epoch + 1}, batch ${b} (learning rate ${ctx.learningRate}). Training stopped; the last good checkpoint${ctx.checkpointLocation ? ` in ${ctx.checkpointLocation}` : ''} is kept. Lower the learning rate or use a preset with a sane init (e.g. patch-mlp).`,
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
        await yieldTask();
        lastYield = performance.now();
      }
      // Mid-epoch checkpoints (the end of an epoch writes its own): when stopping, and every `checkpointEvery` steps.
      const stop = ctx.signal?.aborted || outOfTime();
      const due = ctx.checkpointEvery !== undefined && stepsDone % ctx.checkpointEvery === 0;
      if ((stop || due) && b < order.size) {
        if (stop) {
          state.stopReason = ctx.signal?.aborted ? 'aborted' : 'time-budget';
          state.lastGood = engine.getParams();
          state.finalEvaluation = undefined; // the parameters moved on from the last evaluated epoch
        }
        await ctx.checkpoint(epoch, rngAtEpochStart, state.history, { batch: b, partial: { lossSum, correct, seen, timeMs } });
        if (stop) return;
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
    let evaluation: FinalEvaluation | undefined;
    if (data.test && ((epoch + 1) % ctx.evalEvery === 0 || epoch + 1 === epochs)) {
      evaluation = { ...(await evaluateWith(engine, data.test, ctx.numClasses)), epoch: epoch + 1 };
      record.testLoss = evaluation.loss;
      record.testAccuracy = evaluation.accuracy;
    }
    state.history = [...state.history, record];
    state.lastGood = engine.getParams();
    state.finalEvaluation = evaluation;
    await ctx.checkpoint(epoch + 1, rng.getState(), state.history);
    await cb.onEpochEnd?.(record);
    if (ctx.signal?.aborted || outOfTime()) {
      if (epoch + 1 < epochs) state.stopReason = ctx.signal?.aborted ? 'aborted' : 'time-budget';
      return;
    }
  }
}
