import type { TrainEngine } from '../engine';
import { resolveMaxBatch, resolveThreads } from './core';
import { startKernelEngine } from './engine-impl';
import type { KernelEngineOptions } from './kernel-engine';
import { PATCH_MLP } from './patch-mlp-model';

/** Options of {@link createParallelKernelEngine}. */
export interface ParallelKernelEngineOptions extends KernelEngineOptions {
  /** Threads doing the math, the calling thread included. @defaultValue `os.availableParallelism()` */
  threads?: number;
}

/**
 * The WebAssembly-SIMD kernel engine, data-parallel over `node:worker_threads` (Node only): each batch is split into
 * one shard per thread (the calling thread computes the first), the shards' gradients are summed through a
 * SharedArrayBuffer in a fixed order and ONE Adam update is applied, so all threads always use the same weights.
 * Results equal {@link createKernelEngine}'s up to float summation order (~1e-6) and are bit-identical run to run for
 * a given thread count. Batches below 16 images run on the calling thread; `predict` is split the same way.
 *
 * @param options - `threads` (default: available parallelism), `maxBatch` (default 256) and initial `params`
 * @returns the engine; call `dispose()` to stop its workers (idle workers do not keep the process alive)
 * @throws RangeError for a bad `threads` or `maxBatch`; FmnistModelError `E_BACKEND` without WebAssembly SIMD
 *
 * @example
 * ```ts
 * const engine = await createParallelKernelEngine({ threads: 2, params });
 * try {
 *   await engine.trainStep(x, y, adam);
 * } finally {
 *   await engine.dispose();
 * }
 * ```
 * @internal
 */
export async function createParallelKernelEngine(options: ParallelKernelEngineOptions = {}): Promise<TrainEngine> {
  const maxBatch = resolveMaxBatch(options.maxBatch);
  const threads = resolveThreads(options.threads ?? (await import('node:os')).availableParallelism());
  return startKernelEngine(PATCH_MLP, { threads, maxBatch, params: options.params });
}
