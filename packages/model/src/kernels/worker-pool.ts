import type { Worker } from 'node:worker_threads';
import { copyInputs, IMAGE_PIXELS, type KernelCompute, type KernelModel, NUM_CLASSES, type TensorSpec } from './core';
import { compileKernels } from './wasm';

// Words of the control block at the start of the shared buffer (an Int32Array; GRAD_SCALE is read as a Float32).
// Shard w (thread w, 0 being the calling thread) starts at image ctl[SHARDS + 2w] and has ctl[SHARDS + 2w + 1] images.
const CONTROL = { SEQ: 0, DONE: 1, COMMAND: 2, GRAD_SCALE: 3, SHARDS: 4 } as const;

/** What {@link WorkerPool.dispatch} asks the workers to do with their shards. @internal */
export const COMMAND = { TRAIN: 1, PREDICT: 2, QUIT: 3 } as const;

/** A region of the shared buffer: its byte offset and its length in elements. */
type Region = [byteOffset: number, length: number];

/**
 * The regions of the SharedArrayBuffer, each 64-byte aligned. Per-thread regions (gradient blocks, loss, correct) are
 * indexed by thread; slot 0 (the calling thread) is unused.
 */
interface SharedLayout {
  /** f32s in one (padded) parameter or gradient block. */
  blockLength: number;
  control: Region;
  params: Region;
  grads: Region;
  images: Region;
  labels: Region;
  loss: Region;
  correct: Region;
  logits: Region;
  bytes: number;
}

function sharedLayout(blockLength: number, maxImages: number, threads: number): SharedLayout {
  let bytes = 0;
  const take = (length: number, bytesPerElement: number): Region => {
    const at = bytes;
    bytes += Math.ceil((length * bytesPerElement) / 64) * 64;
    return [at, length];
  };
  return {
    blockLength,
    control: take(CONTROL.SHARDS + 2 * threads, 4),
    params: take(blockLength, 4),
    grads: take(blockLength * threads, 4),
    images: take(IMAGE_PIXELS * maxImages, 4),
    labels: take(maxImages, 1),
    loss: take(threads, 8),
    correct: take(threads, 4),
    logits: take(NUM_CLASSES * maxImages, 4),
    bytes,
  };
}

/** Typed views of the shared buffer. SELF-CONTAINED: the workers embed its source. */
function sharedViews(sab: SharedArrayBuffer, L: SharedLayout) {
  const grads = new Float32Array(sab, ...L.grads);
  return {
    control: new Int32Array(sab, ...L.control),
    controlF32: new Float32Array(sab, ...L.control),
    params: new Float32Array(sab, ...L.params),
    /** Thread `w`'s gradient block. */
    grads: (w: number) => grads.subarray(w * L.blockLength, (w + 1) * L.blockLength),
    images: new Float32Array(sab, ...L.images),
    labels: new Uint8Array(sab, ...L.labels),
    loss: new Float64Array(sab, ...L.loss),
    correct: new Int32Array(sab, ...L.correct),
    logits: new Float32Array(sab, ...L.logits),
  };
}

type SharedViews = ReturnType<typeof sharedViews>;

/**
 * The source of a worker: plain CommonJS run with `new Worker(source, { eval: true })`, so that it starts the same way
 * from the TypeScript sources and from any bundle, embedding the sources of {@link sharedViews}, {@link copyInputs}
 * and the model's `createCompute`. `workerData`: the compiled kernels `module`, `sab` and its `layout`, this worker's
 * thread `index`, the images per shard `capacity` and the model's `shape`.
 *
 * Loop: wait for `SEQ` to change; for TRAIN or PREDICT copy the parameters and this shard's inputs from shared memory
 * into the worker's own wasm instance, run it, copy gradients, loss and correct count (or logits) back; then bump
 * `DONE`. QUIT ends the loop. An exception ends the worker, which the pool sees as an `error` event.
 */
function workerSource(createCompute: (exports: never, shape: never, capacity: number) => KernelCompute): string {
  return `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { module, sab, layout, index, capacity, shape } = workerData;
const CONTROL = ${JSON.stringify(CONTROL)};
const COMMAND = ${JSON.stringify(COMMAND)};
const copyInputs = (${copyInputs});
const shared = (${sharedViews})(sab, layout);
const k = new WebAssembly.Instance(module, { env: { abort() { throw new Error('wasm kernels aborted'); } } }).exports;
const c = (${createCompute})(k, shape, capacity);
const n = layout.blockLength;
const grads = shared.grads(index);
const f32 = (ptr, length) => new Float32Array(k.memory.buffer, ptr, length);

function run(command, start, count) {
  f32(c.paramsPtr, n).set(shared.params);
  if (command === COMMAND.TRAIN) {
    copyInputs(k.memory, c, shared.images, shared.labels, start, count);
    const { lossSum, correct } = c.forwardBackward(count, shared.controlF32[CONTROL.GRAD_SCALE]);
    shared.loss[index] = lossSum;
    shared.correct[index] = correct;
    grads.set(f32(c.gradsPtr, n));
  } else {
    copyInputs(k.memory, c, shared.images, undefined, start, count);
    c.forward(count);
    shared.logits.set(f32(c.logitsPtr, count * ${NUM_CLASSES}), start * ${NUM_CLASSES});
  }
}

parentPort.postMessage('ready');
for (let seen = 0; ; ) {
  Atomics.wait(shared.control, CONTROL.SEQ, seen);
  seen = Atomics.load(shared.control, CONTROL.SEQ);
  const command = Atomics.load(shared.control, CONTROL.COMMAND);
  if (command === COMMAND.QUIT) break;
  const count = shared.control[CONTROL.SHARDS + 2 * index + 1];
  if (count > 0) run(command, shared.control[CONTROL.SHARDS + 2 * index], count);
  Atomics.add(shared.control, CONTROL.DONE, 1);
  Atomics.notify(shared.control, CONTROL.DONE);
}
`;
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
    const source = workerSource(model.createCompute);
    const workers = Array.from(
      { length: threads - 1 },
      (_, i) =>
        new Worker(source, {
          eval: true,
          name: `wasm-simd ${model.module} ${i + 1}`,
          workerData: { module, sab, layout, index: i + 1, capacity, shape: model.shape },
        }),
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
