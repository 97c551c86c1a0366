import type { LossOptions, OptimizerState, ParamSet, StepResult, TrainEngine, UpdateOptions } from '../engine';
import { IMAGE_PIXELS, imageCount, KernelCore, type KernelModel, NUM_CLASSES, type TensorSpec, trainingBatchSize } from './core';
import { kernelsBuild } from './wasm';
import { COMMAND, type KernelPool, type PoolFactory } from './worker-protocol';

/** Smallest shard worth a thread: smaller batches use fewer threads (a batch below 16 runs on the calling thread). */
const MIN_SHARD = 8;

/**
 * Images per thread for a batch of `n`: as even as possible, the calling thread (index 0) taking the smaller share,
 * at most `floor(n / MIN_SHARD)` threads busy. A pure function of `n` and `threads`, so results are reproducible.
 * @internal
 */
export function splitBatch(n: number, threads: number): number[] {
  const busy = Math.min(threads, Math.max(1, Math.floor(n / MIN_SHARD)));
  const base = Math.floor(n / busy);
  const extra = n % busy;
  return Array.from({ length: threads }, (_, i) => (i < busy ? base + (i >= busy - extra ? 1 : 0) : 0));
}

/**
 * Runs the calling thread's shard; if it throws after `pool` took the other shards, waits for those first (whatever
 * they give), so that no later command is handed to workers still running this one.
 */
async function drainOnThrow<T>(pool: KernelPool | undefined, own: () => T): Promise<T> {
  try {
    return own();
  } catch (err) {
    await pool?.wait().catch(() => undefined);
    throw err;
  }
}

/**
 * The kernel engine of any {@link KernelModel}: the calling thread computes the first shard of each batch on its own
 * {@link KernelCore}, a {@link KernelPool} (when there is more than one thread) the others; calls run one at a time,
 * in order.
 */
class KernelEngine implements TrainEngine {
  /** `wasm-simd`, or `wasm-relaxed-simd` for the fused multiply-add build ({@link kernelsBuild}). */
  readonly name = `wasm-${kernelsBuild()}`;
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly core: KernelCore,
    private readonly pool: KernelPool | undefined,
    private readonly maxBatch: number,
  ) {}

  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  setParams(params: ParamSet): void {
    this.core.setParams(params);
  }

  getParams(): ParamSet {
    return this.core.getParams();
  }

  getOptimizerState(): OptimizerState {
    return this.core.getOptimizerState();
  }

  setOptimizerState(state: OptimizerState): void {
    this.core.setOptimizerState(state);
  }

  trainStep(x: Float32Array, y: Uint8Array, update: UpdateOptions, loss?: LossOptions): Promise<StepResult> {
    return this.exclusive(async () => {
      const n = trainingBatchSize(x, y, this.maxBatch);
      const counts = splitBatch(n, this.threads);
      const gradScale = 1 / n;
      // float32, as the workers read it from shared memory
      const smoothing = Math.fround(loss?.labelSmoothing ?? 0);
      // the pool, if it took shards
      const pool = this.pool?.dispatch(COMMAND.TRAIN, counts, this.core.paramBlock(), x, y, gradScale, smoothing) ? this.pool : undefined;
      let { lossSum, correct } = await drainOnThrow(pool, () => {
        this.core.loadInputs(x, y, 0, counts[0]!);
        return this.core.forwardBackward(counts[0]!, gradScale, smoothing);
      });
      if (pool) {
        await pool.wait();
        // in thread order, so that the sum (and the step) is the same on every run
        for (let w = 1; w < counts.length; w++) {
          if (counts[w] === 0) continue;
          this.core.accumulateGradients(pool.shared.grads(w));
          lossSum += pool.shared.loss[w]!;
          correct += pool.shared.correct[w]!;
        }
      }
      this.core.update(update);
      return { loss: lossSum / n, correct };
    });
  }

  predict(x: Float32Array): Promise<Float32Array> {
    return this.exclusive(async () => {
      const n = imageCount(x);
      const logits = new Float32Array(n * NUM_CLASSES);
      for (let start = 0; start < n; start += this.maxBatch) {
        const count = Math.min(this.maxBatch, n - start);
        const chunk = x.subarray(start * IMAGE_PIXELS, (start + count) * IMAGE_PIXELS);
        const counts = splitBatch(count, this.threads);
        const first = counts[0]!;
        const pool = this.pool?.dispatch(COMMAND.PREDICT, counts, this.core.paramBlock(), chunk, undefined, 0) ? this.pool : undefined;
        await drainOnThrow(pool, () => {
          this.core.loadInputs(chunk, undefined, 0, first);
          logits.set(this.core.forward(first), start * NUM_CLASSES);
        });
        if (pool) {
          await pool.wait();
          logits.set(pool.shared.logits.subarray(first * NUM_CLASSES, count * NUM_CLASSES), (start + first) * NUM_CLASSES);
        }
      }
      return logits;
    });
  }

  /** Stops the workers, if any (idempotent; also after a worker failure). */
  dispose(): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.disposed) return;
      this.disposed = true;
      await this.pool?.close();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `task` after the previous call finished; rejects once disposed or after a worker failure. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.pool?.failed !== undefined) throw this.pool.failed;
      if (this.disposed) throw new Error('this wasm-simd engine has been disposed');
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Options of {@link startKernelEngine}, validated by the caller. @internal */
export interface KernelEngineSetup {
  /** Threads doing the math, the calling thread included; 1 starts no worker. */
  threads: number;
  /** Largest batch of `trainStep` (and chunk of `predict`). */
  maxBatch: number;
  /** Initial parameters; all zeros when omitted. */
  params?: ParamSet | undefined;
  /** Starts the workers when `threads > 1`: Node's worker threads or a browser's web workers. */
  pool?: PoolFactory | undefined;
}

/**
 * A kernel engine for `model`: each batch is split into one shard per thread (the calling thread computes the first,
 * workers the others), the shards' gradients are summed in a fixed order and ONE optimizer update is applied, so all
 * threads always use the same weights and results are bit-identical run to run for a given thread count.
 * @internal
 */
export async function startKernelEngine<Exports, Shape extends { tensors: TensorSpec[] }>(
  model: KernelModel<Exports, Shape>,
  { threads, maxBatch, params, pool: startPool }: KernelEngineSetup,
): Promise<TrainEngine> {
  if (threads > 1 && !startPool) throw new RangeError(`threads ${threads} needs a pool of workers to start; none was given.`);
  let capacity = 1;
  for (let n = 1; n <= maxBatch; n++) capacity = Math.max(capacity, ...splitBatch(n, threads));
  const core = await KernelCore.create(model, capacity);
  const pool =
    threads > 1 && startPool ? await startPool(model, { threads, capacity, maxBatch, blockLength: core.blockLength }) : undefined;
  const engine = new KernelEngine(core, pool, maxBatch);
  if (params) {
    try {
      engine.setParams(params);
    } catch (err) {
      await engine.dispose();
      throw err;
    }
  }
  return engine;
}
