import { FmnistError } from '@fmnist/data';

/**
 * Stable codes of {@link FmnistClassifyError}. They never change meaning between releases.
 *
 * | code | meaning |
 * | --- | --- |
 * | `E_IMAGE_SIZE` | a width or height that is not a positive integer, or a picture of more than 16,383 × 16,383 pixels |
 * | `E_IMAGE_DATA` | pixel data whose length is not `width × height` (grey) or `width × height × 4` (RGBA), or float values that are NaN or outside [0, 1] |
 * | `E_IMAGE_DECODE` | bytes, a `Blob` or a file that is not a decodable raster image (PNG, JPEG, WebP, GIF, TIFF, AVIF; SVG is refused), or is corrupt |
 * | `E_IMAGE_UNSUPPORTED` | an input this environment cannot read (a file path or encoded bytes in the browser entry, a `Blob` without `createImageBitmap`) |
 * | `E_FILE` | an image or model path that does not exist, is not a regular file, or cannot be read |
 * | `E_MODEL` | a model file that is not an fmnist classifier: not safetensors, no or bad `config` / `classNames` metadata, tensors of the wrong shape, NaN weights |
 * | `E_MODEL_FETCH` | a model URL that could not be fetched (network error or an HTTP error status) |
 * | `E_SHARP_MISSING` | a file path or encoded image was given to the Node entry, but the optional peer `sharp` is not installed (`npm i sharp`) |
 * | `E_DISPOSED` | `classify()` on a classifier after `dispose()` |
 */
export type FmnistClassifyErrorCode =
  | 'E_IMAGE_SIZE'
  | 'E_IMAGE_DATA'
  | 'E_IMAGE_DECODE'
  | 'E_IMAGE_UNSUPPORTED'
  | 'E_FILE'
  | 'E_MODEL'
  | 'E_MODEL_FETCH'
  | 'E_SHARP_MISSING'
  | 'E_DISPOSED';

/**
 * An error from `@fmnist/classify` with a stable `code`; the message names the input and the fix. Errors of the model
 * file's parser (`FmnistModelError`) are kept as `cause`.
 *
 * @example
 * ```ts
 * import { createClassifier, FmnistClassifyError } from '@fmnist/classify';
 *
 * const classifier = await createClassifier();
 * try {
 *   await classifier.classify({ data: new Uint8Array(10), width: 28, height: 28 });
 * } catch (err) {
 *   if (err instanceof FmnistClassifyError && err.code === 'E_IMAGE_DATA') console.error(err.message);
 * }
 * ```
 */
export class FmnistClassifyError extends FmnistError {
  declare readonly code: FmnistClassifyErrorCode;

  /**
   * @param code - one of {@link FmnistClassifyErrorCode}
   * @param message - what went wrong and how to fix it
   * @param options - `cause` of a wrapped error
   */
  constructor(code: FmnistClassifyErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'FmnistClassifyError';
  }
}
