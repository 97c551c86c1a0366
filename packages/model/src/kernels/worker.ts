/**
 * A kernel engine's worker thread (Node `worker_threads`), a module of its own: built to `dist/worker.js` and
 * `dist/worker.cjs` beside the entries, and for runs from the sources to `src/kernels/generated/worker.mjs`
 * (scripts/build-wasm.mjs). The pool starts it by file URL, so no code is ever evaluated from a string.
 *
 * Loop: wait for `SEQ` to change; for TRAIN or PREDICT copy the parameters and this shard's inputs from shared memory
 * into the worker's own wasm instance, run it, copy gradients, loss and correct count (or logits) back; then bump
 * `DONE`. QUIT ends the loop. An exception ends the worker, which the pool sees as an `error` event.
 * @internal
 */
import { parentPort, workerData } from 'node:worker_threads';
import { copyInputs, type KernelCompute, NUM_CLASSES } from './core';
import { createMixerCompute, type MixerKernelExports, type MixerShape } from './mixer-model';
import { KERNEL_IMPORTS } from './wasm';
import { COMMAND, CONTROL, sharedViews, type WorkerSetup } from './worker-protocol';

const COMPUTE: Record<WorkerSetup['kind'], (exports: never, shape: never, capacity: number) => KernelCompute> = {
  mixer: createMixerCompute as (exports: MixerKernelExports, shape: MixerShape, capacity: number) => KernelCompute,
};

const { module, kind, sab, layout, index, capacity, shape } = workerData as WorkerSetup;
const shared = sharedViews(sab, layout);
const k = new WebAssembly.Instance(module, KERNEL_IMPORTS).exports as unknown as { memory: WebAssembly.Memory };
const c = COMPUTE[kind](k as never, shape as never, capacity);
const n = layout.blockLength;
const grads = shared.grads(index);
const f32 = (ptr: number, length: number) => new Float32Array(k.memory.buffer, ptr, length);

function run(command: number, start: number, count: number): void {
  f32(c.paramsPtr, n).set(shared.params);
  if (command === COMMAND.TRAIN) {
    copyInputs(k.memory, c, shared.images, shared.labels, start, count);
    const { lossSum, correct } = c.forwardBackward(
      count,
      shared.controlF32[CONTROL.GRAD_SCALE]!,
      shared.controlF32[CONTROL.LABEL_SMOOTHING]!,
    );
    shared.loss[index] = lossSum;
    shared.correct[index] = correct;
    grads.set(f32(c.gradsPtr, n));
  } else {
    copyInputs(k.memory, c, shared.images, undefined, start, count);
    c.forward(count);
    shared.logits.set(f32(c.logitsPtr, count * NUM_CLASSES), start * NUM_CLASSES);
  }
}

parentPort?.postMessage('ready');
for (let seen = 0; ; ) {
  Atomics.wait(shared.control, CONTROL.SEQ, seen);
  seen = Atomics.load(shared.control, CONTROL.SEQ);
  const command = Atomics.load(shared.control, CONTROL.COMMAND);
  if (command === COMMAND.QUIT) break;
  const count = shared.control[CONTROL.SHARDS + 2 * index + 1]!;
  if (count > 0) run(command, shared.control[CONTROL.SHARDS + 2 * index]!, count);
  Atomics.add(shared.control, CONTROL.DONE, 1);
  Atomics.notify(shared.control, CONTROL.DONE);
}
