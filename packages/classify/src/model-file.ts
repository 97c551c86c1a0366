/**
 * The classifier's model file: safetensors (`F16` or `F32` tensors, as `@fmnist/model` writes them) whose
 * `__metadata__` holds the model config, the class names and, for the bundled model, its provenance and measured
 * accuracy. A plain `@fmnist/model` checkpoint's `model.safetensors` reads as well (its class names default to
 * Fashion-MNIST's). One parser, every field checked: anything else is an `E_MODEL` naming the file and the field.
 */
import { CLASS_NAMES, hasControlCharacters } from '@fmnist/data';
import {
  canonicalPresetName,
  checkFinite,
  countParameters,
  decodeSafetensors,
  FmnistModelError,
  type ModelConfig,
  type ParamSet,
  paramSpecs,
  validateConfig,
} from '@fmnist/model/core';
import { FmnistClassifyError } from './errors';

/** `format` metadata value of the files {@link parseModelFile} reads: the classifier's own, or a checkpoint's weights. */
export const MODEL_FORMATS = ['fmnist-classify', 'fmnist'] as const;

/** Largest model file read (bytes): far above any preset (mixer-l in F32 is 4.5 MB), far below a memory problem. */
export const MAX_MODEL_BYTES = 256 * 1024 * 1024;

/** What a model file records about itself (all optional except the config). */
export interface ModelInfo {
  /** `fmnist-classify` (built by `scripts/build-model.mjs`) or `fmnist` (a checkpoint's weights). */
  format: string;
  /** The preset it was built from, when recorded (canonical: a file recording the old name `seed` says `coursework`). */
  preset?: string;
  /** Parameters of the model. */
  parameters: number;
  /** Test accuracy measured when the file was built (single pass, raw 28×28 test images, no crop or inversion). */
  accuracy?: number;
  /** Everything else of the metadata, as stored (strings; `provenance` is JSON). */
  metadata: Record<string, string>;
}

/** A parsed model file. */
export interface ModelFile {
  config: ModelConfig;
  params: ParamSet;
  classNames: string[];
  info: ModelInfo;
}

/**
 * Parses and checks a classifier model file.
 *
 * @param bytes - the file
 * @param name - its name or URL, for messages
 * @returns config, weights (float32), class names and what the file records
 * @throws FmnistClassifyError `E_MODEL` for anything that is not an fmnist model file (the `FmnistModelError` of the
 *   safetensors or weights check is its `cause`)
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { parseModelFile } from '@fmnist/classify';
 *
 * const { config, info } = parseModelFile(readFileSync('runs/a/checkpoint/model.safetensors'), 'model.safetensors');
 * ```
 */
export function parseModelFile(bytes: Uint8Array, name: string): ModelFile {
  const bad = (why: string, cause?: unknown): never => {
    throw new FmnistClassifyError(
      'E_MODEL',
      `${name}: not an fmnist classifier model (${why}). Pass a file written by @fmnist/classify's build-model script or a checkpoint's model.safetensors, or leave 'model' out for the bundled model.`,
      cause === undefined ? undefined : { cause },
    );
  };
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`'model' bytes must be a Uint8Array or an ArrayBuffer, got ${typeof bytes}.`);
  if (bytes.length > MAX_MODEL_BYTES) bad(`${bytes.length} bytes, more than the ${MAX_MODEL_BYTES} a model file may have`);
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes, name);
  } catch (err) {
    return bad(err instanceof FmnistModelError ? err.message.replace(/^.*?: /, '') : String(err), err);
  }
  const { tensors, metadata } = decoded;
  if (!MODEL_FORMATS.includes(metadata.format as never)) {
    bad(
      `metadata 'format' is ${JSON.stringify(metadata.format ?? null)}, expected one of ${MODEL_FORMATS.map((f) => `"${f}"`).join(', ')}`,
    );
  }
  let config: ModelConfig;
  try {
    config = JSON.parse(metadata.config ?? 'null');
    if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new Error('not a JSON object');
    validateConfig(config);
  } catch (err) {
    return bad(`metadata 'config' is not a valid model config: ${(err as Error).message}`, err);
  }
  let classNames: string[] = [...CLASS_NAMES];
  if (metadata.classNames !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(metadata.classNames);
    } catch (err) {
      return bad(`metadata 'classNames' is not JSON`, err);
    }
    if (!Array.isArray(parsed) || parsed.some((c) => typeof c !== 'string' || c.length === 0 || c.length > 200)) {
      bad(`metadata 'classNames' must be an array of non-empty strings`);
    }
    // A name with a control character (a newline, an escape, a bidirectional override) could forge lines or reorder
    // text wherever it is shown.
    if ((parsed as string[]).some(hasControlCharacters)) {
      bad(`metadata 'classNames' must be names without control characters (newlines, tabs, escapes, bidirectional overrides)`);
    }
    classNames = parsed as string[];
  }
  if (classNames.length !== config.numClasses) {
    bad(`${classNames.length} class names for a model of ${config.numClasses} classes`);
  }
  const params: ParamSet = {};
  const specs = paramSpecs(config);
  for (const spec of specs) {
    const t = tensors[spec.name];
    if (!t) bad(`tensor '${spec.name}' is missing for its config`);
    const tensor = t as NonNullable<typeof t>;
    if (tensor.shape.length !== spec.shape.length || tensor.shape.some((d, i) => d !== spec.shape[i])) {
      bad(`tensor '${spec.name}' has shape [${tensor.shape}], its config needs [${spec.shape}]`);
    }
    params[spec.name] = tensor.data;
  }
  const extra = Object.keys(tensors).filter((k) => !specs.some((s) => s.name === k));
  if (extra.length > 0) bad(`tensors ${extra.slice(0, 5).join(', ')} do not belong to its config`);
  try {
    checkFinite(params, name);
  } catch (err) {
    return bad((err as Error).message.replace(/^.*?: /, ''), err);
  }
  let accuracy: number | undefined;
  if (metadata.accuracy !== undefined) {
    accuracy = Number(metadata.accuracy);
    if (!(accuracy >= 0 && accuracy <= 1)) bad(`metadata 'accuracy' is ${JSON.stringify(metadata.accuracy)}, expected a number in [0, 1]`);
  }
  return {
    config,
    params,
    classNames,
    info: {
      format: metadata.format as string,
      // An old preset name (`seed`) reads as its canonical one (`coursework`); an unknown name is kept as written.
      ...(metadata.preset ? { preset: canonicalPresetName(metadata.preset) ?? metadata.preset } : {}),
      parameters: countParameters(config),
      ...(accuracy !== undefined ? { accuracy } : {}),
      metadata,
    },
  };
}
