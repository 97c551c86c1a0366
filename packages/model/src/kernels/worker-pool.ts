import type { Worker } from 'node:worker_threads';
import { type DispatchArgs, dispatchShared, signalShared, waitShared } from './shared-control';
import { compileKernels } from './wasm';
import {
  COMMAND,
  type KernelPool,
  type PoolFactory,
  type PoolModel,
  type PoolOptions,
  type SharedLayout,
  type SharedViews,
  sharedLayout,
  sharedViews,
  type WorkerSetup,
} from './worker-protocol';

export { COMMAND } from './worker-protocol';

/**
 * Where the worker module is, relative to this module: the build defines `__FMNIST_WORKER_FILE__` (`./worker.js` in the
 * ESM bundle, `./worker.cjs` in the CJS one, see tsup.config.ts); from the sources (vitest) it is the bundle that
 * scripts/build-wasm.mjs writes into `generated/`.
 */
declare const __FMNIST_WORKER_FILE__: string | undefined;
const WORKER_FILE = typeof __FMNIST_WORKER_FILE__ === 'string' ? __FMNIST_WORKER_FILE__ : './generated/worker.mjs';

/**
 * The URL of the worker module (see `worker.ts`).
 * @internal
 */
export function workerUrl(): URL {
  return new URL(WORKER_FILE, import.meta.url);
}

/** Options of {@link WorkerPool.start}. @internal */
export type WorkerPoolOptions = PoolOptions;

/**
 * The worker threads of a kernel engine (Node only), each with its own instance of the model's kernels, and the
 * SharedArrayBuffer through which the calling thread hands them their shards and collects their results.
 * @internal
 */
export class WorkerPool implements KernelPool {
  /** Views of the shared buffer: results are read from `grads(w)`, `loss[w]`, `correct[w]` and `logits`. */
  readonly shared: SharedViews;
  private error: unknown;
  /** Rejects when a worker fails. */
  private readonly failure: Promise<never>;
  private closing = false;

  private constructor(
    private readonly workers: Worker[],
    sab: SharedArrayBuffer,
    layout: SharedLayout,
  ) {
    this.shared = sharedViews(sab, layout);
    this.failure = new Promise<never>((_, reject) => {
      for (const worker of workers) {
        worker.on('error', (err) => reject(err));
        worker.on('exit', (code) => {
          if (!this.closing) reject(new Error(`wasm-simd worker ${worker.threadId} exited unexpectedly (code ${code})`));
        });
      }
    });
    this.failure.catch((err: unknown) => {
      this.error = err;
    });
  }

  /** The first worker failure (an `error` event or an unexpected exit), once there is one. */
  get failed(): unknown {
    return this.error;
  }

  /**
   * Starts `threads - 1` workers running `model` and waits until they are ready. Idle workers do not keep the process
   * alive.
   */
  static async start(model: PoolModel, { threads, capacity, maxBatch, blockLength }: WorkerPoolOptions): Promise<WorkerPool> {
    const { Worker } = await import('node:worker_threads');
    const layout = sharedLayout(blockLength, maxBatch, threads);
    const sab = new SharedArrayBuffer(layout.bytes);
    const module = await compileKernels(model.module);
    const url = workerUrl();
    const workers = Array.from({ length: threads - 1 }, (_, i) => {
      const workerData: WorkerSetup = { module, kind: model.module, sab, layout, index: i + 1, capacity, shape: model.shape };
      return new Worker(url, { name: `wasm-simd ${model.module} ${i + 1}`, workerData });
    });
    try {
      await Promise.all(
        workers.map(
          (worker, i) =>
            new Promise<void>((resolve, reject) => {
              worker.once('message', () => resolve());
              worker.once('error', reject);
              worker.once('exit', (code) => reject(new Error(`wasm-simd worker ${i + 1} exited during start-up (code ${code})`)));
            }),
        ),
      );
    } catch (err) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw err;
    }
    for (const worker of workers) worker.unref();
    return new WorkerPool(workers, sab, layout);
  }

  /** Threads doing the math, the calling thread included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** See {@link KernelPool.dispatch}. */
  dispatch(...args: DispatchArgs): boolean {
    return dispatchShared(this.shared, ...args);
  }

  /** Resolves when every worker has finished the current command, without blocking the event loop. */
  async wait(): Promise<void> {
    const { control } = this.shared;
    // A pending Atomics.waitAsync does not keep Node alive; the referenced workers do, until they are done.
    for (const worker of this.workers) worker.ref();
    try {
      await waitShared(control, this.workers.length, this.failure);
    } finally {
      for (const worker of this.workers) worker.unref();
    }
  }

  /** Stops the workers: asks them to quit and waits for their exit, or terminates them after a failure. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.error !== undefined) {
      await Promise.all(this.workers.map((worker) => worker.terminate()));
      return;
    }
    // Referenced again so that waiting for their exit keeps Node alive (an unref'd worker's 'exit' would not).
    for (const worker of this.workers) worker.ref();
    const exited = this.workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
    signalShared(this.shared.control, COMMAND.QUIT);
    await Promise.all(exited);
  }
}

/** The Node pool factory: `worker_threads` workers over a SharedArrayBuffer. @internal */
export const nodeWorkerPool: PoolFactory = (model, options) => WorkerPool.start(model, options);
