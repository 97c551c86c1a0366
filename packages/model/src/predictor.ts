import type { ModelConfig } from './config';
import type { ParamSet } from './engine';
import { FmnistModelError } from './errors';
import { DEFAULT_MAX_BATCH, IMAGE_PIXELS, KernelCore, NUM_CLASSES, resolveMaxBatch } from './kernels/core';
import { mixerModel } from './kernels/mixer-model';
import { checkParams } from './model';

/** Options of {@link createPredictor}. */
export interface PredictorOptions {
  /**
   * Images per kernel call; sets the memory the predictor holds (about 0.24 MB per image for the patch-MLP) and
   * larger inputs are run in chunks of this size. @defaultValue 256
   */
  maxBatch?: number;
}

/** A model's forward pass on the WebAssembly-SIMD kernels, in the calling thread. */
export interface Predictor {
  /** The model's config. */
  readonly config: ModelConfig;
  /** Images per kernel call. */
  readonly maxBatch: number;
  /**
   * Logits of `n` images.
   *
   * @param x - at least `n × 784` floats (pixels / 255), image after image
   * @param n - images to run @defaultValue `x.length / 784`
   * @returns `n × 10` logits (a new array)
   * @throws RangeError when `x` holds fewer than `n` images or `n` is not a non-negative integer
   */
  predict(x: Float32Array, n?: number): Float32Array;
  /**
   * Replaces the weights (same config).
   * @throws FmnistModelError `E_CHECKPOINT_MISMATCH` for missing or wrongly sized tensors
   */
  setParams(params: ParamSet): void;
}

/**
 * Loads a model into the WebAssembly-SIMD kernels for inference in the calling thread — the same kernels `train()`
 * uses, without TensorFlow.js, workers or Node built-ins, so it runs in browsers and web workers too (for several
 * cores, create one predictor per worker and split the images). Every config, the patch-MLP included, runs on the
 * same kernels module.
 *
 * @param model - a config and its parameters, e.g. an `FmnistModel`, a loaded checkpoint or `readOnnxWeights(bytes)`
 * @param options - `maxBatch`
 * @returns a ready predictor
 * @throws FmnistModelError `E_BACKEND` without WebAssembly SIMD or for a model with other than 10 classes;
 *   `E_CHECKPOINT_MISMATCH` when the parameters do not fit the config
 *
 * @example
 * ```ts
 * import { createModel, createPredictor } from '@fmnist/model/core';
 *
 * const predictor = await createPredictor(createModel('patch-mlp'));
 * const logits = predictor.predict(new Float32Array(2 * 784)); // Float32Array(20): 10 logits per image
 * ```
 */
export async function createPredictor(
  model: { config: ModelConfig; params: ParamSet },
  options: PredictorOptions = {},
): Promise<Predictor> {
  const { config } = model;
  if (config.numClasses !== NUM_CLASSES) {
    throw new FmnistModelError(
      'E_BACKEND',
      `The wasm-simd kernels support 10 classes, this model has numClasses ${config.numClasses}; run it with TensorFlow.js (createEngine) or onnxruntime instead.`,
    );
  }
  checkParams(config, model.params, 'parameters');
  const maxBatch = resolveMaxBatch(options.maxBatch ?? DEFAULT_MAX_BATCH);
  const core = await KernelCore.create(mixerModel(config), maxBatch);
  core.setParams(model.params);
  return {
    config,
    maxBatch,
    setParams(params) {
      checkParams(config, params, 'parameters');
      core.setParams(params);
    },
    predict(x, n = Math.floor(x.length / IMAGE_PIXELS)) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`'n' must be a non-negative integer, got ${n}.`);
      if (x.length < n * IMAGE_PIXELS) {
        throw new RangeError(`x holds ${Math.floor(x.length / IMAGE_PIXELS)} images (${x.length} floats), fewer than n = ${n}.`);
      }
      const logits = new Float32Array(n * NUM_CLASSES);
      for (let start = 0; start < n; start += maxBatch) {
        const count = Math.min(maxBatch, n - start);
        core.loadInputs(x, undefined, start, count);
        logits.set(core.forward(count), start * NUM_CLASSES);
      }
      return logits;
    },
  };
}
