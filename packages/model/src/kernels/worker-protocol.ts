import { IMAGE_PIXELS, NUM_CLASSES } from './core';

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

/** Typed views of the shared buffer. @internal */
export function sharedViews(sab: SharedArrayBuffer, L: SharedLayout) {
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

/** What a worker gets as `workerData`. @internal */
export interface WorkerSetup {
  /** The compiled kernels module. */
  module: WebAssembly.Module;
  /** Which model's compute to run on it (a key of the worker's compute table). */
  kind: 'mixer';
  sab: SharedArrayBuffer;
  layout: SharedLayout;
  /** This worker's thread index (1…). */
  index: number;
  /** Images per shard. */
  capacity: number;
  /** The model's shape (plain data). */
  shape: unknown;
}
