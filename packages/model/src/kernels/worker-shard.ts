/**
 * A kernels worker's compute, shared by the Node worker thread (`worker.ts`) and the browser's web worker
 * (`worker-browser.ts`): one wasm instance of the model's kernels, and the function that runs one shard of a command on
 * it, reading parameters and inputs from the (shared or local) buffer views and writing the results back into them.
 * Browser-safe.
 * @internal
 */
import { copyInputs, type KernelCompute, NUM_CLASSES } from './core';
import { createMixerCompute, type MixerKernelExports, type MixerShape } from './mixer-model';
import { KERNEL_IMPORTS } from './wasm';
import { COMMAND, CONTROL, type ShardSetup, type SharedViews } from './worker-protocol';

const COMPUTE: Record<ShardSetup['kind'], (exports: never, shape: never, capacity: number) => KernelCompute> = {
  mixer: createMixerCompute as (exports: MixerKernelExports, shape: MixerShape, capacity: number) => KernelCompute,
};

/** Runs one shard of `command` (TRAIN or PREDICT): images `start … start + count` of the views' batch. @internal */
export type ShardRunner = (command: number, start: number, count: number) => void;

/**
 * Instantiates the kernels for a worker and returns its shard runner over `shared`: for TRAIN it copies the
 * parameters and its shard's inputs into the instance, runs forward and backward, and writes its gradients
 * (`grads(index)`), `loss[index]` and `correct[index]`; for PREDICT it writes the shard's logits into `logits`.
 * @internal
 */
export function createShardRunner(setup: ShardSetup, shared: SharedViews): ShardRunner {
  const { module, kind, layout, index, capacity, shape } = setup;
  const k = new WebAssembly.Instance(module, KERNEL_IMPORTS).exports as unknown as { memory: WebAssembly.Memory };
  const c = COMPUTE[kind](k as never, shape as never, capacity);
  const n = layout.blockLength;
  const grads = shared.grads(index);
  const f32 = (ptr: number, length: number) => new Float32Array(k.memory.buffer, ptr, length);
  return (command, start, count) => {
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
  };
}

/**
 * The shared-memory worker loop (blocking; a worker thread or a dedicated web worker only): wait for `SEQ` to change,
 * run this worker's shard of the command, bump `DONE`; QUIT ends it.
 * @internal
 */
export function runSharedLoop(shared: SharedViews, index: number, run: ShardRunner): void {
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
}
