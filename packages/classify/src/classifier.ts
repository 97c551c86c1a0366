/**
 * `createClassifier`, shared by the browser and the Node entries: the model (bundled, a URL or bytes) on the
 * WebAssembly-SIMD kernels of `@fmnist/model/core`, and one input path — decode (entry-specific), {@link prepareImage},
 * `/255`, logits, softmax, top-k.
 */
import { IMAGE_PIXELS } from '@fmnist/data';
import { createPredictor, type ModelConfig, type Predictor } from '@fmnist/model/core';
import { FmnistClassifyError } from './errors';
import { type PixelInput, readPixels } from './image-input';
import { MAX_MODEL_BYTES, type ModelInfo, parseModelFile } from './model-file';
import { type InvertMode, type PreparedImage, prepareImage, toModelInput } from './preprocess';

/**
 * A model to load: a URL (string or `URL`; in Node also a file path or a `file:` URL), or the file's bytes.
 * See `createClassifier` of each entry.
 */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer;

/** What `fetch` is given for a URL model (a subset of `RequestInit`, typed without the DOM lib). */
export interface ModelFetchOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  credentials?: 'omit' | 'same-origin' | 'include';
}

/** Options of `createClassifier`. */
export interface ClassifierOptions {
  /** The model file (safetensors written by the build-model script, or a checkpoint's `model.safetensors`). @defaultValue the bundled model */
  model?: ModelSource;
  /**
   * Runs the model instead of the built-in kernels predictor: any function from `n × 784` inputs (pixels / 255) to
   * `n × 10` logits, e.g. an onnxruntime session. @defaultValue the WebAssembly-SIMD kernels of `@fmnist/model/core`
   */
  engine?: { predict(x: Float32Array, n: number): Float32Array | Promise<Float32Array> };
  /** Passed to `fetch` for a URL model. */
  fetchOptions?: ModelFetchOptions;
}

/** Options of {@link Classifier.classify}. */
export interface ClassifyOptions {
  /** How many classes to return, best first (1 to the number of classes). @defaultValue 5 */
  topK?: number;
  /** Invert a dark garment on a light background; `'auto'` decides from the picture's border. @defaultValue 'auto' */
  invert?: InvertMode;
  /** Crop to the garment before fitting it into 28×28. @defaultValue true */
  crop?: boolean;
}

/** One class of a result: its name, index and probability. */
export interface Classification {
  /** Class name, e.g. `'Ankle boot'`. */
  label: string;
  /** Class index (0–9 for Fashion-MNIST). */
  index: number;
  /** Softmax probability, 0–1. */
  score: number;
}

/** A prepared image with the size it had before. */
export interface PreparedInput extends PreparedImage {
  /** Width and height of the picture as given or decoded. */
  width: number;
  height: number;
}

/** A loaded classifier. */
export interface Classifier<Input> {
  /** Class names, by index. */
  readonly classNames: readonly string[];
  /** The model's config. */
  readonly config: ModelConfig;
  /** What the model file records: format, preset, parameters, measured accuracy, metadata. */
  readonly info: ModelInfo;
  /**
   * Classifies one picture, or a batch (an array) in one pass.
   *
   * @param image - see the entry's input type
   * @param options - `topK`, `invert`, `crop`
   * @returns the top-k classes, best first (an array of them for a batch)
   */
  classify(image: Input, options?: ClassifyOptions): Promise<Classification[]>;
  classify(images: readonly Input[], options?: ClassifyOptions): Promise<Classification[][]>;
  /**
   * Converts a picture as `classify` does, without running the model: the 28×28 bytes the model sees.
   *
   * @param image - see the entry's input type
   * @param options - `invert`, `crop`
   * @returns the 784 bytes and what was done
   */
  prepare(image: Input, options?: Omit<ClassifyOptions, 'topK'>): Promise<PreparedInput>;
  /**
   * Classifies images already in the model's format (784 bytes each, light on dark: e.g. test-set images).
   *
   * @param pixels - `n × 784` bytes
   * @param options - `topK`
   * @returns the top-k classes of each image
   */
  classifyPixels(pixels: Uint8Array, options?: Pick<ClassifyOptions, 'topK'>): Promise<Classification[][]>;
  /** Frees the kernels' memory; `classify` afterwards throws `E_DISPOSED`. */
  dispose(): void;
}

/** How an entry turns its own inputs into pixels and a model source into bytes. @internal */
export interface EntryAdapter<Input> {
  /** Turns what `classify` was given into pixels (or throws a coded error). */
  decode(image: Input): Promise<PixelInput>;
  /** Reads a model source (the bundled one when `source` is undefined). Returns the bytes and a name for messages. */
  loadModel(source: ModelSource | undefined, fetchOptions?: ModelFetchOptions): Promise<{ bytes: Uint8Array; name: string }>;
}

/** Default number of classes `classify` returns. */
export const DEFAULT_TOP_K = 5;

function softmax(logits: Float32Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp((logits[i] as number) - max);
    sum += out[i] as number;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/**
 * Fetches a model URL.
 * @throws FmnistClassifyError `E_MODEL_FETCH` for a network error or an HTTP error status
 * @internal
 */
export async function fetchModel(url: string, fetchOptions?: ModelFetchOptions): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, fetchOptions as RequestInit | undefined);
  } catch (err) {
    throw new FmnistClassifyError(
      'E_MODEL_FETCH',
      `${url}: the model could not be fetched (${(err as Error).message}${(err as { cause?: Error }).cause?.message ? `: ${(err as { cause?: Error }).cause?.message}` : ''}). Check the URL and the network, or pass the file's bytes.`,
      { cause: err },
    );
  }
  if (!response.ok) {
    throw new FmnistClassifyError(
      'E_MODEL_FETCH',
      `${url}: the server answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} for the model. Check the URL, or pass the file's bytes.`,
    );
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > MAX_MODEL_BYTES) {
    throw new FmnistClassifyError(
      'E_MODEL',
      `${url}: the server announces ${declared} bytes, more than the ${MAX_MODEL_BYTES} a model file may have; not downloaded. Check the URL.`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** The model bytes of a `Uint8Array` / `ArrayBuffer` source, or undefined for other sources. @internal */
export function modelBytesOf(source: ModelSource | undefined): Uint8Array | undefined {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  return undefined;
}

/**
 * Builds a classifier for an entry. @internal
 */
export async function createClassifierWith<Input>(
  adapter: EntryAdapter<Input>,
  options: ClassifierOptions = {},
): Promise<Classifier<Input>> {
  const { bytes, name } = await adapter.loadModel(options.model, options.fetchOptions);
  const model = parseModelFile(bytes, name);
  const { config, classNames, info } = model;
  let predictor: Predictor | undefined;
  let engine = options.engine;
  if (!engine) {
    predictor = await createPredictor(model);
    engine = predictor;
  }
  let disposed = false;
  const classes = classNames.length;

  const topKOf = (options: Pick<ClassifyOptions, 'topK'>): number => {
    const k = options.topK ?? Math.min(DEFAULT_TOP_K, classes);
    if (!Number.isInteger(k) || k < 1 || k > classes)
      throw new RangeError(`'topK' must be an integer from 1 to ${classes}, got ${String(k)}.`);
    return k;
  };
  const live = () => {
    if (disposed) throw new FmnistClassifyError('E_DISPOSED', 'This classifier was disposed. Create a new one with createClassifier().');
  };

  const run = async (pixels: Uint8Array, k: number): Promise<Classification[][]> => {
    live();
    const n = pixels.length / IMAGE_PIXELS;
    const logits = await (engine as NonNullable<typeof engine>).predict(toModelInput(pixels), n);
    if (!(logits instanceof Float32Array) || logits.length !== n * classes) {
      throw new FmnistClassifyError(
        'E_MODEL',
        `the engine returned ${logits?.length} logits for ${n} images; expected ${n * classes} (${classes} per image).`,
      );
    }
    const results: Classification[][] = [];
    for (let i = 0; i < n; i++) {
      const probs = softmax(logits.subarray(i * classes, (i + 1) * classes));
      const order = Array.from(probs.keys()).sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
      results.push(order.slice(0, k).map((index) => ({ label: classNames[index] as string, index, score: probs[index] as number })));
    }
    return results;
  };

  const prepare = async (image: Input, opts: Omit<ClassifyOptions, 'topK'> = {}): Promise<PreparedInput> => {
    live();
    const decoded = await adapter.decode(image);
    const prepared = prepareImage(readPixels(decoded), { invert: opts.invert ?? 'auto', crop: opts.crop ?? true });
    return { ...prepared, width: decoded.width, height: decoded.height };
  };

  const classifier: Classifier<Input> = {
    classNames,
    config,
    info,
    prepare,
    classify: (async (input: Input | readonly Input[], opts: ClassifyOptions = {}) => {
      const k = topKOf(opts);
      const batch = Array.isArray(input);
      const list = (batch ? input : [input]) as Input[];
      const all = new Uint8Array(list.length * IMAGE_PIXELS);
      for (const [i, image] of list.entries()) all.set((await prepare(image, opts)).pixels, i * IMAGE_PIXELS);
      const results = await run(all, k);
      return batch ? results : results[0];
    }) as Classifier<Input>['classify'],
    async classifyPixels(pixels, opts = {}) {
      if (!(pixels instanceof Uint8Array) || pixels.length % IMAGE_PIXELS !== 0) {
        throw new FmnistClassifyError(
          'E_IMAGE_DATA',
          `'pixels' must be a Uint8Array of whole 28×28 images (a multiple of ${IMAGE_PIXELS} bytes), got ${pixels instanceof Uint8Array ? `${pixels.length} bytes` : typeof pixels}.`,
        );
      }
      return run(pixels, topKOf(opts));
    },
    dispose() {
      disposed = true;
      predictor = undefined; // the kernels' memory goes with the last reference
      engine = undefined;
    },
  };
  return classifier;
}
