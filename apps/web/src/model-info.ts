/**
 * Checking that a file is a Fashion-MNIST model exported by fmnist (through `@fmnist/onnx`'s metadata reader) and
 * describing it as a model card. Pure: no DOM, no onnxruntime.
 */
import { type Augmentation, CLASS_NAMES, describeAugmentation, FmnistError } from '@fmnist/data';
import { checkOnnxSignature, type OnnxMetadata, type OnnxSignature } from '@fmnist/onnx';

/** Files above this size are refused before parsing (the biggest preset, `mixer-l`, is 4.5 MB; custom configs can be far bigger). */
export const MAX_MODEL_BYTES = 256 * 1024 * 1024;

/** Stable codes of {@link ModelLoadError}. */
export type ModelLoadErrorCode = 'E_EMPTY' | 'E_TOO_LARGE' | 'E_NOT_ONNX' | 'E_NOT_FMNIST' | 'E_CONTRACT' | 'E_RUNTIME';

/**
 * A model file the app cannot use. The message names the file, says what is wrong and what to do; the app keeps the
 * model it had.
 *
 * @example
 * ```ts
 * try { inspectModel(bytes, 'x.onnx'); } catch (err) { if (err instanceof ModelLoadError) showError(err.message); }
 * ```
 */
export class ModelLoadError extends FmnistError {
  declare readonly code: ModelLoadErrorCode;

  /**
   * @param code - what went wrong
   * @param message - the user-facing explanation
   * @param options - `cause`
   */
  constructor(code: ModelLoadErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ModelLoadError';
  }
}

/** A validated model: its bytes, a display name and its metadata. */
export interface ModelInfo {
  /** File name (or `default.onnx`). */
  name: string;
  /** The `.onnx` file. */
  bytes: Uint8Array;
  /** What `readOnnxMetadata` read. */
  metadata: OnnxMetadata;
  /** The output the app reads: `probabilities` when present, else `logits` (softmaxed by the app). */
  output: 'probabilities' | 'logits';
  /** The graph's checked signature (input name and layout, class count). */
  signature: OnnxSignature;
}

const HINT = 'Drop an .onnx file written by fmnist train or fmnist export.';

/**
 * Validates an `.onnx` file for the app: an ONNX model exported by `@fmnist/onnx` whose graph passes
 * `checkOnnxSignature` (input `[batch, 1, 28, 28]` or `[batch, 784]`, pixels / 255, outputs of 10 class scores that
 * agree with the metadata's 10 class names).
 *
 * @param bytes - the file's contents
 * @param name - the file name, for messages
 * @returns the model's info
 * @throws ModelLoadError `E_EMPTY`, `E_TOO_LARGE`, `E_NOT_ONNX` (not ONNX at all), `E_NOT_FMNIST` (ONNX without fmnist
 *   metadata, or damaged metadata: the message names the entry), `E_CONTRACT` (a graph whose input/outputs disagree
 *   with its metadata, or that this app cannot feed)
 *
 * @example
 * ```ts
 * const info = inspectModel(new Uint8Array(await file.arrayBuffer()), file.name);
 * info.metadata.preset; // 'patch-mlp'
 * ```
 */
export function inspectModel(bytes: Uint8Array, name: string): ModelInfo {
  if (bytes.length === 0) throw new ModelLoadError('E_EMPTY', `“${name}” is empty (0 bytes). ${HINT}`);
  if (bytes.length > MAX_MODEL_BYTES) {
    throw new ModelLoadError(
      'E_TOO_LARGE',
      `“${name}” is ${formatBytes(bytes.length)}, more than the ${formatBytes(MAX_MODEL_BYTES)} a Fashion-MNIST model can need. ${HINT}`,
    );
  }
  let signature: OnnxSignature;
  try {
    // The one signature check, shared with the CLI: fmnist metadata (every entry checked), the graph's input and
    // outputs against it, and Fashion-MNIST's 10 classes.
    signature = checkOnnxSignature(bytes, { requireMetadata: true, classCount: CLASS_NAMES.length });
  } catch (err) {
    const code = err instanceof FmnistError ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    if (code === 'E_NOT_ONNX') {
      throw new ModelLoadError(
        'E_NOT_ONNX',
        `“${name}” is not an ONNX model (${formatBytes(bytes.length)} that do not parse as one). ${HINT}`,
        {
          cause: err,
        },
      );
    }
    if (code === 'E_NO_METADATA') {
      throw new ModelLoadError(
        'E_NOT_FMNIST',
        `“${name}” is an ONNX model, but not a Fashion-MNIST model this app can use: ${message} ${HINT}`,
        {
          cause: err,
        },
      );
    }
    if (code === 'E_MODEL_SIGNATURE') {
      throw new ModelLoadError('E_CONTRACT', `“${name}” is an fmnist model this app cannot run: ${message}`, { cause: err });
    }
    throw new ModelLoadError('E_NOT_ONNX', `“${name}” cannot be read: ${message} ${HINT}`, { cause: err });
  }
  const metadata = signature.metadata as OnnxMetadata; // requireMetadata: never null here
  const problem = appProblem(signature);
  if (problem) throw new ModelLoadError('E_CONTRACT', `“${name}” is an fmnist model this app cannot run: ${problem}. ${HINT}`);
  const output = signature.probabilities ? 'probabilities' : 'logits';
  return { name, bytes, metadata, output, signature };
}

/** What the app itself cannot do with a model whose signature is sound, or null. */
function appProblem(signature: OnnxSignature): string | null {
  if (signature.batchSize !== null)
    return `its graph takes a fixed batch of ${signature.batchSize} images, the app needs a free batch size`;
  if (!signature.probabilities && signature.logits !== 'logits') {
    return `its scores come from an output named '${signature.logits}', expected 'probabilities' or 'logits'`;
  }
  return null;
}

/** One row of the model card. */
export interface ModelCardRow {
  label: string;
  value: string;
}

/**
 * Formats a byte count: `202,499 B` → `198 KiB`.
 *
 * @param bytes - a size in bytes
 * @returns e.g. `'198 KiB'`, `'2.1 MiB'`
 *
 * @example
 * ```ts
 * formatBytes(202499); // '198 KiB'
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Formats a fraction as a percentage with two decimals.
 *
 * @param fraction - in [0, 1]
 * @param digits - decimals @defaultValue 2
 * @returns e.g. `'81.79 %'`
 *
 * @example
 * ```ts
 * formatPercent(0.8179); // '81.79 %'
 * ```
 */
export function formatPercent(fraction: number, digits = 2): string {
  return `${(fraction * 100).toFixed(digits)} %`;
}

/** The metadata's `augment` (an object, or text from older exports) in the shared wording; nothing when there was none. */
function formatAugment(augment: unknown): string | undefined {
  if (!augment || augment === 'none') return undefined;
  if (typeof augment === 'string') return `augment ${augment}`;
  const text = describeAugmentation(augment as Augmentation);
  return text === 'none' ? undefined : `augment ${text}`;
}

const ACTIVATIONS: Record<string, string> = { gelu: 'GELU', relu: 'ReLU', none: 'no activation' };

const WEIGHTS: Record<string, string> = { none: 'float32', int8: 'int8 (per-channel, dequantised in the graph)', fp16: 'float16' };

/**
 * The model card: preset, architecture, parameters, weights, hyperparameters, recorded accuracy, dataset, size and
 * producer — whatever the metadata holds.
 *
 * @param info - a model from {@link inspectModel}
 * @returns rows of label and text
 *
 * @example
 * ```ts
 * describeModel(inspectModel(bytes, 'default.onnx')).find((r) => r.label === 'Preset')?.value; // 'patch-mlp'
 * ```
 */
export function describeModel(info: ModelInfo): ModelCardRow[] {
  const m = info.metadata;
  const c = m.config;
  const rows: ModelCardRow[] = [
    { label: 'File', value: `${info.name} · ${formatBytes(info.bytes.length)}` },
    { label: 'Preset', value: m.preset ?? 'custom configuration' },
  ];
  const arch = [
    `patch ${c.patchSize}×${c.patchSize}`,
    `width ${c.dim}`,
    `token MLP ${c.tokenHidden}`,
    `channel MLP ${c.channelHidden}`,
    `${c.blocks} block${c.blocks === 1 ? '' : 's'}`,
    ACTIVATIONS[c.activation] ?? c.activation,
    c.norm && c.norm !== 'none' ? `${c.norm} norm` : 'no norm',
    c.residual ? 'residual' : 'no residual',
  ];
  rows.push({ label: 'Architecture', value: arch.filter(Boolean).join(', ') });
  rows.push({ label: 'Parameters', value: m.parameters.toLocaleString('en-US') });
  rows.push({ label: 'Weights', value: WEIGHTS[m.quantization] ?? m.quantization });
  const t = m.training as (Record<string, unknown> & { learningRate?: number }) | undefined;
  if (t) {
    const parts = [
      t.optimizer ? `${String(t.optimizer) === 'adam' ? 'Adam' : String(t.optimizer)}` : undefined,
      t.learningRate !== undefined ? `lr ${t.learningRate}` : undefined,
      t.lrSchedule && t.lrSchedule !== 'constant' ? `${t.lrSchedule} schedule` : undefined,
      t.weightDecay ? `weight decay ${t.weightDecay}` : undefined,
      t.batchSize !== undefined ? `batch ${t.batchSize}` : undefined,
      t.epochs !== undefined ? `${t.epochs} epoch${t.epochs === 1 ? '' : 's'}` : undefined,
      t.seed !== undefined ? `seed ${t.seed}` : undefined,
      formatAugment(t.augment),
    ];
    rows.push({ label: 'Training', value: parts.filter(Boolean).join(', ') });
    const where = [
      typeof t.trainExamples === 'number' ? `${t.trainExamples.toLocaleString('en-US')} images` : undefined,
      t.backend ? `on ${t.backend}${t.threads ? ` × ${t.threads} threads` : ''}` : undefined,
    ];
    if (where.some(Boolean)) rows.push({ label: 'Trained', value: where.filter(Boolean).join(' ') });
  }
  const metrics = m.metrics;
  if (metrics?.testAccuracy !== undefined) {
    const loss = metrics.testLoss !== undefined ? `, loss ${metrics.testLoss.toFixed(4)}` : '';
    rows.push({ label: 'Test accuracy', value: `${formatPercent(metrics.testAccuracy)} (recorded after epoch ${metrics.epoch}${loss})` });
  }
  if (metrics?.trainAccuracy !== undefined) rows.push({ label: 'Train accuracy', value: formatPercent(metrics.trainAccuracy) });
  if (m.dataset) {
    rows.push({
      label: 'Dataset',
      value: `${m.dataset.name} (${m.dataset.recorded ? `from ${m.dataset.source}` : 'source not recorded'})`,
    });
  }
  if (m.trainedAt) rows.push({ label: 'Trained at', value: m.trainedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') });
  rows.push({ label: 'Producer', value: `${m.producerName} ${m.producerVersion} · ONNX IR ${m.irVersion}, opset ${m.opsetVersion}` });
  return rows;
}
