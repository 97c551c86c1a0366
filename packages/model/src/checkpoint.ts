import type { Augmentation, RngState } from '@fmnist/data';
import { type ModelConfig, type PresetName, paramSpecs, validateConfig } from './config';
import type { AdamState, ParamSet } from './engine';
import { FmnistModelError } from './errors';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors';

/** One epoch of training, as plain numbers (what the CLI prints and the report plots). */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  trainLoss: number;
  /** Training accuracy over the epoch (during training, before each update). */
  trainAccuracy: number;
  /** Test loss, when evaluated this epoch. */
  testLoss?: number;
  /** Test accuracy, when evaluated this epoch. */
  testAccuracy?: number;
  /** Wall time of the epoch's training steps in ms (evaluation excluded). */
  timeMs: number;
  /** Training throughput. */
  imagesPerSecond: number;
}

/** Hyperparameters and environment of a training run (the coursework's "all training specifics"). */
export interface TrainingRecord {
  /** `adamw` when `weightDecay` is set. */
  optimizer: 'adam' | 'adamw';
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** AdamW's decoupled weight decay (absent: none). */
  weightDecay?: number;
  batchSize: number;
  /** Epochs asked for. */
  epochs: number;
  seed: number;
  /** Engine that ran it, e.g. `kernels` or `tfjs-wasm`. */
  backend: string;
  threads: number;
  normalization: 'unit';
  /** Training examples per epoch. */
  trainExamples: number;
  /** Learning-rate schedule (absent in older checkpoints: constant). */
  lrSchedule?: 'constant' | 'cosine';
  /** Training-time augmentation, when used. */
  augment?: Augmentation;
}

/** Everything in a checkpoint besides the tensors. */
export interface CheckpointMeta {
  format: 'fmnist-checkpoint';
  version: 1;
  preset?: PresetName;
  config: ModelConfig;
  /** Epochs completed. */
  epoch: number;
  /** Adam updates applied. */
  step: number;
  /** The trainer's RNG state after `epoch` (batch order of the next epoch follows from it). */
  rng: RngState;
  training: TrainingRecord;
  history: EpochRecord[];
  /** Where the data came from and its checksums. */
  dataset?: { source: string; sha256: Record<string, string> };
  /** Package that wrote it. */
  producer: string;
  createdAt: string;
}

/** A checkpoint in memory. */
export interface Checkpoint {
  meta: CheckpointMeta;
  params: ParamSet;
  optimizer?: AdamState;
}

const tensorsOf = (config: ModelConfig, set: ParamSet, prefix = ''): Record<string, SafeTensor> =>
  Object.fromEntries(paramSpecs(config).map((s) => [`${prefix}${s.name}`, { shape: s.shape, data: set[s.name] as Float32Array }]));

/**
 * Encodes the weights as safetensors (`F32`, Linear weights `[in, out]`), with the config in the metadata so the file
 * stands on its own in Python: `safetensors.numpy.load_file("model.safetensors")`.
 * @internal
 */
export function encodeWeights(config: ModelConfig, params: ParamSet, preset?: PresetName): Uint8Array {
  return encodeSafetensors(tensorsOf(config, params), {
    format: 'fmnist',
    layout: 'linear weights are [in, out]: y = x @ W + b',
    config: JSON.stringify(config),
    ...(preset ? { preset } : {}),
  });
}

/** Encodes Adam's moments as safetensors (`m.<name>`, `v.<name>`). @internal */
export function encodeOptimizer(config: ModelConfig, state: AdamState): Uint8Array {
  return encodeSafetensors({ ...tensorsOf(config, state.m, 'm.'), ...tensorsOf(config, state.v, 'v.') }, { step: String(state.step) });
}

function pick(config: ModelConfig, tensors: Record<string, SafeTensor>, prefix: string, file: string): ParamSet {
  const out: ParamSet = {};
  const specs = paramSpecs(config);
  for (const s of specs) {
    const t = tensors[`${prefix}${s.name}`];
    if (!t) {
      throw new FmnistModelError(
        'E_CHECKPOINT_MISMATCH',
        `${file}: tensor '${prefix}${s.name}' is missing; the file does not match the config in the checkpoint.`,
      );
    }
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new FmnistModelError(
        'E_CHECKPOINT_MISMATCH',
        `${file}: tensor '${prefix}${s.name}' has shape [${t.shape}], the config needs [${s.shape}]. Was it saved with another preset?`,
      );
    }
    out[s.name] = t.data;
  }
  const extra = Object.keys(tensors).filter((k) => k.startsWith(prefix) && !specs.some((s) => `${prefix}${s.name}` === k));
  if (extra.length > 0) {
    throw new FmnistModelError(
      'E_CHECKPOINT_MISMATCH',
      `${file}: tensors ${extra.join(', ')} do not belong to the config in the checkpoint.`,
    );
  }
  return out;
}

/** Parses and checks checkpoint JSON. @internal */
export function parseMeta(text: string, file: string): CheckpointMeta {
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(text);
  } catch (err) {
    throw new FmnistModelError(
      'E_CHECKPOINT_CORRUPT',
      `${file}: not valid JSON (${(err as Error).message}). The file is damaged; use an earlier checkpoint.`,
      {
        cause: err,
      },
    );
  }
  if (meta?.format !== 'fmnist-checkpoint' || meta.version !== 1) {
    throw new FmnistModelError(
      'E_CHECKPOINT_CORRUPT',
      `${file}: not an fmnist checkpoint (format ${JSON.stringify(meta?.format)}, version ${JSON.stringify(meta?.version)}).`,
    );
  }
  try {
    validateConfig(meta.config);
  } catch (err) {
    throw new FmnistModelError('E_CHECKPOINT_CORRUPT', `${file}: its model config is invalid: ${(err as Error).message}`, { cause: err });
  }
  return meta;
}

/** Decodes weights against a config. @internal */
export function decodeWeights(config: ModelConfig, bytes: Uint8Array, file: string): ParamSet {
  return pick(config, decodeSafetensors(bytes, file).tensors, '', file);
}

/** Decodes Adam state against a config. @internal */
export function decodeOptimizer(config: ModelConfig, bytes: Uint8Array, file: string): AdamState {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new FmnistModelError('E_CHECKPOINT_CORRUPT', `${file}: missing or bad 'step' metadata.`);
  return { step, m: pick(config, tensors, 'm.', file), v: pick(config, tensors, 'v.', file) };
}
