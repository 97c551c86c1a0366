/**
 * Running a model on fmnist's own WebAssembly-SIMD kernels (the ones `@fmnist/model` trains with) in web workers: the
 * weights are read from the `.onnx` file itself (`readOnnxWeights`), one worker per core runs a contiguous share of
 * each batch. Faster than onnxruntime-web's wasm build on this model, and multi-core without cross-origin isolation.
 */
import { readOnnxWeights } from '@fmnist/onnx';
import type { Engine, EngineInfo } from './engine';
import { type KernelsReply, type KernelsRequest, splitShards } from './kernels-protocol';
import { type ModelInfo, ModelLoadError } from './model-info';
import { createSerialQueue } from './serial';

/** The part of a `Worker` the engine uses (tests substitute an in-process one). */
export interface KernelsPort {
  postMessage(message: KernelsRequest, transfer: Transferable[]): void;
  onmessage: ((event: { data: KernelsReply }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
  terminate(): void;
}

/** Options of {@link createKernelsEngine}. */
export interface KernelsEngineOptions {
  /** Workers to start (one per core is right). */
  workers: number;
  /** Images per kernel call in a worker (memory: about 0.24 MB per image for the patch-MLP). @defaultValue 256 */
  maxBatch?: number;
  /** Starts one worker. @defaultValue a module `Worker` on kernels-worker.ts */
  spawn?: () => KernelsPort;
  /** Copied into the engine's info. */
  info?: Partial<Pick<EngineInfo, 'choice' | 'note'>>;
}

/**
 * Images per run when evaluating on the kernels: each batch costs a round of messages and a pause of the workers
 * while the page prepares the next, so bigger is faster (10k test images in `bench/app.mjs`, 2 workers: 1,434 ms at
 * 250, 1,513 at 500, 1,407 at 1,000, 1,153 at 2,000) while the progress bar still moves five times per run.
 */
export const KERNELS_EVAL_BATCH = 2000;

const spawnWorker = (): KernelsPort =>
  new Worker(new URL('./kernels-worker.ts', import.meta.url), { type: 'module', name: 'fmnist-kernels' }) as unknown as KernelsPort;

/** One worker and its pending requests. */
class KernelsWorker {
  private readonly pending = new Map<number, { resolve: (p: Float32Array) => void; reject: (e: Error) => void }>();
  private ready: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private nextId = 0;
  failure: Error | undefined;

  constructor(private readonly port: KernelsPort) {
    port.onmessage = ({ data }) => this.receive(data);
    port.onerror = (event) => this.fail(new Error(`a kernels worker failed: ${event.message || 'it could not start'}`));
  }

  init(request: Extract<KernelsRequest, { type: 'init' }>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ready = { resolve, reject };
      this.port.postMessage(request, []);
    });
  }

  run(x: Float32Array, n: number): Promise<Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.postMessage({ type: 'run', id, x, n }, [x.buffer]);
    });
  }

  terminate(): void {
    this.fail(new Error('the kernels engine was disposed'));
    this.port.terminate();
  }

  private receive(reply: KernelsReply): void {
    if (reply.type === 'ready') {
      this.ready?.resolve();
      this.ready = undefined;
    } else if (reply.type === 'result') {
      this.pending.get(reply.id)?.resolve(reply.probabilities);
      this.pending.delete(reply.id);
    } else if (reply.id === undefined) {
      this.fail(new Error(reply.message));
    } else {
      this.pending.get(reply.id)?.reject(new Error(reply.message));
      this.pending.delete(reply.id);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.ready?.reject(error);
    this.ready = undefined;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}

/**
 * Loads a validated model into fmnist's WebAssembly-SIMD kernels in `workers` web workers.
 *
 * @param model - a model from `inspectModel`
 * @param options - `workers`, `maxBatch`, `spawn`, `info`
 * @returns a ready engine (`info.provider` is `kernels`, `info.threads` the worker count)
 * @throws ModelLoadError `E_RUNTIME` when the weights cannot be read from the file or a worker cannot load them
 *
 * @example
 * ```ts
 * const engine = await createKernelsEngine(inspectModel(bytes, 'default.onnx'), { workers: navigator.hardwareConcurrency });
 * const probabilities = await engine.run(toModelInput(pixels), 1); // Float32Array(10)
 * ```
 */
export async function createKernelsEngine(model: ModelInfo, options: KernelsEngineOptions): Promise<Engine> {
  const { workers: count, maxBatch = 256, spawn = spawnWorker } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`'workers' must be a positive integer, got ${count}.`);
  let weights: ReturnType<typeof readOnnxWeights>;
  try {
    weights = readOnnxWeights(model.bytes);
  } catch (err) {
    throw new ModelLoadError('E_RUNTIME', `fmnist's kernels cannot read the weights of “${model.name}” (${(err as Error).message})`, {
      cause: err,
    });
  }
  const workers = Array.from({ length: count }, () => new KernelsWorker(spawn()));
  try {
    await Promise.all(workers.map((w) => w.init({ type: 'init', config: weights.config, params: weights.params, maxBatch })));
  } catch (err) {
    for (const w of workers) w.terminate();
    throw new ModelLoadError('E_RUNTIME', `fmnist's kernels cannot run “${model.name}” (${(err as Error).message})`, { cause: err });
  }
  const classes = weights.config.numClasses;
  const serial = createSerialQueue();
  let disposed = false;
  return {
    info: { provider: 'kernels', threads: count, choice: options.info?.choice ?? 'kernels', note: options.info?.note },
    model,
    preferredBatch: KERNELS_EVAL_BATCH,
    run(x, n) {
      return serial(async () => {
        if (disposed) throw new Error('this engine has been disposed');
        if (x.length < n * 784) throw new RangeError(`x holds fewer than n = ${n} images.`);
        const shards = splitShards(n, count);
        let start = 0;
        const parts = shards.map((size, i) => {
          // A copy per shard: it is transferred to the worker, so the caller's buffer stays usable.
          const part = x.slice(start * 784, (start + size) * 784);
          start += size;
          return (workers[i] as KernelsWorker).run(part, size);
        });
        const out = new Float32Array(n * classes);
        let at = 0;
        for (const probabilities of await Promise.all(parts)) {
          out.set(probabilities, at);
          at += probabilities.length;
        }
        return out;
      });
    },
    dispose() {
      return serial(() => {
        disposed = true;
        for (const w of workers) w.terminate();
      });
    },
  };
}
