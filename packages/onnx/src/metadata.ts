import { fromBinary } from '@bufbuild/protobuf';
import { hasControlCharacters } from '@fmnist/data';
import {
  canonicalPresetName,
  FmnistModelError,
  type ModelConfig,
  type PresetName,
  type TrainingRecord,
  validateConfig,
} from '@fmnist/model/core';
import { FmnistOnnxError } from './errors';
import { type ModelProto, ModelProtoSchema } from './gen/onnx_pb';

/** Weight storage of an exported model. */
export type OnnxQuantization = 'none' | 'int8' | 'fp16';

/** Final metrics of the training run the weights come from (fractions in [0, 1]). */
export interface OnnxMetrics {
  /** Epochs completed when the weights were saved. */
  epoch: number;
  trainLoss?: number;
  trainAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
}

/** The data the model was trained on. */
export interface OnnxDatasetInfo {
  /** Always `fashion-mnist`. */
  name: 'fashion-mnist';
  /** Where the trainer found it (`system`, `cache`, `download`, …), or `unrecorded` when the checkpoint did not say. */
  source: string;
  /** SHA-256 of the decompressed IDX files by key (`trainImages`, …). */
  sha256: Record<string, string>;
  /** False when the checkpoint recorded no dataset and `sha256` holds the official checksums. */
  recorded: boolean;
}

/** What the input expects: the graph contract, also written into the model. */
export interface OnnxInputInfo {
  /** Input name: `image`. */
  name: string;
  /** `['batch', 1, 28, 28]`. */
  shape: (string | number)[];
  /** `unit`: pixels / 255, in [0, 1]. */
  normalization: 'unit';
}

/** Everything {@link readOnnxMetadata} returns. */
export interface OnnxMetadata {
  /** `fmnist-onnx`. */
  format: 'fmnist-onnx';
  /** Version of the metadata layout (1). */
  formatVersion: number;
  /** `producer_name`, e.g. `@fmnist/onnx`. */
  producerName: string;
  /** `producer_version`. */
  producerVersion: string;
  /** ONNX IR version of the file. */
  irVersion: number;
  /** Opset of the default (`ai.onnx`) domain. */
  opsetVersion: number;
  /** Class names, index = class id (`T-shirt/top` … `Ankle boot`). */
  classNames: string[];
  /** Input normalisation: `unit` (pixels / 255). */
  normalization: 'unit';
  /** Input name, shape and normalisation. */
  input: OnnxInputInfo;
  /** Output names: `['logits', 'probabilities']`. */
  outputs: string[];
  /** The preset the model came from, if any (canonical: a file that records the old name `seed` reads as `coursework`). */
  preset?: PresetName;
  /** The full model config. */
  config: ModelConfig;
  /** Number of trainable parameters. */
  parameters: number;
  /** Weight storage. */
  quantization: OnnxQuantization;
  /** Training hyperparameters (optimizer, learning rate, batch size, epochs, seed, …), when known. */
  training?: TrainingRecord;
  /** Final train/test metrics, when known. */
  metrics?: OnnxMetrics;
  /** Dataset and checksums. */
  dataset?: OnnxDatasetInfo;
  /** When the checkpoint was written (ISO 8601), when known. */
  trainedAt?: string;
  /** Every `metadata_props` entry as stored (including ones this package does not know). */
  raw: Record<string, string>;
}

/**
 * Keys of the `metadata_props` the exporter writes; structured values are JSON.
 *
 * | key | value |
 * | --- | --- |
 * | `format` | `fmnist-onnx` |
 * | `format_version` | `1` |
 * | `class_names` | JSON array of the 10 class names |
 * | `normalization` | `unit` (pixels / 255, in [0, 1]) |
 * | `input` | JSON `{ name, shape, normalization }` |
 * | `outputs` | JSON `["logits", "probabilities"]` |
 * | `preset` | preset name (absent for a custom config); files written before the rename say `seed`, read back as `coursework` |
 * | `config` | JSON of the full model config |
 * | `parameters` | parameter count |
 * | `quantization` | `none`, `int8` or `fp16` |
 * | `training` | JSON: optimizer, learningRate, beta1/2, epsilon, batchSize, epochs, seed, backend, threads, … |
 * | `metrics` | JSON: epoch, trainLoss, trainAccuracy, testLoss, testAccuracy |
 * | `dataset` | JSON: name, source, sha256 per file, recorded |
 * | `trained_at` | ISO date of the checkpoint |
 * | `producer` | `@fmnist/onnx@<version>` |
 *
 * @example
 * ```ts
 * readOnnxMetadata(bytes).raw[METADATA_KEYS.normalization]; // 'unit'
 * ```
 */
export const METADATA_KEYS = Object.freeze({
  format: 'format',
  formatVersion: 'format_version',
  classNames: 'class_names',
  normalization: 'normalization',
  input: 'input',
  outputs: 'outputs',
  preset: 'preset',
  config: 'config',
  parameters: 'parameters',
  quantization: 'quantization',
  training: 'training',
  metrics: 'metrics',
  dataset: 'dataset',
  trainedAt: 'trained_at',
  producer: 'producer',
} as const);

/** Decodes bytes as an ONNX ModelProto, or throws `E_NOT_ONNX`. @internal */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`'bytes' must be a Uint8Array (the contents of an .onnx file), got ${Object.prototype.toString.call(bytes)}.`);
  }
  const notOnnx = (why: string, cause?: unknown) =>
    new FmnistOnnxError('E_NOT_ONNX', `Not an ONNX model (${bytes.length} bytes): ${why}. Pass the bytes of an .onnx file.`, { cause });
  if (bytes.length === 0) throw notOnnx('the input is empty');
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: false });
  } catch (err) {
    throw notOnnx(`it does not parse as a protobuf ModelProto (${(err as Error).message})`, err);
  }
  if (model.irVersion <= 0n || model.irVersion > 1000n || !model.graph || model.opsetImport.length === 0) {
    throw notOnnx('it parses, but has no IR version, graph or opset import');
  }
  return model;
}

const DAMAGED = "The model's fmnist metadata is damaged:";
const REEXPORT = 'Export the checkpoint again with fmnist export (or exportOnnx).';

/** A short description of a JSON value for messages: `null`, `a string ("abc…")`, `an array of 3`, `the number NaN`. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
  if (typeof v === 'number') return `the number ${v}`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** `E_NO_METADATA` for a present but invalid entry: names the key, what it must be and what it holds. */
function damaged(key: string, expected: string, got: unknown, cause?: unknown): FmnistOnnxError {
  return new FmnistOnnxError('E_NO_METADATA', `${DAMAGED} '${key}' must be ${expected}, got ${describeValue(got)}. ${REEXPORT}`, { cause });
}

function json(raw: Record<string, string>, key: string, required: true): unknown;
function json(raw: Record<string, string>, key: string, required: false): unknown | undefined;
function json(raw: Record<string, string>, key: string, required: boolean): unknown | undefined {
  const text = raw[key];
  if (text === undefined) {
    if (required)
      throw new FmnistOnnxError('E_NO_METADATA', `The model's metadata has no '${key}' entry; export it again with @fmnist/onnx.`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FmnistOnnxError('E_NO_METADATA', `The model's metadata '${key}' is not valid JSON; export it again with @fmnist/onnx.`, {
      cause: err,
    });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Longest class name accepted (names are shown in tables and bars). */
export const MAX_CLASS_NAME_LENGTH = 100;
/** Most classes a model may declare. */
export const MAX_CLASSES = 1000;

/** `class_names`: an array of 2..MAX_CLASSES distinct, non-empty strings of at most MAX_CLASS_NAME_LENGTH characters. */
function checkClassNames(v: unknown): string[] {
  const key = METADATA_KEYS.classNames;
  const expected = `a JSON array of 2 to ${MAX_CLASSES} distinct, non-empty class names (strings)`;
  if (!Array.isArray(v) || v.length < 2 || v.length > MAX_CLASSES) throw damaged(key, expected, v);
  const seen = new Set<string>();
  v.forEach((name, i) => {
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_CLASS_NAME_LENGTH) {
      throw damaged(`${key}[${i}]`, `a non-empty string of at most ${MAX_CLASS_NAME_LENGTH} characters`, name);
    }
    if (hasControlCharacters(name)) {
      throw damaged(`${key}[${i}]`, 'a class name without control characters (newlines, tabs, escapes, bidirectional overrides)', name);
    }
    if (seen.has(name)) throw damaged(`${key}[${i}]`, 'distinct from the other class names', name);
    seen.add(name);
  });
  return v as string[];
}

function checkInput(v: unknown): OnnxInputInfo {
  const key = METADATA_KEYS.input;
  if (!isObject(v)) throw damaged(key, 'a JSON object { name, shape, normalization }', v);
  if (typeof v.name !== 'string' || v.name === '') throw damaged(`${key}.name`, 'a non-empty string', v.name);
  const shape = v.shape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.length > 8)
    throw damaged(`${key}.shape`, 'an array of 1 to 8 dimensions', shape);
  shape.forEach((d, i) => {
    const ok = (typeof d === 'string' && d !== '') || (typeof d === 'number' && Number.isSafeInteger(d) && d > 0);
    if (!ok) throw damaged(`${key}.shape[${i}]`, 'a positive integer or a dimension name', d);
  });
  if (v.normalization !== undefined && v.normalization !== 'unit') throw damaged(`${key}.normalization`, "'unit'", v.normalization);
  return { name: v.name, shape: shape as (string | number)[], normalization: 'unit' };
}

function checkOutputs(v: unknown): string[] {
  const key = METADATA_KEYS.outputs;
  if (!Array.isArray(v) || v.length === 0 || v.some((o) => typeof o !== 'string' || o === '')) {
    throw damaged(key, 'a JSON array of output names (non-empty strings)', v);
  }
  return v as string[];
}

function checkConfig(v: unknown): ModelConfig {
  if (!isObject(v)) throw damaged(METADATA_KEYS.config, 'a model config object', v);
  try {
    validateConfig(v as unknown as ModelConfig);
  } catch (err) {
    if (err instanceof FmnistModelError) {
      throw new FmnistOnnxError('E_NO_METADATA', `${DAMAGED} it holds an invalid config (${err.message}) ${REEXPORT}`, { cause: err });
    }
    throw err;
  }
  return v as unknown as ModelConfig;
}

/** Checks the listed fields of an optional metadata object: numbers finite (and in range), strings strings. */
function checkRecord(
  key: string,
  v: unknown,
  fields: Record<string, 'number' | 'count' | 'fraction' | 'string' | 'boolean'>,
): Record<string, unknown> {
  if (!isObject(v)) throw damaged(key, 'a JSON object', v);
  for (const [field, kind] of Object.entries(fields)) {
    const value = v[field];
    if (value === undefined) continue;
    const where = `${key}.${field}`;
    if (kind === 'string' && typeof value !== 'string') throw damaged(where, 'a string', value);
    if (kind === 'boolean' && typeof value !== 'boolean') throw damaged(where, 'true or false', value);
    if (kind === 'number' && !isFiniteNumber(value)) throw damaged(where, 'a finite number', value);
    if (kind === 'count' && !(Number.isSafeInteger(value) && (value as number) >= 0)) throw damaged(where, 'a non-negative integer', value);
    if (kind === 'fraction' && !(isFiniteNumber(value) && value >= 0 && value <= 1)) throw damaged(where, 'a fraction in [0, 1]', value);
  }
  return v;
}

const TRAINING_FIELDS = {
  optimizer: 'string',
  learningRate: 'number',
  beta1: 'number',
  beta2: 'number',
  epsilon: 'number',
  weightDecay: 'number',
  batchSize: 'count',
  epochs: 'count',
  seed: 'number',
  initSeed: 'number',
  backend: 'string',
  threads: 'count',
  trainExamples: 'count',
  lrSchedule: 'string',
} as const;

const METRICS_FIELDS = {
  epoch: 'count',
  trainLoss: 'number',
  trainAccuracy: 'fraction',
  testLoss: 'number',
  testAccuracy: 'fraction',
} as const;

function checkDataset(v: unknown): OnnxDatasetInfo {
  const key = METADATA_KEYS.dataset;
  const d = checkRecord(key, v, { name: 'string', source: 'string', recorded: 'boolean' });
  if (d.name !== 'fashion-mnist') throw damaged(`${key}.name`, "'fashion-mnist'", d.name);
  if (typeof d.source !== 'string') throw damaged(`${key}.source`, 'a string', d.source);
  if (typeof d.recorded !== 'boolean') throw damaged(`${key}.recorded`, 'true or false', d.recorded);
  if (!isObject(d.sha256) || Object.values(d.sha256).some((h) => typeof h !== 'string')) {
    throw damaged(`${key}.sha256`, 'an object of hex strings', d.sha256);
  }
  return d as unknown as OnnxDatasetInfo;
}

/** A metadata entry holding a non-negative integer (`parameters`, `format_version`). */
function integerEntry(raw: Record<string, string>, key: string, fallback?: number): number {
  const text = raw[key];
  if (text === undefined) {
    if (fallback !== undefined) return fallback;
    throw new FmnistOnnxError('E_NO_METADATA', `The model's metadata has no '${key}' entry; export it again with @fmnist/onnx.`);
  }
  const n = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw damaged(key, 'a non-negative integer', text);
  return n;
}

/**
 * Reads the metadata of a model written by {@link exportOnnx}: class names, normalisation, preset and config,
 * training hyperparameters, final accuracies, dataset checksums, producer. Works in the browser (the web app's model
 * card uses it); only the protobuf is decoded, nothing is run. Every entry is checked against the layout the exporter
 * writes, so the result's types hold: class names are 2 or more distinct strings, numbers are finite, the config is
 * valid.
 *
 * @param bytes - the contents of an `.onnx` file
 * @returns the typed {@link OnnxMetadata}
 * @throws FmnistOnnxError `E_NOT_ONNX` for bytes that are not an ONNX model, `E_NO_METADATA` for an ONNX model not
 *   exported by this package, or whose metadata is damaged (the message names the entry, e.g. `'class_names' must be
 *   a JSON array of 2 to 1000 distinct, non-empty class names (strings), got null`)
 *
 * @example
 * ```ts
 * const meta = readOnnxMetadata(exportOnnx(createModel('patch-mlp')));
 * meta.classNames[9]; // 'Ankle boot'
 * meta.config.dim; // 128
 * ```
 */
export function readOnnxMetadata(bytes: Uint8Array): OnnxMetadata {
  return metadataFromModel(decodeModel(bytes));
}

/** {@link readOnnxMetadata} of a decoded model (so that readers of the weights decode the bytes once). @internal */
export function metadataFromModel(model: ModelProto): OnnxMetadata {
  const raw: Record<string, string> = {};
  for (const { key, value } of model.metadataProps) raw[key] = value;
  const K = METADATA_KEYS;
  if (raw[K.format] !== 'fmnist-onnx') {
    const producer = model.producerName ? ` (producer: ${model.producerName} ${model.producerVersion})` : '';
    throw new FmnistOnnxError(
      'E_NO_METADATA',
      `This ONNX model${producer} was not exported by @fmnist/onnx: its metadata has no 'format: fmnist-onnx'. Export the checkpoint with exportOnnx().`,
    );
  }
  const opset = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const normalization = raw[K.normalization];
  if (normalization !== 'unit') {
    throw new FmnistOnnxError('E_NO_METADATA', `Unknown input normalisation '${normalization}' in the model's metadata (expected 'unit').`);
  }
  const quantization = (raw[K.quantization] ?? 'none') as OnnxQuantization;
  if (!['none', 'int8', 'fp16'].includes(quantization)) {
    throw new FmnistOnnxError(
      'E_NO_METADATA',
      `Unknown quantization '${quantization}' in the model's metadata (expected none, int8 or fp16).`,
    );
  }
  const formatVersion = integerEntry(raw, K.formatVersion, 1);
  if (formatVersion < 1) throw damaged(K.formatVersion, 'a positive integer', raw[K.formatVersion]);
  const result: OnnxMetadata = {
    format: 'fmnist-onnx',
    formatVersion,
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    irVersion: Number(model.irVersion),
    opsetVersion: Number(opset?.version ?? 0),
    classNames: checkClassNames(json(raw, K.classNames, true)),
    normalization,
    input: checkInput(json(raw, K.input, true)),
    outputs: checkOutputs(json(raw, K.outputs, true)),
    config: checkConfig(json(raw, K.config, true)),
    parameters: integerEntry(raw, K.parameters),
    quantization,
    raw,
  };
  // A file from before the rename records `seed`: it reads as `coursework`, like every other preset name read back.
  // A name this release does not know is kept as written (a newer release's preset); `raw` holds the text either way.
  if (raw[K.preset]) result.preset = (canonicalPresetName(raw[K.preset]) ?? raw[K.preset]) as PresetName;
  const training = json(raw, K.training, false);
  if (training !== undefined) {
    const t = checkRecord(K.training, training, TRAINING_FIELDS);
    if (t.augment !== undefined && t.augment !== 'none' && typeof t.augment !== 'string' && !isObject(t.augment)) {
      throw damaged(`${K.training}.augment`, 'an augmentation object', t.augment);
    }
    result.training = t as unknown as TrainingRecord;
  }
  const metrics = json(raw, K.metrics, false);
  if (metrics !== undefined) result.metrics = checkRecord(K.metrics, metrics, METRICS_FIELDS) as unknown as OnnxMetrics;
  const dataset = json(raw, K.dataset, false);
  if (dataset !== undefined) result.dataset = checkDataset(dataset);
  if (raw[K.trainedAt]) result.trainedAt = raw[K.trainedAt];
  return result;
}
