/**
 * Browser inputs → RGBA pixels: `ImageBitmap`, canvases (`HTMLCanvasElement`, `OffscreenCanvas`) and encoded images
 * (`Blob`, bytes) decoded with `createImageBitmap`. Every API is feature-detected, so this module loads anywhere (Node,
 * workers) and fails with `E_IMAGE_UNSUPPORTED` only when such an input is given where the API is missing.
 */
import { FmnistClassifyError } from './errors';
import type { PixelInput } from './image-input';
import { checkImageSize } from './preprocess';

/** Something with a 2D context to read pixels from (`HTMLCanvasElement`, `OffscreenCanvas`). */
export interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): unknown;
}

interface Context2d {
  drawImage(image: unknown, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray; width: number; height: number };
}

const g = globalThis as unknown as {
  ImageBitmap?: new () => unknown;
  Blob?: typeof Blob;
  createImageBitmap?: (source: unknown) => Promise<{ width: number; height: number; close?: () => void }>;
  OffscreenCanvas?: new (w: number, h: number) => CanvasLike;
  document?: { createElement(tag: 'canvas'): CanvasLike };
};

/**
 * Whether a value is a canvas (has `getContext` and a size).
 * @internal
 */
export function isCanvasLike(value: unknown): value is CanvasLike {
  return typeof value === 'object' && value !== null && typeof (value as CanvasLike).getContext === 'function' && 'width' in value;
}

/** Whether a value is an `ImageBitmap` of this environment. @internal */
export const isImageBitmap = (value: unknown): boolean => typeof g.ImageBitmap === 'function' && value instanceof g.ImageBitmap;

/** A `Blob` or `File`, typed structurally (no DOM lib needed). */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** An `ImageBitmap`, typed structurally. */
export interface BitmapLike {
  readonly width: number;
  readonly height: number;
  close(): void;
}

/** Whether a value is a `Blob` (a `File` too). @internal */
export const isBlob = (value: unknown): value is BlobLike =>
  typeof value === 'object' &&
  value !== null &&
  ((typeof g.Blob === 'function' && value instanceof g.Blob) ||
    (typeof (value as BlobLike).arrayBuffer === 'function' &&
      typeof (value as BlobLike).size === 'number' &&
      typeof (value as BlobLike).type === 'string'));

function context(canvas: CanvasLike, what: string): Context2d {
  const ctx = canvas.getContext('2d') as Context2d | null;
  if (!ctx || typeof ctx.getImageData !== 'function') {
    throw new FmnistClassifyError(
      'E_IMAGE_UNSUPPORTED',
      `${what}: its 2D context is not available (a WebGL canvas, or one without a 2D context). Draw it onto a 2D canvas first, or pass its ImageData.`,
    );
  }
  return ctx;
}

/**
 * The RGBA pixels of a canvas.
 *
 * @param canvas - an `HTMLCanvasElement` or `OffscreenCanvas` with a 2D context
 * @returns its `ImageData`
 * @throws FmnistClassifyError `E_IMAGE_SIZE` for an empty canvas, `E_IMAGE_UNSUPPORTED` without a 2D context
 * @internal
 */
export function canvasPixels(canvas: CanvasLike): PixelInput {
  checkImageSize(canvas.width, canvas.height, canvas.width * canvas.height, 1, 'canvas');
  return context(canvas, 'canvas').getImageData(0, 0, canvas.width, canvas.height);
}

function newCanvas(width: number, height: number): CanvasLike {
  if (typeof g.OffscreenCanvas === 'function') return new g.OffscreenCanvas(width, height);
  if (g.document) {
    const canvas = g.document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    return canvas;
  }
  throw new FmnistClassifyError(
    'E_IMAGE_UNSUPPORTED',
    'No OffscreenCanvas or document here to read an ImageBitmap or a Blob into pixels. Pass { data, width, height } instead, or in Node use @fmnist/classify/node (files and encoded images, with sharp).',
  );
}

/**
 * The RGBA pixels of an `ImageBitmap` (drawn onto an `OffscreenCanvas`, or a canvas element).
 *
 * @param bitmap - the bitmap
 * @returns its pixels
 * @internal
 */
export function bitmapPixels(bitmap: { width: number; height: number }): PixelInput {
  checkImageSize(bitmap.width, bitmap.height, bitmap.width * bitmap.height, 1, 'ImageBitmap');
  const canvas = newCanvas(bitmap.width, bitmap.height);
  const ctx = context(canvas, 'canvas');
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
}

/**
 * Decodes an encoded image (a `Blob`/`File`, or its bytes) with `createImageBitmap`.
 *
 * @param source - the encoded image
 * @param name - for messages
 * @returns its RGBA pixels
 * @throws FmnistClassifyError `E_IMAGE_UNSUPPORTED` without `createImageBitmap`, `E_IMAGE_DECODE` when it is not an
 *   image the browser decodes
 * @internal
 */
export async function decodeInBrowser(source: BlobLike | Uint8Array, name: string): Promise<PixelInput> {
  if (typeof g.createImageBitmap !== 'function' || typeof g.Blob !== 'function') {
    throw new FmnistClassifyError(
      'E_IMAGE_UNSUPPORTED',
      `${name}: this environment has no createImageBitmap to decode encoded images. Pass { data, width, height } pixels, or in Node use @fmnist/classify/node (decodes with sharp).`,
    );
  }
  const blob = isBlob(source) ? source : new g.Blob([source as Uint8Array<ArrayBuffer>]);
  let bitmap: { width: number; height: number; close?: () => void };
  try {
    bitmap = await g.createImageBitmap(blob);
  } catch (err) {
    throw new FmnistClassifyError(
      'E_IMAGE_DECODE',
      `${name}: cannot decode it as an image (${(err as Error).message ?? String(err)}). Pass a PNG, JPEG, WebP or GIF file.`,
      { cause: err },
    );
  }
  try {
    return bitmapPixels(bitmap);
  } finally {
    bitmap.close?.();
  }
}
