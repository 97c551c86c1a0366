import type { Worker } from 'node:worker_threads';
import type { AdamOptions, AdamState, ParamSet, StepResult, TrainEngine } from '../engine';
import { IMAGE_PIXELS, imageCount, KernelCore, NUM_CLASSES, resolveMaxBatch, trainingBatchSize } from './core';
import type { KernelEngineOptions } from './kernel-engine';
import { compileKernels } from './wasm';
import { COMMAND, CONTROL, type SharedLayout, sharedLayout, WORKER_SOURCE } from './worker-source';

/** Options of {@link createParallelKernelEngine}. */
export interface ParallelKernelEngineOptions extends KernelEngineOptions {
  /** Threads doing the math, the calling thread included. @defaultValue `os.availableParallelism()` */
  threads?: number;
}

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

type WaitAsync = (array: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
// Atomics.waitAsync (ES2024) is in Node 16+, but not in the ES2022 lib typings.
const waitAsync: WaitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

class ParallelKernelEngine implements TrainEngine {
  readonly name = 'wasm-simd';
  private readonly ctl: Int32Array;
  private readonly ctlF32: Float32Array;
  private readonly sharedParams: Float32Array;
  private readonly sharedGrads: Float32Array[];
  private readonly sharedImages: Float32Array;
  private readonly sharedLabels: Uint8Array;
  private readonly sharedLoss: Float64Array;
  private readonly sharedCorrect: Int32Array;
  private readonly sharedLogits: Float32Array;
  /** Rejects when a worker fails or exits unexpectedly. */
  private readonly failure: Promise<never>;
  private failed: unknown;
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly core: KernelCore,
    private readonly workers: Worker[],
    sab: SharedArrayBuffer,
    layout: SharedLayout,
    private readonly maxBatch: number,
  ) {
    const L = layout;
    this.ctl = new Int32Array(sab, L.control, L.controlWords);
    this.ctlF32 = new Float32Array(sab, L.control, L.controlWords);
    this.sharedParams = new Float32Array(sab, L.params, L.blockLength);
    this.sharedGrads = Array.from({ length: L.threads }, (_, w) => new Float32Array(sab, L.grads + w * L.blockLength * 4, L.blockLength));
    this.sharedImages = new Float32Array(sab, L.images, L.maxImages * IMAGE_PIXELS);
    this.sharedLabels = new Uint8Array(sab, L.labels, L.maxImages);
    this.sharedLoss = new Float64Array(sab, L.loss, L.threads);
    this.sharedCorrect = new Int32Array(sab, L.correct, L.threads);
    this.sharedLogits = new Float32Array(sab, L.logits, L.maxImages * NUM_CLASSES);
    this.failure = new Promise<never>((_, reject) => {
      for (const worker of workers) {
        worker.on('error', (err) => reject(err));
        worker.on('exit', (code) => {
          if (!this.disposed) reject(new Error(`wasm-simd worker ${worker.threadId} exited unexpectedly (code ${code})`));
        });
      }
    });
    this.failure.catch((err: unknown) => {
      this.failed = err;
    });
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  setParams(params: ParamSet): void {
    this.core.setParams(params);
  }

  getParams(): ParamSet {
    return this.core.getParams();
  }

  getOptimizerState(): AdamState {
    return this.core.getOptimizerState();
  }

  setOptimizerState(state: AdamState): void {
    this.core.setOptimizerState(state);
  }

  trainStep(x: Float32Array, y: Uint8Array, adam: AdamOptions): Promise<StepResult> {
    return this.exclusive(async () => {
      const n = trainingBatchSize(x, y, this.maxBatch);
      const counts = splitBatch(n, this.threads);
      const gradScale = 1 / n;
      const parallel = this.dispatch(COMMAND.TRAIN, counts, x, y, gradScale);
      this.core.loadInputs(x, y, 0, counts[0]!);
      let { lossSum, correct } = this.core.forwardBackward(counts[0]!, gradScale);
      if (parallel) {
        await this.waitForWorkers();
        for (let w = 1; w < this.threads; w++) {
          if (counts[w] === 0) continue;
          this.core.accumulateGradients(this.sharedGrads[w]!);
          lossSum += this.sharedLoss[w]!;
          correct += this.sharedCorrect[w]!;
        }
      }
      this.core.adamUpdate(adam);
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
        const parallel = this.dispatch(COMMAND.PREDICT, counts, chunk, undefined, 0);
        this.core.loadInputs(chunk, undefined, 0, counts[0]!);
        logits.set(this.core.forward(counts[0]!), start * NUM_CLASSES);
        if (parallel) {
          await this.waitForWorkers();
          logits.set(this.sharedLogits.subarray(counts[0]! * NUM_CLASSES, count * NUM_CLASSES), (start + counts[0]!) * NUM_CLASSES);
        }
      }
      return logits;
    });
  }

  /** Stops the workers (idempotent; also after a worker failure). */
  dispose(): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.disposed) return;
      this.disposed = true;
      if (this.failed !== undefined) {
        await Promise.all(this.workers.map((worker) => worker.terminate()));
        return;
      }
      // Referenced again so that waiting for their exit keeps Node alive (an unref'd worker's 'exit' would not).
      for (const worker of this.workers) worker.ref();
      const exited = this.workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
      Atomics.store(this.ctl, CONTROL.COMMAND, COMMAND.QUIT);
      Atomics.add(this.ctl, CONTROL.SEQ, 1);
      Atomics.notify(this.ctl, CONTROL.SEQ);
      await Promise.all(exited);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `task` after the previous call finished; rejects once disposed or after a worker failure. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.failed !== undefined) throw this.failed;
      if (this.disposed) throw new Error('this wasm-simd engine has been disposed');
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Hands the shards of threads 1… to the workers (parameters and their inputs through shared memory).
   * @returns false when the calling thread has the whole batch (no worker was woken)
   */
  private dispatch(command: number, counts: number[], x: Float32Array, y: Uint8Array | undefined, gradScale: number): boolean {
    const first = counts[0]!;
    const n = counts.reduce((a, b) => a + b, 0);
    if (first === n) return false;
    this.sharedParams.set(this.core.paramBlock());
    this.sharedImages.set(x.subarray(first * IMAGE_PIXELS, n * IMAGE_PIXELS), first * IMAGE_PIXELS);
    if (y) this.sharedLabels.set(y.subarray(first, n), first);
    for (let w = 0, start = 0; w < counts.length; start += counts[w]!, w++) {
      this.ctl[CONTROL.SHARDS + 2 * w] = start;
      this.ctl[CONTROL.SHARDS + 2 * w + 1] = counts[w]!;
    }
    this.ctlF32[CONTROL.GRAD_SCALE] = gradScale;
    Atomics.store(this.ctl, CONTROL.DONE, 0);
    Atomics.store(this.ctl, CONTROL.COMMAND, command);
    Atomics.add(this.ctl, CONTROL.SEQ, 1);
    Atomics.notify(this.ctl, CONTROL.SEQ);
    return true;
  }

  /** Resolves when every worker has finished the current command, without blocking the event loop. */
  private async waitForWorkers(): Promise<void> {
    // A pending Atomics.waitAsync does not keep Node alive; the referenced workers do, until they are done.
    for (const worker of this.workers) worker.ref();
    try {
      for (let done = Atomics.load(this.ctl, CONTROL.DONE); done < this.workers.length; done = Atomics.load(this.ctl, CONTROL.DONE)) {
        const result = waitAsync(this.ctl, CONTROL.DONE, done);
        if (result.async) await Promise.race([result.value, this.failure]);
      }
    } finally {
      for (const worker of this.workers) worker.unref();
    }
  }
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
  const [{ Worker }, { availableParallelism }] = await Promise.all([import('node:worker_threads'), import('node:os')]);
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);

  let capacity = 1;
  for (let n = 1; n <= maxBatch; n++) capacity = Math.max(capacity, ...splitBatch(n, threads));
  const core = await KernelCore.create(capacity);
  const layout = sharedLayout(core.blockLength, maxBatch, threads);
  const sab = new SharedArrayBuffer(layout.bytes);
  const module = await compileKernels();

  const workers = Array.from(
    { length: threads - 1 },
    (_, i) =>
      new Worker(WORKER_SOURCE, { eval: true, name: `wasm-simd ${i + 1}`, workerData: { module, sab, index: i + 1, capacity, layout } }),
  );
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

  const engine = new ParallelKernelEngine(core, workers, sab, layout, maxBatch);
  if (options.params) engine.setParams(options.params);
  return engine;
}
