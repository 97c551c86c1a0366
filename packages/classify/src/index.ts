/**
 * `@fmnist/classify`: classify a picture of a garment with the trained Fashion-MNIST model shipped inside the package —
 * one call, no training run, no onnxruntime. The shape follows transformers.js pipelines:
 * `await (await createClassifier()).classify(image, { topK: 3 })` → `[{ label, index, score }, …]`.
 *
 * This is the browser (and default) entry: pixels, `ImageData`, `ImageBitmap`, canvases and `Blob`s. Node gets file
 * paths and encoded images as well from `@fmnist/classify/node` (also picked by the `node` export condition). The
 * preprocessing ({@link prepareImage}) is exported too, for pages that show what the model sees.
 *
 * @packageDocumentation
 */
import { browserAdapter, type ImageInput } from './browser-entry';
import { type Classifier, type ClassifierOptions, createClassifierWith } from './classifier';

export type { BitmapLike, BlobLike, CanvasLike } from './browser-decode';
export { BUNDLED_MODEL_FILE, type ImageInput } from './browser-entry';
export {
  type Classification,
  type Classifier,
  type ClassifierOptions,
  type ClassifyOptions,
  DEFAULT_TOP_K,
  type ModelFetchOptions,
  type ModelSource,
  type PreparedInput,
} from './classifier';
export { FmnistClassifyError, type FmnistClassifyErrorCode } from './errors';
export { type PixelInput, readPixels } from './image-input';
export { MAX_MODEL_BYTES, MODEL_FORMATS, type ModelFile, type ModelInfo, parseModelFile } from './model-file';
export {
  AUTO_INVERT_THRESHOLD,
  borderMean,
  contentBounds,
  cropToContent,
  DEFAULT_CONTENT_THRESHOLD,
  fitToSquare,
  type GrayImage,
  IMAGE_SIZE,
  type InvertMode,
  invertPixels,
  MAX_IMAGE_PIXELS,
  type PreparedImage,
  type PrepareOptions,
  prepareImage,
  type RgbaImage,
  resizeLanczos,
  shrinkBox,
  toGrayscale,
  toModelInput,
} from './preprocess';

/**
 * Loads a classifier: the bundled model (fetched from beside this module: `dist/fmnist-classify.safetensors`, which
 * bundlers such as Vite copy as an asset) or `model` — a URL or the file's bytes — on the WebAssembly-SIMD kernels.
 *
 * @param options - `model`, `engine`, `fetchOptions`
 * @returns a ready classifier
 * @throws FmnistClassifyError `E_MODEL_FETCH` when the model cannot be fetched, `E_MODEL` when it is not an fmnist
 *   model; FmnistModelError `E_BACKEND` without WebAssembly SIMD
 *
 * @example
 * ```ts
 * import { createClassifier } from '@fmnist/classify';
 *
 * const classifier = await createClassifier();
 * const canvas = new OffscreenCanvas(28, 28); // or a <canvas>, an ImageBitmap, ImageData, a Blob
 * const top = await classifier.classify(canvas, { topK: 3 }); // [{ label: 'Bag', index: 8, score: 0.4 }, …]
 * ```
 */
export function createClassifier(options: ClassifierOptions = {}): Promise<Classifier<ImageInput>> {
  return createClassifierWith(browserAdapter, options);
}
