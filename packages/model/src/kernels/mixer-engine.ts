import type { Worker } from 'node:worker_threads';
import type { ModelConfig } from '../config';
import type { AdamOptions, AdamState, ParamSet, StepResult, TrainEngine } from '../engine';
import { IMAGE_PIXELS, imageCount, NUM_CLASSES, resolveMaxBatch, trainingBatchSize } from './core';
import { compileMixerKernels, createMixerCompute, MixerCore, type MixerShape, mixerShape } from './mixer-core';
import { splitBatch } from './parallel-engine';
import { COMMAND, CONTROL, type SharedLayout, sharedLayout } from './worker-source';

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
 * The worker of the parallel mixer engine: plain CommonJS run with `new Worker(source, { eval: true })`, embedding the
 * source of {@link createMixerCompute} (self-contained by design). Same protocol as the patch-MLP worker
 * (worker-source.ts): wait for `SEQ`, run TRAIN or PREDICT on this shard, bump `DONE`; QUIT ends the loop.
 * `workerData`: the compiled mixer `module`, `sab`, thread `index`, shard `capacity`, `layout` and the `shape`.
 */
function mixerWorkerSource(): string {
  return `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { module, sab, index, capacity, layout: L, shape } = workerData;
const C = ${JSON.stringify(CONTROL)};
const COMMAND = ${JSON.stringify(COMMAND)};
const createMixerCompute = (${createMixerCompute.toString()});
const k = new WebAssembly.Instance(module, { env: { abort() { throw new Error('wasm kernels aborted'); } } }).exports;
const c = createMixerCompute(k, shape, capacity);
const n = L.blockLength;
const ctl = new Int32Array(sab, L.control, L.controlWords);
const ctlF32 = new Float32Array(sab, L.control, L.controlWords);
const sharedParams = new Float32Array(sab, L.params, n);
const sharedGrads = new Float32Array(sab, L.grads + index * n * 4, n);
const sharedImages = new Float32Array(sab, L.images, L.maxImages * 784);
const sharedLabels = new Uint8Array(sab, L.labels, L.maxImages);
const sharedLoss = new Float64Array(sab, L.loss, L.threads);
const sharedCorrect = new Int32Array(sab, L.correct, L.threads);
const sharedLogits = new Float32Array(sab, L.logits, L.maxImages * 10);
const f32 = (ptr, length) => new Float32Array(k.memory.buffer, ptr, length);

function run(command, start, count) {
  f32(c.paramsPtr, n).set(sharedParams);
  f32(c.imagesPtr, count * 784).set(sharedImages.subarray(start * 784, (start + count) * 784));
  if (command === COMMAND.TRAIN) {
    new Int32Array(k.memory.buffer, c.labelsPtr, count).set(sharedLabels.subarray(start, start + count));
    const r = c.forwardBackward(count, ctlF32[C.GRAD_SCALE]);
    sharedLoss[index] = r.lossSum;
    sharedCorrect[index] = r.correct;
    sharedGrads.set(f32(c.gradsPtr, n));
  } else {
    c.forward(count);
    sharedLogits.set(f32(c.logitsPtr, count * 10), start * 10);
  }
}

parentPort.postMessage('ready');
for (let seen = 0; ; ) {
  Atomics.wait(ctl, C.SEQ, seen);
  seen = Atomics.load(ctl, C.SEQ);
  const command = Atomics.load(ctl, C.COMMAND);
  if (command === COMMAND.QUIT) break;
  const count = ctl[C.SHARDS + 2 * index + 1];
  if (count > 0) run(command, ctl[C.SHARDS + 2 * index], count);
  Atomics.add(ctl, C.DONE, 1);
  Atomics.notify(ctl, C.DONE);
}
`;
}

type WaitAsync = (array: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
// Atomics.waitAsync (ES2024) is in Node 16+, but not in the ES2022 lib typings.
const waitAsync: WaitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

interface Shared {
  sab: SharedArrayBuffer;
  layout: SharedLayout;
}

class MixerKernelEngine implements TrainEngine {
  readonly name = 'wasm-simd';
  private readonly ctl?: Int32Array;
  private readonly ctlF32?: Float32Array;
  private readonly sharedParams?: Float32Array;
  private readonly sharedGrads: Float32Array[] = [];
  private readonly sharedImages?: Float32Array;
  private readonly sharedLabels?: Uint8Array;
  private readonly sharedLoss?: Float64Array;
  private readonly sharedCorrect?: Int32Array;
  private readonly sharedLogits?: Float32Array;
  private readonly failure: Promise<never>;
  private failed: unknown;
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly core: MixerCore,
    private readonly workers: Worker[],
    shared: Shared | undefined,
    private readonly maxBatch: number,
  ) {
    if (shared) {
      const { sab, layout: L } = shared;
      this.ctl = new Int32Array(sab, L.control, L.controlWords);
      this.ctlF32 = new Float32Array(sab, L.control, L.controlWords);
      this.sharedParams = new Float32Array(sab, L.params, L.blockLength);
      this.sharedGrads = Array.from({ length: L.threads }, (_, w) => new Float32Array(sab, L.grads + w * L.blockLength * 4, L.blockLength));
      this.sharedImages = new Float32Array(sab, L.images, L.maxImages * IMAGE_PIXELS);
      this.sharedLabels = new Uint8Array(sab, L.labels, L.maxImages);
      this.sharedLoss = new Float64Array(sab, L.loss, L.threads);
      this.sharedCorrect = new Int32Array(sab, L.correct, L.threads);
      this.sharedLogits = new Float32Array(sab, L.logits, L.maxImages * NUM_CLASSES);
    }
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
          lossSum += this.sharedLoss![w]!;
          correct += this.sharedCorrect![w]!;
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
          logits.set(this.sharedLogits!.subarray(counts[0]! * NUM_CLASSES, count * NUM_CLASSES), (start + counts[0]!) * NUM_CLASSES);
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
      if (this.workers.length === 0) return;
      if (this.failed !== undefined) {
        await Promise.all(this.workers.map((worker) => worker.terminate()));
        return;
      }
      // Referenced again so that waiting for their exit keeps Node alive (an unref'd worker's 'exit' would not).
      for (const worker of this.workers) worker.ref();
      const exited = this.workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
      Atomics.store(this.ctl!, CONTROL.COMMAND, COMMAND.QUIT);
      Atomics.add(this.ctl!, CONTROL.SEQ, 1);
      Atomics.notify(this.ctl!, CONTROL.SEQ);
      await Promise.all(exited);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.failed !== undefined) throw this.failed;
      if (this.disposed) throw new Error('this wasm-simd engine has been disposed');
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Hands the shards of threads 1… to the workers; false when the calling thread has the whole batch. */
  private dispatch(command: number, counts: number[], x: Float32Array, y: Uint8Array | undefined, gradScale: number): boolean {
    const first = counts[0]!;
    const n = counts.reduce((a, b) => a + b, 0);
    if (first === n || !this.ctl) return false;
    this.sharedParams!.set(this.core.paramBlock());
    this.sharedImages!.set(x.subarray(first * IMAGE_PIXELS, n * IMAGE_PIXELS), first * IMAGE_PIXELS);
    if (y) this.sharedLabels!.set(y.subarray(first, n), first);
    for (let w = 0, start = 0; w < counts.length; start += counts[w]!, w++) {
      this.ctl[CONTROL.SHARDS + 2 * w] = start;
      this.ctl[CONTROL.SHARDS + 2 * w + 1] = counts[w]!;
    }
    this.ctlF32![CONTROL.GRAD_SCALE] = gradScale;
    Atomics.store(this.ctl, CONTROL.DONE, 0);
    Atomics.store(this.ctl, CONTROL.COMMAND, command);
    Atomics.add(this.ctl, CONTROL.SEQ, 1);
    Atomics.notify(this.ctl, CONTROL.SEQ);
    return true;
  }

  private async waitForWorkers(): Promise<void> {
    const ctl = this.ctl!;
    // A pending Atomics.waitAsync does not keep Node alive; the referenced workers do, until they are done.
    for (const worker of this.workers) worker.ref();
    try {
      for (let done = Atomics.load(ctl, CONTROL.DONE); done < this.workers.length; done = Atomics.load(ctl, CONTROL.DONE)) {
        const result = waitAsync(ctl, CONTROL.DONE, done);
        if (result.async) await Promise.race([result.value, this.failure]);
      }
    } finally {
      for (const worker of this.workers) worker.unref();
    }
  }
}

/**
 * The WebAssembly-SIMD kernel engine for ANY config (MLP-Mixer: patch size, widths, blocks, GELU / ReLU / none,
 * LayerNorm, residual), optionally data-parallel over `node:worker_threads` exactly like the patch-MLP's parallel
 * engine: one shard per thread, gradients summed through a SharedArrayBuffer in a fixed order, ONE Adam update.
 * With `threads: 1` it runs in the calling thread and starts no worker.
 *
 * @param options - `config`, `threads` (default 1), `maxBatch` (default 256) and initial `params`
 * @returns the engine; call `dispose()` to stop its workers
 * @throws RangeError for a bad `threads` or `maxBatch`; FmnistModelError `E_BACKEND` without WebAssembly SIMD
 * @internal
 */
export async function createMixerKernelEngine(options: MixerKernelEngineOptions): Promise<TrainEngine> {
  const maxBatch = resolveMaxBatch(options.maxBatch);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  if (options.config.numClasses !== NUM_CLASSES) {
    throw new RangeError(`the wasm-simd kernels need numClasses ${NUM_CLASSES}, got ${options.config.numClasses}`);
  }
  let capacity = 1;
  for (let n = 1; n <= maxBatch; n++) capacity = Math.max(capacity, ...splitBatch(n, threads));
  const core = await MixerCore.create(options.config, threads > 1 ? capacity : maxBatch);
  let workers: Worker[] = [];
  let shared: Shared | undefined;
  if (threads > 1) {
    const { Worker } = await import('node:worker_threads');
    const layout = sharedLayout(core.blockLength, maxBatch, threads);
    const sab = new SharedArrayBuffer(layout.bytes);
    shared = { sab, layout };
    const module = await compileMixerKernels();
    const shape: MixerShape = mixerShape(options.config);
    const source = mixerWorkerSource();
    workers = Array.from(
      { length: threads - 1 },
      (_, i) =>
        new Worker(source, {
          eval: true,
          name: `wasm-simd mixer ${i + 1}`,
          workerData: { module, sab, index: i + 1, capacity, layout, shape },
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
  }
  const engine = new MixerKernelEngine(core, workers, shared, maxBatch);
  if (options.params) engine.setParams(options.params);
  return engine;
}
