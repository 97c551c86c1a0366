import type { ModelConfig } from '../config';
import type { ParamSet, TrainEngine } from '../engine';
import { resolveMaxBatch, resolveThreads } from './core';
import { startKernelEngine } from './engine-impl';
import { mixerModel } from './mixer-model';
import { nodeWorkerPool } from './worker-pool';

/** Options of {@link createMixerKernelEngine}. */
export interface MixerKernelEngineOptions {
  /** The model (any valid config with 10 classes). */
  config: ModelConfig;
  /** Threads doing the math, the calling thread included; 1 runs everything in the calling thread. @defaultValue 1 */
  threads?: number;
  /** Largest batch of `trainStep` (and chunk of `predict`). @defaultValue 256 */
  maxBatch?: number;
  /** Initial parameters (the names and shapes of `paramSpecs(config)`); all zeros when omitted. */
  params?: ParamSet;
}

/**
 * The WebAssembly-SIMD kernel engine for ANY config (MLP-Mixer: patch size, widths, blocks, GELU / ReLU / none,
 * LayerNorm, residual), optionally data-parallel over `node:worker_threads` exactly like the patch-MLP's parallel
 * engine: one shard per thread, gradients summed through a SharedArrayBuffer in a fixed order, ONE Adam update.
 * With `threads: 1` it runs in the calling thread and starts no worker.
 *
 * @param options - `config`, `threads` (default 1), `maxBatch` (default 256) and initial `params`
 * @returns the engine; call `dispose()` to stop its workers
 * @throws RangeError for a bad `threads` or `maxBatch` or a config without 10 classes; FmnistModelError `E_BACKEND`
 *   without WebAssembly SIMD
 *
 * @example
 * ```ts
 * const config = resolveConfig('mixer-s');
 * const engine = await createMixerKernelEngine({ config, threads: 2, params: initParams(config) });
 * ```
 * @internal
 */
export async function createMixerKernelEngine(options: MixerKernelEngineOptions): Promise<TrainEngine> {
  const maxBatch = resolveMaxBatch(options.maxBatch);
  const threads = resolveThreads(options.threads ?? 1);
  return startKernelEngine(mixerModel(options.config), { threads, maxBatch, params: options.params, pool: nodeWorkerPool });
}
