import { fromBinary } from '@bufbuild/protobuf';
import type { ModelConfig, PresetName, TrainingRecord } from '@fmnist/model/core';
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
  /** The preset the model came from, if any. */
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
 * | `preset` | preset name (absent for a custom config) |
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

function json<T>(raw: Record<string, string>, key: string, required: true): T;
function json<T>(raw: Record<string, string>, key: string, required: false): T | undefined;
function json<T>(raw: Record<string, string>, key: string, required: boolean): T | undefined {
  const text = raw[key];
  if (text === undefined) {
    if (required)
      throw new FmnistOnnxError('E_NO_METADATA', `The model's metadata has no '${key}' entry; export it again with @fmnist/onnx.`);
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new FmnistOnnxError('E_NO_METADATA', `The model's metadata '${key}' is not valid JSON; export it again with @fmnist/onnx.`, {
      cause: err,
    });
  }
}

/**
 * Reads the metadata of a model written by {@link exportOnnx}: class names, normalisation, preset and config,
 * training hyperparameters, final accuracies, dataset checksums, producer. Works in the browser (the web app's model
 * card uses it); only the protobuf is decoded, nothing is run.
 *
 * @param bytes - the contents of an `.onnx` file
 * @returns the typed {@link OnnxMetadata}
 * @throws FmnistOnnxError `E_NOT_ONNX` for bytes that are not an ONNX model, `E_NO_METADATA` for an ONNX model not
 *   exported by this package
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
  const result: OnnxMetadata = {
    format: 'fmnist-onnx',
    formatVersion: Number(raw[K.formatVersion] ?? 1),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    irVersion: Number(model.irVersion),
    opsetVersion: Number(opset?.version ?? 0),
    classNames: json<string[]>(raw, K.classNames, true),
    normalization,
    input: json<OnnxInputInfo>(raw, K.input, true),
    outputs: json<string[]>(raw, K.outputs, true),
    config: json<ModelConfig>(raw, K.config, true),
    parameters: Number(raw[K.parameters]),
    quantization,
    raw,
  };
  if (raw[K.preset]) result.preset = raw[K.preset] as PresetName;
  const training = json<TrainingRecord>(raw, K.training, false);
  if (training) result.training = training;
  const metrics = json<OnnxMetrics>(raw, K.metrics, false);
  if (metrics) result.metrics = metrics;
  const dataset = json<OnnxDatasetInfo>(raw, K.dataset, false);
  if (dataset) result.dataset = dataset;
  if (raw[K.trainedAt]) result.trainedAt = raw[K.trainedAt];
  return result;
}
