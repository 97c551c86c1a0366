/**
 * `train` of `@fmnist/model/core`: the same trainer as Node's `train` (train-run.ts), on the WebAssembly-SIMD kernels
 * with web workers for the other shards of each batch (`kernels.spawn`), and checkpoints in any
 * {@link CheckpointStore}. No Node built-ins, no TensorFlow.js: it runs in a browser's worker, Deno or Bun as well.
 */
import { FmnistModelError } from './errors';
import { resolveThreads } from './kernels/core';
import { startKernelEngine } from './kernels/engine-impl';
import { mixerModel } from './kernels/mixer-model';
import { browserWorkerPool } from './kernels/pool-browser';
import type { History, TrainOptions } from './train';
import { runTrain } from './train-run';

/** Threads of a browser run: `options.threads`, else every core when workers can be spawned, else 1. */
function browserThreads(options: TrainOptions): number {
  if (options.threads !== undefined) return options.threads;
  if (!options.kernels?.spawn) return 1;
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Number.isInteger(cores) && (cores as number) > 0 ? (cores as number) : 1;
}

/**
 * Trains a model on the WebAssembly-SIMD kernels, anywhere JavaScript runs: the trainer of `@fmnist/model`'s `train`
 * (same options, same results bit for bit for the same kernels build and threads), with its checkpoints in
 * `checkpointStore`. Run it in a web worker, not on a page's main thread: each step computes for tens of milliseconds.
 * With `kernels.spawn` the other shards of each batch go to web workers (`runKernelsWorker`), over shared memory when
 * the page is cross-origin isolated and by messages when it is not.
 *
 * @param options - {@link TrainOptions}; `checkpointDir` and the TensorFlow.js backends are Node's (`@fmnist/model`)
 * @returns the {@link History}
 * @throws FmnistModelError `E_BACKEND` for a backend other than `auto`/`kernels` or a `checkpointDir`, `E_NAN` when the
 *   loss becomes NaN/∞, checkpoint errors on `resume`; RangeError for `threads > 1` without `kernels.spawn`
 *
 * @example
 * ```ts
 * // in a web worker
 * import { createModel, memoryCheckpointStore, train } from '@fmnist/model/core';
 * const spawn = () => new Worker(new URL('./kernels-worker.js', import.meta.url), { type: 'module' });
 * const history = await train({ model: createModel('patch-mlp'), data: { train, test }, epochs: 1, kernels: { spawn } });
 * ```
 */
export function train(options: TrainOptions): Promise<History> {
  const backend = options.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'kernels') {
    return Promise.reject(
      new FmnistModelError(
        'E_BACKEND',
        `backend '${backend}' is TensorFlow.js, which @fmnist/model/core's train does not load; use backend 'kernels' (or 'auto'), or import { train } from '@fmnist/model' in Node.`,
      ),
    );
  }
  if (options.checkpointDir !== undefined) {
    return Promise.reject(
      new FmnistModelError(
        'E_BACKEND',
        `'checkpointDir' (${options.checkpointDir}) needs Node's file system; with @fmnist/model/core pass a 'checkpointStore' instead (e.g. memoryCheckpointStore()), or import { train } from '@fmnist/model' in Node.`,
      ),
    );
  }
  let threads: number;
  try {
    threads = resolveThreads(browserThreads(options));
  } catch (err) {
    return Promise.reject(err);
  }
  const spawn = options.kernels?.spawn;
  return runTrain(options, {
    createEngine: (config, params, { maxBatch }) => {
      if (config.numClasses !== 10) {
        throw new FmnistModelError('E_BACKEND', `the kernels support only 10 classes (got numClasses ${config.numClasses}).`);
      }
      return startKernelEngine(mixerModel(config), {
        threads,
        maxBatch,
        params,
        pool: spawn ? browserWorkerPool(spawn, options.kernels?.transport) : undefined,
      });
    },
    store: options.checkpointStore,
  });
}
