/**
 * Words of the control block at the start of the parallel engine's SharedArrayBuffer (an Int32Array; `GRAD_SCALE` is
 * read as a Float32). Shard `w` (thread `w`, 0 being the calling thread) starts at image `ctl[SHARDS + 2w]` and has
 * `ctl[SHARDS + 2w + 1]` images.
 * @internal
 */
export const CONTROL = { SEQ: 0, DONE: 1, COMMAND: 2, GRAD_SCALE: 3, SHARDS: 4 } as const;

/** @internal */
export const COMMAND = { TRAIN: 1, PREDICT: 2, QUIT: 3 } as const;

/**
 * Byte offsets of the regions of the parallel engine's SharedArrayBuffer. Per-thread regions (gradients, loss,
 * correct) are indexed by thread; slot 0 (the calling thread) is unused.
 * @internal
 */
export interface SharedLayout {
  threads: number;
  maxImages: number;
  /** f32s in a (padded) parameter or gradient block. */
  blockLength: number;
  controlWords: number;
  control: number;
  params: number;
  grads: number;
  images: number;
  labels: number;
  loss: number;
  correct: number;
  logits: number;
  bytes: number;
}

/** Lays out the SharedArrayBuffer, every region 64-byte aligned. @internal */
export function sharedLayout(blockLength: number, maxImages: number, threads: number): SharedLayout {
  let bytes = 0;
  const take = (n: number): number => {
    const at = bytes;
    bytes += Math.ceil(n / 64) * 64;
    return at;
  };
  const controlWords = CONTROL.SHARDS + 2 * threads;
  const control = take(4 * controlWords);
  const params = take(4 * blockLength);
  const grads = take(4 * blockLength * threads);
  const images = take(4 * 784 * maxImages);
  const labels = take(maxImages);
  const loss = take(8 * threads);
  const correct = take(4 * threads);
  const logits = take(4 * 10 * maxImages);
  return { threads, maxImages, blockLength, controlWords, control, params, grads, images, labels, loss, correct, logits, bytes };
}

/**
 * The worker of the parallel kernel engine, plain CommonJS run with `new Worker(source, { eval: true })` so that it
 * starts the same way from the TypeScript sources and from any bundle. `workerData`: the compiled kernels `module`,
 * the shared buffer `sab`, this worker's thread `index`, the images per shard `capacity` and the {@link SharedLayout}.
 *
 * Loop: wait for `SEQ` to change; for TRAIN or PREDICT copy the parameters and this shard's inputs from shared memory
 * into the worker's own wasm instance, run it, copy gradients, loss and correct count (or logits) back; then bump
 * `DONE`. QUIT ends the loop. An exception ends the worker, which the engine sees as an `error` event.
 * @internal
 */
export const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { module, sab, index, capacity, layout: L } = workerData;
const C = ${JSON.stringify(CONTROL)};
const COMMAND = ${JSON.stringify(COMMAND)};
const k = new WebAssembly.Instance(module, { env: { abort() { throw new Error('wasm kernels aborted'); } } }).exports;
k.init(capacity);
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
  f32(k.paramsPtr(), n).set(sharedParams);
  f32(k.imagesPtr(), count * 784).set(sharedImages.subarray(start * 784, (start + count) * 784));
  if (command === COMMAND.TRAIN) {
    new Uint8Array(k.memory.buffer, k.labelsPtr(), count).set(sharedLabels.subarray(start, start + count));
    sharedLoss[index] = k.forwardBackward(count, ctlF32[C.GRAD_SCALE]);
    sharedCorrect[index] = k.correctCount();
    sharedGrads.set(f32(k.gradsPtr(), n));
  } else {
    k.forward(count);
    sharedLogits.set(f32(k.logitsPtr(), count * 10), start * 10);
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
