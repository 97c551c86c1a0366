/**
 * What the page and a kernels worker say to each other, and the worker's side of it. DOM-free and worker-free, so the
 * unit tests run the same handler in-process.
 */
import { createPredictor, type ModelConfig, type ParamSet, type Predictor } from '@fmnist/model/core';
import { softmaxRows } from './metrics';
import { createSerialQueue } from './serial';

/** Page → worker. */
export type KernelsRequest =
  | { type: 'init'; config: ModelConfig; params: ParamSet; maxBatch: number }
  | { type: 'run'; id: number; x: Float32Array; n: number };

/** Worker → page. */
export type KernelsReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; probabilities: Float32Array }
  | { type: 'error'; id?: number; message: string };

/** A reply and the buffers to transfer with it. */
export interface KernelsOutgoing {
  reply: KernelsReply;
  transfer: Transferable[];
}

/**
 * The worker's message handler: `init` loads the weights into the WebAssembly-SIMD kernels (`createPredictor` of
 * `@fmnist/model/core`), `run` returns class probabilities; requests are handled in arrival order. Errors become
 * `error` replies, never exceptions.
 *
 * @returns a function from a request to its reply
 *
 * @example
 * ```ts
 * const handle = createKernelsHandler();
 * await handle({ type: 'init', config, params, maxBatch: 256 }); // { reply: { type: 'ready' }, transfer: [] }
 * ```
 */
export function createKernelsHandler(): (request: KernelsRequest) => Promise<KernelsOutgoing> {
  let predictor: Predictor | undefined;
  const serial = createSerialQueue();
  const process = async (request: KernelsRequest): Promise<KernelsOutgoing> => {
    try {
      if (request.type === 'init') {
        predictor = await createPredictor({ config: request.config, params: request.params }, { maxBatch: request.maxBatch });
        return { reply: { type: 'ready' }, transfer: [] };
      }
      if (!predictor) throw new Error('the kernels worker got work before its model');
      const probabilities = softmaxRows(predictor.predict(request.x, request.n), predictor.config.numClasses);
      return { reply: { type: 'result', id: request.id, probabilities }, transfer: [probabilities.buffer] };
    } catch (err) {
      const id = request.type === 'run' ? request.id : undefined;
      return { reply: { type: 'error', id, message: (err as Error)?.message ?? String(err) }, transfer: [] };
    }
  };
  // In arrival order, even while `init` is still compiling.
  return (request) => serial(() => process(request));
}

/** Fewest images worth sending to another worker (below this, one worker is faster than the messaging). */
export const MIN_SHARD = 32;

/**
 * Splits `n` images into contiguous shards, one per worker, at least {@link MIN_SHARD} images each (but always one
 * shard for `n ≥ 1`).
 *
 * @param n - images
 * @param workers - workers available
 * @returns the shard sizes, summing to `n`
 *
 * @example
 * ```ts
 * splitShards(500, 2); // [250, 250]
 * splitShards(1, 4);   // [1]
 * ```
 */
export function splitShards(n: number, workers: number): number[] {
  if (n <= 0) return [];
  const count = Math.max(1, Math.min(workers, Math.floor(n / MIN_SHARD)));
  const base = Math.floor(n / count);
  return Array.from({ length: count }, (_, i) => base + (i < n % count ? 1 : 0));
}
