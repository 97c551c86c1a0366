import { create, toBinary } from '@bufbuild/protobuf';
import { CLASS_NAMES, FASHION_MNIST_FILES } from '@fmnist/data';
import {
  type Checkpoint,
  type CheckpointMeta,
  canonicalPresetName,
  decodeSafetensors,
  type EpochRecord,
  FmnistModelError,
  IMAGE_SIZE,
  type ModelConfig,
  numPatches,
  type ParamSet,
  type ParamSpec,
  PRESETS,
  type PresetAlias,
  type PresetName,
  paramSpecs,
  parseMeta,
  resolveConfig,
  type TrainingRecord,
} from '@fmnist/model/core';
import { FmnistOnnxError } from './errors';
import { ModelProtoSchema } from './gen/onnx_pb';
import { GraphBuilder, tensorInfo } from './graph';
import { toHalfBits } from './half';
import { METADATA_KEYS, type OnnxDatasetInfo, type OnnxInputInfo, type OnnxMetrics, type OnnxQuantization } from './metadata';
import { PRODUCER_NAME, PRODUCER_VERSION } from './version';

/**
 * ONNX IR version written: 8 (ONNX 1.10–1.12). Every onnxruntime since 1.10 reads it, and so does the checker of the
 * `onnx` 1.12 that Debian 12 ships (`python3-onnx`), which refuses newer IR versions.
 *
 * @example
 * ```ts
 * readOnnxMetadata(exportOnnx(createModel('coursework'))).irVersion === ONNX_IR_VERSION; // true
 * ```
 */
export const ONNX_IR_VERSION = 8;

/**
 * Opset of the default domain: 17, the first with `LayerNormalization` (and the newest Debian's `onnx` checks).
 *
 * @example
 * ```ts
 * readOnnxMetadata(exportOnnx(createModel('mixer-s'))).opsetVersion; // 17
 * ```
 */
export const ONNX_OPSET = 17;

/**
 * Name of the graph input: float32 `[batch, 1, 28, 28]`, pixels / 255.
 *
 * @example
 * ```ts
 * const feeds = { [INPUT_NAME]: new ort.Tensor('float32', normalize(test.images.subarray(0, 784)), [1, 1, 28, 28]) };
 * ```
 */
export const INPUT_NAME = 'image';

/**
 * Names of the graph outputs: `logits` and `probabilities` (softmax of the logits), both `[batch, numClasses]`.
 *
 * @example
 * ```ts
 * const { probabilities } = await session.run(feeds); // OUTPUT_NAMES[1]
 * ```
 */
export const OUTPUT_NAMES = Object.freeze(['logits', 'probabilities'] as const);

/** A model's parameters with its config (an `FmnistModel` from `createModel` or `train` fits this). */
export interface ModelSource {
  /** A preset name (or alias, such as `seed`), a full config, or config fields over a `preset`. */
  config: ModelConfig | PresetName | PresetAlias | (Partial<ModelConfig> & { preset?: PresetName | PresetAlias });
  /** One Float32Array per tensor of `paramSpecs(config)`; Linear weights `[in, out]`. */
  params: ParamSet;
  /** The preset name to record in the metadata (an alias is recorded as its canonical name: `seed` as `coursework`). */
  preset?: PresetName | PresetAlias | undefined;
}

/** The two files of a saved checkpoint, as read from disk or fetched in a browser. */
export interface CheckpointFiles {
  /** The contents of `checkpoint.json` (text, or its UTF-8 bytes). */
  checkpointJson: string | Uint8Array;
  /** The contents of `model.safetensors` (or the step file `checkpoint.json` names). */
  weights: Uint8Array;
}

/** What {@link exportOnnx} accepts: a model, a loaded checkpoint (`loadCheckpoint`), or a checkpoint's raw files. */
export type ExportSource = ModelSource | Checkpoint | CheckpointFiles;

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /**
   * Weight storage. `int8`: every Linear weight as int8 with one float scale per output feature, expanded by
   * `DequantizeLinear` in the graph (biases and LayerNorm stay float32); about 3.5× smaller. `fp16`: every parameter as
   * float16, cast to float32 in the graph; 2× smaller. Computation is float32 in all cases.
   * @defaultValue `'none'`
   */
  quantize?: OnnxQuantization;
  /**
   * Training record of a model that is not a checkpoint: `train()`'s `History` fits (`{ training, epochs }`). For a
   * checkpoint, its own record is used unless this is given.
   */
  history?: { training?: TrainingRecord; epochs?: EpochRecord[] };
  /** Dataset the model was trained on (`{ source, sha256 }`); default: the checkpoint's record, else the official checksums. */
  dataset?: { source: string; sha256: Record<string, string> };
  /** Extra `metadata_props` entries (they cannot replace the exporter's own keys). */
  metadata?: Record<string, string>;
}

interface Resolved {
  config: ModelConfig;
  params: ParamSet;
  preset?: PresetName;
  meta?: CheckpointMeta;
}

function configError(err: unknown, where: string): never {
  if (err instanceof FmnistModelError && err.code === 'E_CONFIG') {
    throw new FmnistOnnxError('E_CONFIG', `${where}: ${err.message}`, { cause: err });
  }
  throw err;
}

function resolveModelConfig(config: ModelSource['config'], where: string): ModelConfig {
  if (typeof config !== 'string' && (typeof config !== 'object' || config === null)) {
    throw new TypeError(`${where}: 'config' must be a preset name or a config object, got ${config === null ? 'null' : typeof config}.`);
  }
  try {
    return resolveConfig(config);
  } catch (err) {
    return configError(err, where);
  }
}

const describeShape = (s: ParamSpec) => `[${s.shape.join(', ')}]`;

/** Checks every tensor against the config's {@link paramSpecs}: present, right size (and shape when known), nothing extra. */
function checkTensors(
  config: ModelConfig,
  tensors: Record<string, { data: Float32Array; shape?: number[] }>,
  where: string,
  preset: string | undefined,
): ParamSet {
  const specs = paramSpecs(config);
  const label = preset ? `preset '${preset}'` : 'this config';
  const out: ParamSet = {};
  for (const spec of specs) {
    const t = tensors[spec.name];
    if (!t) {
      throw new FmnistOnnxError(
        'E_MISSING_WEIGHTS',
        `${where}: tensor '${spec.name}' ${describeShape(spec)} is missing; ${label} needs all of ${specs.length} tensors (${specs
          .slice(0, 3)
          .map((s) => s.name)
          .join(', ')}, …). Was the model saved with another preset?`,
      );
    }
    if (!(t.data instanceof Float32Array)) {
      throw new TypeError(`${where}: tensor '${spec.name}' must be a Float32Array, got ${Object.prototype.toString.call(t.data)}.`);
    }
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const shapeOk = !t.shape || (t.shape.length === spec.shape.length && t.shape.every((d, i) => d === spec.shape[i]));
    if (t.data.length !== size || !shapeOk) {
      const got = t.shape ? `shape [${t.shape.join(', ')}]` : `${t.data.length} values`;
      throw new FmnistOnnxError(
        'E_SHAPE_MISMATCH',
        `${where}: tensor '${spec.name}' has ${got}; ${label} needs ${describeShape(spec)} = ${size} values (Linear weights are [in, out]). Was it saved with another preset or config?`,
      );
    }
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new FmnistOnnxError(
        'E_NON_FINITE',
        `${where}: tensor '${spec.name}' holds ${t.data[bad]} at index ${bad}; a model with NaN or infinite weights gives no usable predictions, so it is not exported. Export an earlier checkpoint or train again (a lower learning rate).`,
      );
    }
    out[spec.name] = t.data;
  }
  const known = new Set(specs.map((s) => s.name));
  const extra = Object.keys(tensors).filter((n) => !known.has(n));
  if (extra.length > 0) {
    throw new FmnistOnnxError(
      'E_SHAPE_MISMATCH',
      `${where}: tensor${extra.length > 1 ? 's' : ''} ${extra.map((n) => `'${n}'`).join(', ')} do${extra.length > 1 ? '' : 'es'} not belong to ${label} (${config.blocks} block(s), norm ${config.norm}). Pass the config the weights were trained with.`,
    );
  }
  return out;
}

function resolveSource(source: ExportSource): Resolved {
  if (typeof source !== 'object' || source === null) {
    throw new TypeError(
      `'source' must be a model ({ config, params }), a checkpoint ({ meta, params }) or checkpoint files ({ checkpointJson, weights }), got ${source === null ? 'null' : typeof source}.`,
    );
  }
  if ('checkpointJson' in source) {
    const text = typeof source.checkpointJson === 'string' ? source.checkpointJson : new TextDecoder().decode(source.checkpointJson);
    if (!(source.weights instanceof Uint8Array)) {
      throw new TypeError(`'weights' must be the bytes of model.safetensors (a Uint8Array), got ${typeof source.weights}.`);
    }
    let meta: CheckpointMeta;
    let tensors: Record<string, { data: Float32Array; shape: number[] }>;
    try {
      meta = parseMeta(text, 'checkpoint.json');
    } catch (err) {
      if (err instanceof FmnistModelError) throw new FmnistOnnxError('E_CHECKPOINT', err.message, { cause: err });
      throw err;
    }
    try {
      tensors = decodeSafetensors(source.weights, 'model.safetensors').tensors;
    } catch (err) {
      if (err instanceof FmnistModelError) throw new FmnistOnnxError('E_CHECKPOINT', err.message, { cause: err });
      throw err;
    }
    return { ...fromMeta(meta), params: checkTensors(meta.config, tensors, 'model.safetensors', meta.preset), meta };
  }
  if ('meta' in source) {
    const { meta } = source;
    if (!meta || typeof meta !== 'object' || !meta.config) {
      throw new TypeError(`'meta' must be a checkpoint's metadata (from loadCheckpoint), with a 'config'.`);
    }
    const resolved = fromMeta(meta);
    return { ...resolved, params: checkParams(resolved.config, source.params, 'checkpoint', resolved.preset), meta };
  }
  if (!('config' in source) || !('params' in source)) {
    throw new TypeError(
      `'source' must have 'config' and 'params' (a model from createModel/train), 'meta' and 'params' (loadCheckpoint), or 'checkpointJson' and 'weights'; got keys ${Object.keys(source).join(', ') || '(none)'}.`,
    );
  }
  const given =
    source.preset ?? (typeof source.config === 'string' ? source.config : (source.config as { preset?: PresetName | PresetAlias }).preset);
  // An alias (`seed`) is recorded under its canonical name (`coursework`).
  const presetName = canonicalPresetName(given);
  if (given !== undefined && presetName === undefined) {
    throw new FmnistOnnxError('E_CONFIG', `Unknown preset '${String(given)}'. Choose one of: ${Object.keys(PRESETS).join(', ')}.`);
  }
  const config = resolveModelConfig(source.config, 'model');
  return { config, preset: presetName, params: checkParams(config, source.params, 'model', presetName) };
}

function fromMeta(meta: CheckpointMeta): { config: ModelConfig; preset?: PresetName } {
  const preset = canonicalPresetName(meta.preset);
  if (meta.preset !== undefined && preset === undefined) {
    throw new FmnistOnnxError(
      'E_CONFIG',
      `checkpoint: unknown preset '${String(meta.preset)}'. Choose one of: ${Object.keys(PRESETS).join(', ')}.`,
    );
  }
  return { config: resolveModelConfig(meta.config, 'checkpoint'), preset };
}

function checkParams(config: ModelConfig, params: ParamSet, where: string, preset: string | undefined): ParamSet {
  if (typeof params !== 'object' || params === null) {
    throw new FmnistOnnxError(
      'E_MISSING_WEIGHTS',
      `${where}: 'params' is ${params === null ? 'null' : typeof params}; pass the model's parameters.`,
    );
  }
  const tensors = Object.fromEntries(Object.entries(params).map(([k, data]) => [k, { data }]));
  return checkTensors(config, tensors, where, preset);
}

/**
 * Symmetric per-output-feature int8 quantisation of a `[in, out]` weight: `scale[j] = max_i |W[i, j]| / 127`,
 * `q = round(W / scale)`. @internal
 */
export function quantizeInt8(weight: Float32Array, rows: number, cols: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) scale[j] = Math.max(scale[j] as number, Math.abs(weight[i * cols + j] as number));
  }
  for (let j = 0; j < cols; j++) scale[j] = (scale[j] as number) > 0 ? (scale[j] as number) / 127 : 1;
  const q = new Int8Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = Math.round((weight[i * cols + j] as number) / (scale[j] as number));
      q[i * cols + j] = Math.max(-127, Math.min(127, v));
    }
  }
  return { q, scale };
}

/** Builds the graph nodes and initializers of a config (the computation of `createTfjsForward`). */
function buildGraph(config: ModelConfig, params: ParamSet, quantize: OnnxQuantization): GraphBuilder {
  const g = new GraphBuilder();
  const specs = new Map(paramSpecs(config).map((s) => [s.name, s]));
  // Every parameter keeps its checkpoint name as the float32 value the compute nodes read.
  const param = (name: string): string => {
    const spec = specs.get(name) as ParamSpec;
    const data = params[name] as Float32Array;
    if (quantize === 'int8' && spec.kind === 'weight') {
      const [rows, cols] = spec.shape as [number, number];
      const { q, scale } = quantizeInt8(data, rows, cols);
      const qName = g.int8(`${name}_quantized`, spec.shape, q);
      const sName = g.float(`${name}_scale`, [cols], scale);
      const zName = g.int8(`${name}_zero_point`, [cols], new Int8Array(cols));
      return g.op('DequantizeLinear', [qName, sName, zName], name, { axis: { int: 1 } }, name);
    }
    if (quantize === 'fp16') {
      const half = toHalfBits(data);
      // A finite float32 beyond float16's range (|x| ≥ 65520) rounds to ±Infinity: the exported model would give NaN.
      const overflow = half.findIndex((h) => (h & 0x7fff) === 0x7c00);
      if (overflow >= 0) {
        throw new FmnistOnnxError(
          'E_NON_FINITE',
          `Parameter '${name}' holds ${data[overflow]} at index ${overflow}, beyond float16's range (largest 65504): as fp16 it would become Infinity. Export it as float32 (no quantization) or int8 instead.`,
        );
      }
      return g.op('Cast', [g.half(`${name}_fp16`, spec.shape, half)], name, { to: { int: 1 } }, name);
    }
    return g.float(name, spec.shape, data);
  };
  const linear = (x: string, name: string, out = `${name}_out`): string =>
    g.op('Add', [g.op('MatMul', [x, param(`${name}.weight`)], `${name}_matmul`, {}, name), param(`${name}.bias`)], out, {}, name);
  let consts: { sqrt2: string; half: string; one: string } | undefined;
  const act = (x: string, scope: string): string => {
    if (config.activation === 'relu') return g.op('Relu', [x], `${scope}_relu`, {}, scope);
    if (config.activation === 'none') return x;
    consts ??= {
      sqrt2: g.float('gelu_sqrt2', [], new Float32Array([Math.SQRT2])),
      half: g.float('gelu_half', [], new Float32Array([0.5])),
      one: g.float('gelu_one', [], new Float32Array([1])),
    };
    // Exact GELU as TensorFlow.js computes it, (x · 0.5) · (1 + erf(x / √2)), in the form onnxruntime fuses into one
    // Gelu kernel (Div by √2, not Mul by √½).
    const erf = g.op('Erf', [g.op('Div', [x, consts.sqrt2], `${scope}_scaled`, {}, scope)], `${scope}_erf`, {}, scope);
    const onePlus = g.op('Add', [erf, consts.one], `${scope}_erf_plus_1`, {}, scope);
    return g.op('Mul', [g.op('Mul', [x, consts.half], `${scope}_half`, {}, scope), onePlus], `${scope}_gelu`, {}, scope);
  };
  const layerNorm = (x: string, name: string): string =>
    g.op(
      'LayerNormalization',
      [x, param(`${name}.weight`), param(`${name}.bias`)],
      `${name}_out`,
      { axis: { int: -1 }, epsilon: { float: 1e-5 } },
      name,
    );

  const meanOverPatches = (x: string): string => g.op('ReduceMean', [x], 'pooled', { axes: { ints: [1] }, keepdims: { int: 0 } }, 'pool');

  const p = config.patchSize;
  const grid = IMAGE_SIZE / p;
  const P = numPatches(config);
  // Patchify: [B, 1, 28, 28] → [B, 7, 4, 7, 4] → [B, 7, 7, 4, 4] → [B, 49, 16]: patches and pixels row-major.
  const gridShape = g.int64('patchify_grid_shape', [-1, grid, p, grid, p]);
  const patchShape = g.int64('patchify_patches_shape', [-1, P, p * p]);
  const split = g.op('Reshape', [INPUT_NAME, gridShape], 'patchify_grid', {}, 'patchify');
  const moved = g.op('Transpose', [split], 'patchify_transposed', { perm: { ints: [0, 1, 3, 2, 4] } }, 'patchify');
  const patches = g.op('Reshape', [moved, patchShape], 'patches', {}, 'patchify');
  let h = linear(patches, 'embed');
  const norm = config.norm === 'layernorm';
  // Without a final norm or residual, everything after the last channel fc1's activation is affine, so the patch mean
  // can move before the last channel fc2: (mean_p a_p)·W + b = mean_p (a_p·W + b). Exact up to float rounding, and it
  // runs that 128×128 MatMul once per image instead of once per patch (a quarter of the patch-MLP's work).
  const poolEarly = !norm && !config.residual;
  let pooled: string | undefined;
  for (let b = 0; b < config.blocks; b++) {
    const k = `blocks.${b}`;
    // Token mixing: an MLP over the patch axis, applied to [B, dim, P].
    let u = norm ? layerNorm(h, `${k}.norm1`) : h;
    let t = g.op('Transpose', [u], `${k}.token_mlp_in`, { perm: { ints: [0, 2, 1] } }, `${k}.token_mlp`);
    t = linear(act(linear(t, `${k}.token_mlp.fc1`), `${k}.token_mlp.act`), `${k}.token_mlp.fc2`);
    t = g.op('Transpose', [t], `${k}.token_mlp_out`, { perm: { ints: [0, 2, 1] } }, `${k}.token_mlp`);
    h = config.residual ? g.op('Add', [h, t], `${k}.token_residual`, {}, k) : t;
    // Channel mixing: an MLP over the features of each patch.
    u = norm ? layerNorm(h, `${k}.norm2`) : h;
    const a = act(linear(u, `${k}.channel_mlp.fc1`), `${k}.channel_mlp.act`);
    if (poolEarly && b === config.blocks - 1) {
      pooled = linear(meanOverPatches(a), `${k}.channel_mlp.fc2`);
      break;
    }
    const c = linear(a, `${k}.channel_mlp.fc2`);
    h = config.residual ? g.op('Add', [h, c], `${k}.channel_residual`, {}, k) : c;
  }
  if (norm) h = layerNorm(h, 'norm');
  // The head is linear, so averaging it over the patches equals applying it to the mean patch (as TensorFlow.js does).
  pooled ??= meanOverPatches(h);
  const logits = linear(pooled, 'head', OUTPUT_NAMES[0]);
  g.op('Softmax', [logits], OUTPUT_NAMES[1], { axis: { int: -1 } }, 'softmax');
  return g;
}

function lastMetrics(history: EpochRecord[] | undefined, epoch: number | undefined): OnnxMetrics | undefined {
  const last = history?.at(-1);
  if (!last) return undefined;
  const withTest = [...(history ?? [])].reverse().find((e) => e.testAccuracy !== undefined);
  const metrics: OnnxMetrics = { epoch: epoch ?? last.epoch, trainLoss: last.trainLoss, trainAccuracy: last.trainAccuracy };
  if (withTest?.testAccuracy !== undefined) {
    metrics.testLoss = withTest.testLoss;
    metrics.testAccuracy = withTest.testAccuracy;
  }
  return metrics;
}

function datasetInfo(recorded: { source: string; sha256: Record<string, string> } | undefined): OnnxDatasetInfo {
  if (recorded && Object.keys(recorded.sha256 ?? {}).length > 0) {
    return { name: 'fashion-mnist', source: recorded.source, sha256: { ...recorded.sha256 }, recorded: true };
  }
  const sha256 = Object.fromEntries(Object.entries(FASHION_MNIST_FILES).map(([k, f]) => [k, f.sha256]));
  return { name: 'fashion-mnist', source: recorded?.source ?? 'unrecorded', sha256, recorded: false };
}

/**
 * Exports a trained model to ONNX: a `ModelProto` (IR 8, opset 17) that computes exactly the model's forward pass,
 * with its config, training record, accuracies and dataset checksums in `metadata_props`. Pure TypeScript: runs in
 * Node and in the browser, and returns the same bytes for the same input.
 *
 * Graph contract: input `image` float32 `[batch, 1, 28, 28]` (dynamic batch), pixels / 255; outputs `logits` and
 * `probabilities` (softmax), both float32 `[batch, 10]`.
 *
 * @param source - a model (`createModel`, `train`), a checkpoint (`loadCheckpoint`), or a checkpoint's
 *   `{ checkpointJson, weights }` file contents
 * @param options - `quantize` (`'none'`, `'int8'`, `'fp16'`), training record and extra metadata
 * @returns the bytes of the `.onnx` file
 * @throws FmnistOnnxError `E_CONFIG` (unknown preset, invalid config), `E_MISSING_WEIGHTS`, `E_SHAPE_MISMATCH`, `E_NON_FINITE`,
 *   `E_CHECKPOINT` (unparsable checkpoint files)
 *
 * @example
 * ```ts
 * import { createModel } from '@fmnist/model/core';
 * const bytes = exportOnnx(createModel('patch-mlp'));
 * bytes.length; // 202094 (with { quantize: 'int8' }: 60859)
 * ```
 */
export function exportOnnx(source: ExportSource, options: ExportOnnxOptions = {}): Uint8Array {
  const quantize = options.quantize ?? 'none';
  if (!['none', 'int8', 'fp16'].includes(quantize)) {
    throw new RangeError(`'quantize' must be 'none', 'int8' or 'fp16', got ${JSON.stringify(quantize)}.`);
  }
  const { config, params, preset, meta } = resolveSource(source);
  const graph = buildGraph(config, params, quantize);
  const C = config.numClasses;
  const classNames = C === CLASS_NAMES.length ? [...CLASS_NAMES] : Array.from({ length: C }, (_, i) => String(i));
  const training = options.history?.training ?? meta?.training;
  const history = options.history?.epochs ?? meta?.history;
  const metrics = lastMetrics(history, options.history?.epochs ? undefined : meta?.epoch);
  const dataset = datasetInfo(options.dataset ?? meta?.dataset);
  const input: OnnxInputInfo = { name: INPUT_NAME, shape: ['batch', 1, IMAGE_SIZE, IMAGE_SIZE], normalization: 'unit' };
  const parameters = paramSpecs(config).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const K = METADATA_KEYS;
  const props: [string, string][] = [
    [K.format, 'fmnist-onnx'],
    [K.formatVersion, '1'],
    [K.classNames, JSON.stringify(classNames)],
    [K.normalization, 'unit'],
    [K.input, JSON.stringify(input)],
    [K.outputs, JSON.stringify(OUTPUT_NAMES)],
    ...(preset ? ([[K.preset, preset]] as [string, string][]) : []),
    [K.config, JSON.stringify(config)],
    [K.parameters, String(parameters)],
    [K.quantization, quantize],
    ...(training ? ([[K.training, JSON.stringify(training)]] as [string, string][]) : []),
    ...(metrics ? ([[K.metrics, JSON.stringify(metrics)]] as [string, string][]) : []),
    [K.dataset, JSON.stringify(dataset)],
    ...(meta?.createdAt ? ([[K.trainedAt, meta.createdAt]] as [string, string][]) : []),
    [K.producer, `${PRODUCER_NAME}@${PRODUCER_VERSION}`],
  ];
  const own = new Set(props.map(([k]) => k));
  for (const [k, v] of Object.entries(options.metadata ?? {})) {
    if (own.has(k)) throw new RangeError(`'metadata' cannot set '${k}': the exporter writes it. Use another key.`);
    if (typeof v !== 'string') throw new TypeError(`'metadata.${k}' must be a string, got ${typeof v}.`);
    props.push([k, v]);
  }
  const what = preset ?? 'custom config';
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(ONNX_IR_VERSION),
    opsetImport: [{ domain: '', version: BigInt(ONNX_OPSET) }],
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    domain: 'org.fmnist',
    modelVersion: 1n,
    docString: `Fashion-MNIST ${config.blocks === 1 && config.norm === 'none' ? 'patch-MLP' : 'MLP-Mixer'} (${what}, ${parameters} parameters, weights ${quantize === 'none' ? 'float32' : quantize}). Input 'image': float32 [batch, 1, 28, 28], pixels / 255. Outputs 'logits' and 'probabilities' (softmax): float32 [batch, ${C}], classes ${classNames.join(', ')}.`,
    graph: {
      name: `fmnist_${(preset ?? 'custom').replace(/-/g, '_')}`,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [tensorInfo(INPUT_NAME, input.shape, 'Fashion-MNIST images, float32 [batch, 1, 28, 28], pixels / 255 (in [0, 1]).')],
      output: [
        tensorInfo(OUTPUT_NAMES[0], ['batch', C], 'Class logits.'),
        tensorInfo(OUTPUT_NAMES[1], ['batch', C], 'Class probabilities: softmax of the logits.'),
      ],
    },
    metadataProps: props.map(([key, value]) => ({ key, value })),
  });
  return toBinary(ModelProtoSchema, model);
}
