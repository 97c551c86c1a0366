/**
 * The calling thread's side of the shared-memory protocol (worker-protocol.ts), used by the Node pool and by the
 * browser's cross-origin isolated pool: writing a command's shards into the control block, waking the workers, and
 * waiting for them without blocking. Browser-safe.
 * @internal
 */
import { IMAGE_PIXELS } from './core';
import { CONTROL, type KernelPool, type SharedViews } from './worker-protocol';

/** The arguments of {@link KernelPool.dispatch}. @internal */
export type DispatchArgs = Parameters<KernelPool['dispatch']>;

type WaitAsync = (array: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
// Atomics.waitAsync (ES2024) is in Node 16+ and Chromium 87+, but not in the ES2022 lib typings.
const waitAsync: WaitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * Writes the parameters, the inputs of shards 1… and the shard table into shared memory and wakes the workers.
 * @returns false when the calling thread has the whole batch (no worker was woken)
 * @internal
 */
export function dispatchShared(
  shared: SharedViews,
  ...[command, counts, params, x, y, gradScale, labelSmoothing = 0]: DispatchArgs
): boolean {
  const first = counts[0]!;
  const n = counts.reduce((a, b) => a + b, 0);
  if (first === n) return false;
  const { control, controlF32 } = shared;
  shared.params.set(params);
  shared.images.set(x.subarray(first * IMAGE_PIXELS, n * IMAGE_PIXELS), first * IMAGE_PIXELS);
  if (y) shared.labels.set(y.subarray(first, n), first);
  for (let w = 0, start = 0; w < counts.length; start += counts[w]!, w++) {
    control[CONTROL.SHARDS + 2 * w] = start;
    control[CONTROL.SHARDS + 2 * w + 1] = counts[w]!;
  }
  controlF32[CONTROL.GRAD_SCALE] = gradScale;
  controlF32[CONTROL.LABEL_SMOOTHING] = labelSmoothing;
  Atomics.store(control, CONTROL.DONE, 0);
  signalShared(control, command);
  return true;
}

/** Sets the command and wakes every worker waiting on `SEQ`. @internal */
export function signalShared(control: Int32Array, command: number): void {
  Atomics.store(control, CONTROL.COMMAND, command);
  Atomics.add(control, CONTROL.SEQ, 1);
  Atomics.notify(control, CONTROL.SEQ);
}

/** Resolves once `workers` workers have bumped `DONE`, or rejects with `failure`; never blocks the thread. @internal */
export async function waitShared(control: Int32Array, workers: number, failure: Promise<never>): Promise<void> {
  for (let done = Atomics.load(control, CONTROL.DONE); done < workers; done = Atomics.load(control, CONTROL.DONE)) {
    const result = waitAsync(control, CONTROL.DONE, done);
    if (result.async) await Promise.race([result.value, failure]);
  }
}
