/**
 * The body of a kernels web worker (`runKernelsWorker`): the browser's counterpart of the Node worker thread
 * (worker.ts), on the same shard runner (worker-shard.ts). Its first message is its setup (worker-protocol.ts
 * `BrowserWorkerSetup`); with shared memory it then blocks in the same Atomics loop as a Node worker, otherwise it
 * answers each `ShardRequest` with a `ShardReply`. Browser-safe.
 */
import { IMAGE_PIXELS, NUM_CLASSES } from './core';
import {
  type BrowserWorkerSetup,
  COMMAND,
  CONTROL,
  type EventSlot,
  type ShardReply,
  type ShardRequest,
  sharedViews,
  type WorkerMessageLike,
} from './worker-protocol';
import { createShardRunner, runSharedLoop } from './worker-shard';

/** The part of a dedicated worker's global scope the kernels worker uses. */
export interface KernelsWorkerScope {
  onmessage: EventSlot<WorkerMessageLike>;
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Runs this web worker as one of a browser kernel engine's workers (`train()` of `@fmnist/model/core` with
 * `kernels.spawn`). Call it once, at the top level of the worker's module.
 *
 * @param scope - the worker's global scope @defaultValue `self`
 *
 * @example
 * ```ts
 * // kernels-worker.ts, started with new Worker(new URL('./kernels-worker.ts', import.meta.url), { type: 'module' })
 * import { runKernelsWorker } from '@fmnist/model/core';
 * runKernelsWorker();
 * ```
 */
export function runKernelsWorker(scope: KernelsWorkerScope = globalThis as unknown as KernelsWorkerScope): void {
  const reply = (message: ShardReply, transfer: ArrayBuffer[] = []) => scope.postMessage(message, transfer);
  scope.onmessage = (event) => {
    const setup = event.data as BrowserWorkerSetup;
    if (setup.transport === 'shared') {
      let shared: ReturnType<typeof sharedViews>;
      let run: ReturnType<typeof createShardRunner>;
      try {
        shared = sharedViews(setup.sab, setup.layout);
        run = createShardRunner(setup, shared);
      } catch (err) {
        reply({ type: 'error', message: messageOf(err) });
        return;
      }
      scope.onmessage = null;
      reply({ type: 'ready' });
      // Blocks this worker until QUIT (or an exception, which the page sees as the worker's `error` event).
      runSharedLoop(shared, setup.index, run);
      return;
    }
    let local: ReturnType<typeof sharedViews>;
    let run: ReturnType<typeof createShardRunner>;
    try {
      local = sharedViews(new ArrayBuffer(setup.layout.bytes), setup.layout);
      run = createShardRunner(setup, local);
    } catch (err) {
      reply({ type: 'error', message: messageOf(err) });
      return;
    }
    const { index } = setup;
    scope.onmessage = ({ data }) => {
      const r = data as ShardRequest;
      try {
        local.params.set(r.params);
        local.images.set(r.images, r.start * IMAGE_PIXELS);
        if (r.labels) local.labels.set(r.labels, r.start);
        local.controlF32[CONTROL.GRAD_SCALE] = r.gradScale;
        local.controlF32[CONTROL.LABEL_SMOOTHING] = r.labelSmoothing;
        run(r.command, r.start, r.count);
        if (r.command === COMMAND.TRAIN) {
          const grads = local.grads(index).slice();
          reply({ type: 'trained', seq: r.seq, grads, loss: local.loss[index]!, correct: local.correct[index]! }, [
            grads.buffer as ArrayBuffer,
          ]);
        } else {
          const logits = local.logits.slice(r.start * NUM_CLASSES, (r.start + r.count) * NUM_CLASSES);
          reply({ type: 'predicted', seq: r.seq, logits }, [logits.buffer as ArrayBuffer]);
        }
      } catch (err) {
        reply({ type: 'error', message: messageOf(err) });
      }
    };
    reply({ type: 'ready' });
  };
}
