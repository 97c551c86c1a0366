/**
 * Evaluation on an engine: the logits of a whole set in batches of {@link EVAL_BATCH}, scored by `scoreLogits`. The
 * evaluation during training (on the trainer's own engine, in Node or a browser) and `evaluate` (Node, on an engine of
 * its own) share it. Browser-safe.
 */
import { batches, type ExampleSet } from '@fmnist/data';
import type { TrainEngine } from './engine';
import { type Evaluation, scoreLogits } from './score';

/** Images per `predict` call when evaluating. @internal */
export const EVAL_BATCH = 1000;

/**
 * Logits `[set.count, numClasses]` of a set, in batches of {@link EVAL_BATCH}.
 *
 * @param engine - an engine built with `maxBatch` ≥ {@link EVAL_BATCH} (or one that splits larger batches)
 * @param set - the images (only the first `set.count` are used)
 * @param numClasses - the model's classes
 * @internal
 */
export async function predictSet(engine: TrainEngine, set: ExampleSet, numClasses: number): Promise<Float32Array> {
  const logits = new Float32Array(set.count * numClasses);
  for (const b of batches(set, { batchSize: EVAL_BATCH })) {
    logits.set(await engine.predict(b.x), (b.indices[0] as number) * numClasses);
  }
  return logits;
}

/**
 * Evaluates the engine's current parameters on a set (what `train()` does after each evaluated epoch).
 *
 * @param engine - the engine holding the parameters to evaluate
 * @param set - e.g. the test split
 * @param numClasses - the model's classes
 * @returns the {@link Evaluation}
 * @internal
 */
export async function evaluateWith(engine: TrainEngine, set: ExampleSet, numClasses: number): Promise<Evaluation> {
  return scoreLogits(await predictSet(engine, set, numClasses), set.labels.subarray(0, set.count), numClasses);
}
