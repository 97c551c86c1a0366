/**
 * `@fmnist/classify/node` (also what `@fmnist/classify` resolves to in Node, through the `node` export condition):
 * everything of the browser entry, plus file paths and encoded images (PNG, JPEG, WebP, GIF, TIFF, AVIF as bytes,
 * `Buffer` or `Blob`) decoded with `sharp` — an optional peer dependency, imported only when such an input is given —
 * and model files read from disk.
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type BitmapLike,
  type BlobLike,
  bitmapPixels,
  type CanvasLike,
  canvasPixels,
  isBlob,
  isCanvasLike,
  isImageBitmap,
} from './browser-decode';
import {
  type Classifier,
  type ClassifierOptions,
  createClassifierWith,
  type EntryAdapter,
  fetchModel,
  type ModelSource,
  modelBytesOf,
} from './classifier';
import { isPixelInput, type PixelInput } from './image-input';
import { MAX_MODEL_BYTES } from './model-file';
import { decodeImage, MAX_IMAGE_FILE_BYTES, readRegularFile } from './node-decode';

export * from './index';
export { type DecodedImage, decodeImage, MAX_IMAGE_FILE_BYTES, sniffImageFormat } from './node-decode';

/**
 * What the Node entry classifies: everything the browser entry does, plus a file path (string or `file:` URL) and
 * encoded image bytes (`Uint8Array`, `Buffer`, `ArrayBuffer`, `Blob`), decoded with sharp.
 */
export type NodeImageInput = PixelInput | BitmapLike | CanvasLike | BlobLike | Uint8Array | ArrayBuffer | string | URL;

/**
 * Reads and decodes one image file (or encoded bytes) to RGBA pixels, as `classify` does.
 *
 * @param source - a path, a `file:` URL, or the encoded bytes
 * @returns RGBA pixels, their size and the format
 * @throws FmnistClassifyError `E_FILE` (missing, not a regular file), `E_IMAGE_DECODE`, `E_IMAGE_SIZE`, `E_SHARP_MISSING`
 *
 * @example
 * ```ts
 * import { readImage } from '@fmnist/classify/node';
 *
 * const { width, height, format } = await readImage('shoe.png');
 * ```
 */
export async function readImage(source: string | URL | Uint8Array | ArrayBuffer): Promise<import('./node-decode').DecodedImage> {
  if (source instanceof Uint8Array) return decodeImage(source);
  if (source instanceof ArrayBuffer) return decodeImage(new Uint8Array(source));
  const path = source instanceof URL ? fileURLToPath(source) : source;
  return decodeImage(await readRegularFile(path, 'an image file (PNG, JPEG, WebP, GIF, TIFF or AVIF)', MAX_IMAGE_FILE_BYTES), path);
}

async function decodeNodeInput(image: unknown): Promise<PixelInput> {
  if (isPixelInput(image)) return image;
  if (typeof image === 'string' || image instanceof URL || image instanceof Uint8Array || image instanceof ArrayBuffer)
    return readImage(image);
  if (isBlob(image)) return decodeImage(new Uint8Array(await image.arrayBuffer()), 'Blob');
  if (isCanvasLike(image)) return canvasPixels(image);
  if (isImageBitmap(image)) return bitmapPixels(image as BitmapLike);
  throw new TypeError(
    `'image' must be a file path, encoded image bytes, a Blob, or decoded pixels { data, width, height }, got ${image === null ? 'null' : typeof image}.`,
  );
}

/**
 * The bundled model file's path: beside this module (`dist/fmnist-classify.safetensors`; in the source tree, where
 * the tests run, `model/fmnist-classify.safetensors`).
 *
 * @returns an absolute path
 *
 * @example
 * ```ts
 * import { bundledModelPath } from '@fmnist/classify/node';
 *
 * bundledModelPath(); // '/…/node_modules/@fmnist/classify/dist/fmnist-classify.safetensors'
 * ```
 */
export function bundledModelPath(): string {
  const beside = fileURLToPath(new URL('./fmnist-classify.safetensors', import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(new URL('../model/fmnist-classify.safetensors', import.meta.url));
}

const nodeAdapter: EntryAdapter<NodeImageInput> = {
  decode: decodeNodeInput,
  async loadModel(source: ModelSource | undefined, fetchOptions) {
    const bytes = modelBytesOf(source);
    if (bytes) return { bytes, name: 'model bytes' };
    if (source !== undefined && typeof source !== 'string' && !(source instanceof URL)) {
      throw new TypeError(`'model' must be a path, a URL or the file's bytes (Uint8Array, ArrayBuffer), got ${typeof source}.`);
    }
    const href = source === undefined ? undefined : String(source);
    if (href && /^https?:\/\//i.test(href)) return { bytes: await fetchModel(href, fetchOptions), name: href };
    const path = href === undefined ? bundledModelPath() : /^file:/i.test(href) ? fileURLToPath(href) : href;
    return { bytes: await readRegularFile(path, 'a model file (.safetensors)', MAX_MODEL_BYTES), name: path };
  },
};

/**
 * Loads a classifier: the bundled model, or `model` — a path, a `file:` / `http(s):` URL or the file's bytes — on the
 * WebAssembly-SIMD kernels (no onnxruntime).
 *
 * @param options - `model`, `engine`, `fetchOptions`
 * @returns a ready classifier whose `classify` also takes file paths and encoded images
 * @throws FmnistClassifyError `E_FILE` for a missing model file, `E_MODEL_FETCH` for a URL that fails, `E_MODEL` for a
 *   file that is not an fmnist model
 *
 * @example
 * ```ts
 * import { createClassifier } from '@fmnist/classify/node';
 *
 * const classifier = await createClassifier();
 * const top = await classifier.classify('shoe.png', { topK: 3 }); // [{ label: 'Sneaker', index: 7, score: 0.91 }, …]
 * classifier.dispose();
 * ```
 */
export function createClassifier(options: ClassifierOptions = {}): Promise<Classifier<NodeImageInput>> {
  return createClassifierWith(nodeAdapter, options);
}
