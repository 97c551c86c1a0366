/**
 * Evaluation: the logits of a whole set in batches of {@link EVAL_BATCH}, scored by `scoreLogits`. One code path for
 * the evaluation during training (on the trainer's own engine) and for {@link evaluate} (on an engine of its own).
 */
import { batches, type ExampleSet } from '@fmnist/data';
import type { BackendName } from './backend';
import type { TrainEngine } from './engine';
import { createEngine } from './engines';
import type { FmnistModel } from './model';
import { type Evaluation, flipAveragedLogits, scoreLogits } from './score';

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
