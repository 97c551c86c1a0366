/**
 * The browser's kernel pools: web workers (each running `runKernelsWorker`, worker-browser.ts) that compute the other
 * shards of each batch for an engine running in a page's worker. In a cross-origin isolated page they share one
 * SharedArrayBuffer with the engine and wait on it exactly like Node's worker threads; elsewhere (a static host without
 * the COOP/COEP headers) each shard goes to its worker as a message and the results come back the same way. Both give
 * the same bits: the same shards, the same kernels, the gradients summed in the same order. Browser-safe.
 * @internal
 */
import { FmnistModelError } from '../errors';
import { IMAGE_PIXELS, NUM_CLASSES } from './core';
import { type DispatchArgs, dispatchShared, signalShared, waitShared } from './shared-control';
import { compileKernels } from './wasm';
import {
  type BrowserWorkerSetup,
  COMMAND,
  type EventSlot,
  type KernelPool,
  type PoolFactory,
  type PoolOptions,
  type ShardReply,
  type ShardRequest,
  type SharedViews,
  sharedLayout,
  sharedViews,
  type WorkerErrorLike,
  type WorkerMessageLike,
} from './worker-protocol';

/**
 * The part of a web `Worker` the pools use: a worker whose module calls `runKernelsWorker()` from
 * `@fmnist/model/core`.
 */
export interface KernelsWorkerPort {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  onmessage: EventSlot<WorkerMessageLike>;
  onerror: EventSlot<WorkerErrorLike>;
  terminate(): void;
}

/**
 * Starts one kernels web worker, e.g.
 * `() => new Worker(new URL('./kernels-worker.ts', import.meta.url), { type: 'module' })` where that module is
 * `import { runKernelsWorker } from '@fmnist/model/core'; runKernelsWorker();`.
 */
export type SpawnKernelsWorker = () => KernelsWorkerPort;

/**
 * How the engine reaches its web workers: `shared` (SharedArrayBuffer and Atomics; needs a cross-origin isolated
 * page and `Atomics.waitAsync`), `message` (postMessage, works everywhere), or `auto`: `shared` when both are there,
 * else `message`.
 */
export type KernelsTransport = 'auto' | 'shared' | 'message';

/**
 * The transport `auto` picks here: `shared` when SharedArrayBuffer is usable (cross-origin isolation) and
 * `Atomics.waitAsync` exists, else `message`.
 */
export function resolveTransport(transport: KernelsTransport = 'auto'): 'shared' | 'message' {
  const isolated =
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
  // The engine waits for its workers with Atomics.waitAsync, which some browsers lack (Firefox before 145).
  const waitAsync = typeof (Atomics as unknown as { waitAsync?: unknown }).waitAsync === 'function';
  if (transport === 'shared' && !isolated) {
    throw new FmnistModelError(
      'E_BACKEND',
      "transport 'shared' needs SharedArrayBuffer, which a page has only when it is cross-origin isolated (served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp); use transport 'auto' or 'message'.",
    );
  }
  if (transport === 'shared' && !waitAsync) {
    throw new FmnistModelError(
      'E_BACKEND',
      "transport 'shared' needs Atomics.waitAsync, which this browser lacks (Firefox has it from version 145); use transport 'auto' or 'message'.",
    );
  }
  if (transport !== 'auto' && transport !== 'shared' && transport !== 'message') {
    throw new FmnistModelError('E_BACKEND', `Unknown kernels transport '${String(transport)}'; use auto, shared or message.`);
  }
  return transport === 'auto' ? (isolated && waitAsync ? 'shared' : 'message') : transport;
}

/** A worker's failure as an Error (an `error` event, or an `error` reply). */
function workerFailure(index: number, message: string | undefined): Error {
  return new Error(`kernels web worker ${index} failed: ${message || 'it could not start (is its module URL right?)'}`);
}

/** Starts the workers and waits for each one's `ready`. */
async function startWorkers(
  spawn: SpawnKernelsWorker,
  count: number,
  setup: (index: number) => BrowserWorkerSetup,
  startTimeoutMs: number,
): Promise<KernelsWorkerPort[]> {
  const workers: KernelsWorkerPort[] = [];
  const timers: ReturnType<typeof setTimeout>[] = [];
  try {
    for (let i = 0; i < count; i++) workers.push(spawn());
    await Promise.all(
      workers.map(
        (worker, i) =>
          new Promise<void>((resolve, reject) => {
            // A module that never calls runKernelsWorker (or a worker the browser dropped) never answers.
            timers.push(
              setTimeout(
                () =>
                  reject(
                    workerFailure(
                      i + 1,
                      `no answer within ${startTimeoutMs / 1000} s of starting (does its module call runKernelsWorker()?)`,
                    ),
                  ),
                startTimeoutMs,
              ),
            );
            worker.onmessage = ({ data }) => {
              const reply = data as ShardReply;
              if (reply?.type === 'ready') resolve();
              else reject(workerFailure(i + 1, reply?.type === 'error' ? reply.message : `unexpected reply ${JSON.stringify(reply)}`));
            };
            worker.onerror = (event) => {
              event.preventDefault?.();
              reject(workerFailure(i + 1, event.message));
            };
            worker.postMessage(setup(i + 1), []);
          }),
      ),
    );
  } catch (err) {
    for (const worker of workers) worker.terminate();
    throw err;
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
  return workers;
}

/** How long a kernels web worker may take to answer its setup. @internal */
export const WORKER_START_TIMEOUT_MS = 30_000;

/** Web workers over one SharedArrayBuffer (a cross-origin isolated page). */
class SharedBrowserPool implements KernelPool {
  readonly shared: SharedViews;
  failed: unknown;
  private readonly failure: Promise<never>;

  constructor(
    private readonly workers: KernelsWorkerPort[],
    sab: SharedArrayBuffer,
    layout: ReturnType<typeof sharedLayout>,
  ) {
    this.shared = sharedViews(sab, layout);
    this.failure = new Promise<never>((_, reject) => {
      workers.forEach((worker, i) => {
        worker.onerror = (event) => {
          event.preventDefault?.();
          reject(workerFailure(i + 1, event.message));
        };
        worker.onmessage = ({ data }) => {
          if ((data as ShardReply)?.type === 'error') reject(workerFailure(i + 1, (data as { message: string }).message));
        };
      });
    });
    this.failure.catch((err: unknown) => {
      this.failed = err;
    });
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  dispatch(...args: DispatchArgs): boolean {
    return dispatchShared(this.shared, ...args);
  }

  wait(): Promise<void> {
    return waitShared(this.shared.control, this.workers.length, this.failure);
  }

  async close(): Promise<void> {
    signalShared(this.shared.control, COMMAND.QUIT);
    for (const worker of this.workers) worker.terminate();
  }
}

/** Web workers reached by messages (no SharedArrayBuffer): each shard and its results are copied. */
class MessageBrowserPool implements KernelPool {
  /** Results land here, in the shared layout (an ordinary buffer). */
  readonly shared: SharedViews;
  failed: unknown;
  private pending: { left: number; resolve: () => void; reject: (err: unknown) => void } | undefined;
  private starts: number[] = [];
  /** The current command's sequence number: a reply carrying another one answers an abandoned command. */
  private seq = 0;

  constructor(
    private readonly workers: KernelsWorkerPort[],
    layout: ReturnType<typeof sharedLayout>,
  ) {
    this.shared = sharedViews(new ArrayBuffer(layout.bytes), layout);
    workers.forEach((worker, i) => {
      const w = i + 1;
      worker.onmessage = ({ data }) => this.receive(w, data as ShardReply);
      worker.onerror = (event) => {
        event.preventDefault?.();
        this.fail(workerFailure(w, event.message));
      };
    });
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  dispatch(...[command, counts, params, x, y, gradScale, labelSmoothing = 0]: DispatchArgs): boolean {
    if (this.failed !== undefined) throw this.failed;
    const first = counts[0]!;
    const n = counts.reduce((a, b) => a + b, 0);
    if (first === n) return false;
    let left = 0;
    this.starts = [];
    const seq = ++this.seq;
    for (let w = 1, start = first; w < counts.length; start += counts[w]!, w++) {
      this.starts[w] = start;
      const count = counts[w]!;
      if (count === 0) continue;
      left++;
      const request: ShardRequest = {
        command,
        seq,
        start,
        count,
        params: params.slice(),
        images: x.slice(start * IMAGE_PIXELS, (start + count) * IMAGE_PIXELS),
        ...(y ? { labels: y.slice(start, start + count) } : {}),
        gradScale,
        labelSmoothing,
      };
      const transfer: ArrayBuffer[] = [request.params.buffer as ArrayBuffer, request.images.buffer as ArrayBuffer];
      if (request.labels) transfer.push(request.labels.buffer as ArrayBuffer);
      this.workers[w - 1]!.postMessage(request, transfer);
    }
    this.pending = { left, resolve: () => undefined, reject: () => undefined };
    return true;
  }

  wait(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    const pending = this.pending;
    if (!pending || pending.left === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      pending.resolve = resolve;
      pending.reject = reject;
    });
  }

  async close(): Promise<void> {
    for (const worker of this.workers) worker.terminate();
    this.fail(new Error('the kernels engine was disposed'));
  }

  private receive(w: number, reply: ShardReply): void {
    if ((reply?.type === 'trained' || reply?.type === 'predicted') && reply.seq !== this.seq) return; // an abandoned command's
    try {
      if (reply?.type === 'trained') {
        this.shared.grads(w).set(reply.grads);
        this.shared.loss[w] = reply.loss;
        this.shared.correct[w] = reply.correct;
      } else if (reply?.type === 'predicted') {
        this.shared.logits.set(reply.logits, this.starts[w]! * NUM_CLASSES);
      } else {
        this.fail(workerFailure(w, reply?.type === 'error' ? reply.message : `unexpected reply ${JSON.stringify(reply)}`));
        return;
      }
    } catch (err) {
      // A reply that does not fit the layout: fail the command rather than throw in this handler and never settle.
      this.fail(workerFailure(w, `malformed ${reply.type} reply (${(err as Error).message})`));
      return;
    }
    const pending = this.pending;
    if (pending && --pending.left === 0) {
      this.pending = undefined;
      pending.resolve();
    }
  }

  private fail(error: Error): void {
    this.failed ??= error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.failed);
  }
}

/**
 * The pool factory of a browser kernel engine: `threads - 1` web workers from `spawn`, over shared memory or messages
 * ({@link KernelsTransport}).
 *
 * @param spawn - starts one kernels web worker
 * @param transport - `auto` (default), `shared` or `message`
 * @param startTimeoutMs - how long each worker may take to answer its setup @defaultValue {@link WORKER_START_TIMEOUT_MS}
 * @internal
 */
export function browserWorkerPool(
  spawn: SpawnKernelsWorker,
  transport: KernelsTransport = 'auto',
  startTimeoutMs = WORKER_START_TIMEOUT_MS,
): PoolFactory {
  return async (model, { threads, capacity, maxBatch, blockLength }: PoolOptions) => {
    const mode = resolveTransport(transport);
    const layout = sharedLayout(blockLength, maxBatch, threads);
    const module = await compileKernels(model.module);
    const base = { module, kind: model.module, layout, capacity, shape: model.shape };
    if (mode === 'shared') {
      const sab = new SharedArrayBuffer(layout.bytes);
      const workers = await startWorkers(spawn, threads - 1, (index) => ({ ...base, index, transport: 'shared', sab }), startTimeoutMs);
      return new SharedBrowserPool(workers, sab, layout);
    }
    const workers = await startWorkers(spawn, threads - 1, (index) => ({ ...base, index, transport: 'message' }), startTimeoutMs);
    return new MessageBrowserPool(workers, layout);
  };
}
