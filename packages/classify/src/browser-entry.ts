/**
 * The browser adapter of the classifier: pixel objects, `ImageBitmap`, canvases and encoded images (`Blob`, bytes)
 * decoded with `createImageBitmap`; model URLs fetched, the bundled model fetched from beside this module.
 */
import {
  type BitmapLike,
  type BlobLike,
  bitmapPixels,
  type CanvasLike,
  canvasPixels,
  decodeInBrowser,
  isBlob,
  isCanvasLike,
  isImageBitmap,
} from './browser-decode';
import { type EntryAdapter, fetchModel, type ModelSource, modelBytesOf } from './classifier';
import { FmnistClassifyError } from './errors';
import { isPixelInput, type PixelInput } from './image-input';

/** File name of the bundled model, beside the package's built modules (`dist/`). */
export const BUNDLED_MODEL_FILE = 'fmnist-classify.safetensors';

/**
 * What the browser entry classifies: decoded pixels (`ImageData` or `{ data, width, height }`), an `ImageBitmap`, a
 * canvas (`HTMLCanvasElement`, `OffscreenCanvas`), or an encoded image as a `Blob`/`File` or bytes.
 */
export type ImageInput = PixelInput | BitmapLike | CanvasLike | BlobLike | Uint8Array | ArrayBuffer;

/** Decodes one browser input. @internal */
export async function decodeBrowserInput(image: unknown): Promise<PixelInput> {
  if (isPixelInput(image)) return image;
  if (isCanvasLike(image)) return canvasPixels(image);
  if (isImageBitmap(image)) return bitmapPixels(image as BitmapLike);
  if (isBlob(image)) return decodeInBrowser(image, 'Blob');
  if (image instanceof Uint8Array) return decodeInBrowser(image, 'image bytes');
  if (image instanceof ArrayBuffer) return decodeInBrowser(new Uint8Array(image), 'image bytes');
  if (typeof image === 'string') {
    throw new FmnistClassifyError(
      'E_IMAGE_UNSUPPORTED',
      `'image' is a string (${JSON.stringify(image.slice(0, 80))}); the browser entry reads no files or URLs. Fetch it into a Blob first, or in Node import @fmnist/classify/node.`,
    );
  }
  throw new TypeError(
    `'image' must be ImageData or { data, width, height }, an ImageBitmap, a canvas, a Blob or encoded bytes, got ${image === null ? 'null' : typeof image}.`,
  );
}

/**
 * The bundled model's URL: beside this module. A literal string, so bundlers (Vite, webpack, Parcel) see one asset
 * (a template literal would make Vite copy every file of `dist/` as a glob). @internal
 */
export const bundledModelUrl = (): URL => new URL('./fmnist-classify.safetensors', import.meta.url);

/** The browser adapter. @internal */
export const browserAdapter: EntryAdapter<ImageInput> = {
  decode: decodeBrowserInput,
  async loadModel(source: ModelSource | undefined, fetchOptions) {
    const bytes = modelBytesOf(source);
    if (bytes) return { bytes, name: 'model bytes' };
    if (source !== undefined && typeof source !== 'string' && !(source instanceof URL)) {
      throw new TypeError(`'model' must be a URL (string or URL) or the file's bytes (Uint8Array, ArrayBuffer), got ${typeof source}.`);
    }
    const url = source === undefined ? bundledModelUrl().href : String(source);
    return { bytes: await fetchModel(url, fetchOptions), name: url };
  },
};
