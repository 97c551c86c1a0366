/** Running a model over many test images in batches, reusing one input buffer. DOM-free (the engine is an interface). */

import { toModelInput } from '@fmnist/classify';
import { IMAGE_PIXELS } from '@fmnist/data';
import { argmaxRows } from './metrics';

/**
 * Images per run when evaluating, unless the engine prefers another size: large enough to amortise the call, small
 * enough to stay in cache (the token-mixing activations of 500 images are 33 MB) and to update the progress bar often.
 * For onnxruntime-web, 500 was the fastest or tied of 100–2,000 in `bench/app.mjs`.
 */
export const EVAL_BATCH = 500;

/** Default of {@link PredictAllOptions.yieldEveryMs}: about 10 page updates per second. */
export const YIELD_EVERY_MS = 100;

/** The part of an engine that {@link predictAll} needs. */
export interface BatchRunner {
  run(x: Float32Array, n: number): Promise<Float32Array>;
  /** Images per run this engine is fastest with (default {@link EVAL_BATCH}). */
  readonly preferredBatch?: number;
}

/** Options of {@link predictAll}. */
export interface PredictAllOptions {
  /** Images per run. @defaultValue the runner's `preferredBatch`, else {@link EVAL_BATCH} */
  batchSize?: number;
  /** Called after each batch with images done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Awaited between batches (e.g. to let the page repaint), at most every `yieldEveryMs`. */
  yieldBetween?: () => Promise<void>;
  /**
   * Minimum time between two `yieldBetween` calls: often enough for a live progress bar and input, rarely enough that
   * repaints do not slow the run. @defaultValue {@link YIELD_EVERY_MS}
   */
  yieldEveryMs?: number;
  /** Stops after the current batch; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Result of {@link predictAll}. */
export interface Predictions {
  /** `count × classes` probabilities. */
  probabilities: Float32Array;
  /** Predicted class per image. */
  predicted: Uint8Array;
  /** Wall time of the runs, in milliseconds (preprocessing and yields included). */
  ms: number;
  /** Classes per image. */
  classes: number;
}

/**
 * Class probabilities and predictions for every image in `images` (784 bytes each), in batches.
 *
 * @param runner - an engine
 * @param images - `count × 784` bytes
 * @param classes - classes the model outputs
 * @param options - `batchSize`, `onProgress`, `yieldBetween`, `signal`
 * @returns probabilities, predictions and the time taken
 *
 * @example
 * ```ts
 * const { predicted, ms } = await predictAll(engine, test.images, 10, { onProgress: (d, n) => (bar.value = d / n) });
 * ```
 */
export async function predictAll(
  runner: BatchRunner,
  images: Uint8Array,
  classes: number,
  options: PredictAllOptions = {},
): Promise<Predictions> {
  const batch = options.batchSize ?? runner.preferredBatch ?? EVAL_BATCH;
  if (!Number.isInteger(batch) || batch <= 0) throw new RangeError(`'batchSize' must be a positive integer, got ${batch}.`);
  const count = images.length / IMAGE_PIXELS;
  const probabilities = new Float32Array(count * classes);
  const input = new Float32Array(Math.min(batch, count) * IMAGE_PIXELS);
  const yieldEveryMs = options.yieldEveryMs ?? YIELD_EVERY_MS;
  const started = performance.now();
  let lastYield = started;
  for (let start = 0; start < count; start += batch) {
    options.signal?.throwIfAborted();
    const n = Math.min(batch, count - start);
    toModelInput(images.subarray(start * IMAGE_PIXELS, (start + n) * IMAGE_PIXELS), input, 0);
    probabilities.set(await runner.run(input, n), start * classes);
    options.onProgress?.(start + n, count);
    if (options.yieldBetween && start + n < count && performance.now() - lastYield >= yieldEveryMs) {
      await options.yieldBetween();
      lastYield = performance.now();
    }
  }
  const ms = performance.now() - started;
  return { probabilities, predicted: argmaxRows(probabilities, classes), ms, classes };
}
