import type { Worker } from 'node:worker_threads';
import { IMAGE_PIXELS, type KernelModel, type TensorSpec } from './core';
import { compileKernels } from './wasm';
import { COMMAND, CONTROL, type SharedLayout, type SharedViews, sharedLayout, sharedViews, type WorkerSetup } from './worker-protocol';

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

type WaitAsync = (array: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
// Atomics.waitAsync (ES2024) is in Node 16+, but not in the ES2022 lib typings.
const waitAsync: WaitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Options of {@link WorkerPool.start}. @internal */
export interface WorkerPoolOptions {
  /** Threads doing the math, the calling thread included (so `threads - 1` workers). */
  threads: number;
  /** Images one worker's instance can process per call. */
  capacity: number;
  /** Largest batch handed over (sizes the shared input and logit regions). */
  maxBatch: number;
  /** f32s in the model's padded parameter block. */
  blockLength: number;
}

/**
 * The worker threads of a kernel engine (Node only), each with its own instance of the model's kernels, and the
 * SharedArrayBuffer through which the calling thread hands them their shards and collects their results.
 * @internal
 */
export class WorkerPool {
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
  static async start<Exports, Shape extends { tensors: TensorSpec[] }>(
    model: KernelModel<Exports, Shape>,
    { threads, capacity, maxBatch, blockLength }: WorkerPoolOptions,
  ): Promise<WorkerPool> {
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

  /**
   * Hands the shards of threads 1… (`counts[w]` images each, in order after the calling thread's `counts[0]`) to the
   * workers, with the parameters and their inputs, through shared memory.
   * @returns false when the calling thread has the whole batch (no worker was woken)
   */
  dispatch(
    command: number,
    counts: number[],
    params: Float32Array,
    x: Float32Array,
    y: Uint8Array | undefined,
    gradScale: number,
    labelSmoothing = 0,
  ): boolean {
    const first = counts[0]!;
    const n = counts.reduce((a, b) => a + b, 0);
    if (first === n) return false;
    const { control, controlF32 } = this.shared;
    this.shared.params.set(params);
    this.shared.images.set(x.subarray(first * IMAGE_PIXELS, n * IMAGE_PIXELS), first * IMAGE_PIXELS);
    if (y) this.shared.labels.set(y.subarray(first, n), first);
    for (let w = 0, start = 0; w < counts.length; start += counts[w]!, w++) {
      control[CONTROL.SHARDS + 2 * w] = start;
      control[CONTROL.SHARDS + 2 * w + 1] = counts[w]!;
    }
    controlF32[CONTROL.GRAD_SCALE] = gradScale;
    controlF32[CONTROL.LABEL_SMOOTHING] = labelSmoothing;
    Atomics.store(control, CONTROL.DONE, 0);
    this.signal(command);
    return true;
  }

  /** Resolves when every worker has finished the current command, without blocking the event loop. */
  async wait(): Promise<void> {
    const { control } = this.shared;
    // A pending Atomics.waitAsync does not keep Node alive; the referenced workers do, until they are done.
    for (const worker of this.workers) worker.ref();
    try {
      for (let done = Atomics.load(control, CONTROL.DONE); done < this.workers.length; done = Atomics.load(control, CONTROL.DONE)) {
        const result = waitAsync(control, CONTROL.DONE, done);
        if (result.async) await Promise.race([result.value, this.failure]);
      }
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
    this.signal(COMMAND.QUIT);
    await Promise.all(exited);
  }

  private signal(command: number): void {
    const { control } = this.shared;
    Atomics.store(control, CONTROL.COMMAND, command);
    Atomics.add(control, CONTROL.SEQ, 1);
    Atomics.notify(control, CONTROL.SEQ);
  }
}
