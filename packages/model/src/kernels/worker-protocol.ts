import { IMAGE_PIXELS, type KernelModel, NUM_CLASSES, type TensorSpec } from './core';

/**
 * The shared-memory protocol between a {@link WorkerPool} and its workers (`worker.ts`): the control words, the
 * commands and the regions of the SharedArrayBuffer. Plain data and typed views only, imported by both sides.
 * @internal
 */

/**
 * Words of the control block at the start of the shared buffer (an Int32Array; GRAD_SCALE and LABEL_SMOOTHING are
 * read as Float32s).
 * Shard w (thread w, 0 being the calling thread) starts at image ctl[SHARDS + 2w] and has ctl[SHARDS + 2w + 1] images.
 * @internal
 */
export const CONTROL = { SEQ: 0, DONE: 1, COMMAND: 2, GRAD_SCALE: 3, LABEL_SMOOTHING: 4, SHARDS: 5 } as const;

/** What the pool asks the workers to do with their shards. @internal */
export const COMMAND = { TRAIN: 1, PREDICT: 2, QUIT: 3 } as const;

/** A region of the shared buffer: its byte offset and its length in elements. @internal */
export type Region = [byteOffset: number, length: number];

/**
 * The regions of the SharedArrayBuffer, each 64-byte aligned. Per-thread regions (gradient blocks, loss, correct) are
 * indexed by thread; slot 0 (the calling thread) is unused.
 * @internal
 */
export interface SharedLayout {
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

/** The layout for `threads` threads, blocks of `blockLength` f32s and up to `maxImages` images per call. @internal */
export function sharedLayout(blockLength: number, maxImages: number, threads: number): SharedLayout {
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

/**
 * Typed views of the shared buffer (or, for a message-passing pool, of an ordinary buffer with the same layout).
 * @internal
 */
export function sharedViews(sab: ArrayBufferLike, L: SharedLayout) {
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

/** The views {@link sharedViews} returns. @internal */
export type SharedViews = ReturnType<typeof sharedViews>;

/** What a worker needs to build its kernels instance. @internal */
export interface ShardSetup {
  /** The compiled kernels module. */
  module: WebAssembly.Module;
  /** Which model's compute to run on it (a key of the worker's compute table). */
  kind: 'mixer';
  layout: SharedLayout;
  /** This worker's thread index (1…). */
  index: number;
  /** Images per shard. */
  capacity: number;
  /** The model's shape (plain data). */
  shape: unknown;
}

/** What a Node worker gets as `workerData`: its setup and the shared buffer. @internal */
export interface WorkerSetup extends ShardSetup {
  sab: SharedArrayBuffer;
}

/**
 * The first message to a browser kernels worker (`runKernelsWorker`): its setup, and either the shared buffer
 * (`shared`: it then waits on the control block like a Node worker) or nothing (`message`: each shard comes as a
 * {@link ShardRequest} and its results go back as a {@link ShardReply}).
 * @internal
 */
export type BrowserWorkerSetup = ShardSetup & ({ transport: 'shared'; sab: SharedArrayBuffer } | { transport: 'message' });

/** A shard of work for a message-passing worker: the parameters and this shard's inputs (copies, transferred). @internal */
export interface ShardRequest {
  command: number;
  /** The command's sequence number, echoed in the reply (so a late reply to an earlier command is told apart). */
  seq: number;
  /** The shard's first image in the batch, and its image count. */
  start: number;
  count: number;
  params: Float32Array;
  images: Float32Array;
  labels?: Uint8Array;
  gradScale: number;
  labelSmoothing: number;
}

/** A message-passing worker's results: gradients, loss and correct count (TRAIN) or logits (PREDICT). @internal */
export type ShardReply =
  | { type: 'ready' }
  | { type: 'trained'; seq: number; grads: Float32Array; loss: number; correct: number }
  | { type: 'predicted'; seq: number; logits: Float32Array }
  | { type: 'error'; message: string };

/**
 * What a kernel engine hands the other shards of a batch to: worker threads sharing memory with it (Node, or a
 * cross-origin isolated page) or web workers reached by messages. Results are read from `shared` after `wait()`.
 * @internal
 */
export interface KernelPool {
  /** Where results are read: `grads(w)`, `loss[w]`, `correct[w]`, `logits`. */
  readonly shared: SharedViews;
  /** Threads doing the math, the calling thread included. */
  readonly threads: number;
  /** The first worker failure, once there is one. */
  readonly failed: unknown;
  /**
   * Hands the shards of threads 1… (`counts[w]` images each, in order after the calling thread's `counts[0]`) to the
   * workers. @returns false when the calling thread has the whole batch (no worker was asked)
   */
  dispatch(
    command: number,
    counts: number[],
    params: Float32Array,
    x: Float32Array,
    y: Uint8Array | undefined,
    gradScale: number,
    labelSmoothing?: number,
  ): boolean;
  /** Resolves when every worker has finished the current command. */
  wait(): Promise<void>;
  /** Stops the workers. */
  close(): Promise<void>;
}

/** Options of a {@link PoolFactory}. @internal */
export interface PoolOptions {
  /** Threads doing the math, the calling thread included (so `threads - 1` workers). */
  threads: number;
  /** Images one worker's instance can process per call. */
  capacity: number;
  /** Largest batch handed over (sizes the shared input and logit regions). */
  maxBatch: number;
  /** f32s in the model's padded parameter block. */
  blockLength: number;
}

/** Starts the workers of a kernel engine for one model. @internal */
export type PoolFactory = (model: PoolModel, options: PoolOptions) => Promise<KernelPool>;

/** What a pool needs of a {@link KernelModel}: its module and its shape (posted to the workers). @internal */
export type PoolModel = Pick<KernelModel<unknown, { tensors: TensorSpec[] }>, 'module' | 'shape'>;

/**
 * The DOM-free shapes of the web-worker events the browser pools read, so that the package's types need no DOM lib:
 * a `MessageEvent` and an `ErrorEvent` fit them.
 */
export interface WorkerMessageLike {
  data: unknown;
}

/** See {@link WorkerMessageLike}. */
export interface WorkerErrorLike {
  message?: string;
  preventDefault?(): void;
}

/**
 * A handler slot typed as a method parameter (checked both ways), so that a DOM `Worker`'s
 * `((this: Worker, ev: MessageEvent) => any) | null` slot fits it.
 */
export type EventSlot<E> = { bivariance(event: E): void }['bivariance'] | null;
