import type { Augmentation, RngState } from '@fmnist/data';
import { canonicalPresetName, type ModelConfig, PRESET_NAMES_AND_ALIASES, type PresetName, paramSpecs, validateConfig } from './config';
import { OPTIMIZER_SLOTS, type OptimizerState, type ParamSet } from './engine';
import { FmnistModelError } from './errors';
import type { OptimizerRecord } from './optimizer';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors';
import { checkSchema, formatViolation, type Schema, s, showValue } from './schema';

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

/**
 * Hyperparameters and environment of a training run (the coursework's "all training specifics"). The optimizer's
 * fields ({@link OptimizerRecord}): `optimizer` (`adam`, `adamw` for Adam with weight decay, or `sgd`; absent in older
 * checkpoints: Adam), Adam's `beta1`, `beta2`, `epsilon` or SGD's `momentum`, `dampening`, `nesterov`, and
 * `weightDecay`.
 */
export interface TrainingRecord extends OptimizerRecord {
  /** The peak learning rate (with a schedule). */
  learningRate: number;
  batchSize: number;
  /** Epochs asked for. */
  epochs: number;
  /** Seed of the batch order and the augmentation (`train({ seed })`). */
  seed: number;
  /**
   * Seed the model's initial weights were drawn from: its config's `seed` (`createModel({ seed })`, `initParams`) when
   * the run started. Absent in older checkpoints: their `config.seed`.
   */
  initSeed?: number;
  /** Engine that ran it, e.g. `kernels` or `tfjs-wasm`. */
  backend: string;
  threads: number;
  normalization: 'unit';
  /** Training examples per epoch. */
  trainExamples: number;
  /** Learning-rate schedule (absent in older checkpoints: constant). */
  lrSchedule?: 'constant' | 'cosine';
  /** Label smoothing ε of the training loss (absent: 0, plain cross-entropy). */
  labelSmoothing?: number;
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
  /** Optimizer updates applied. */
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
  /** The optimizer's state (its `kind` matches `meta.training.optimizer`). */
  optimizer?: OptimizerState;
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

/**
 * Encodes an optimizer's state as safetensors: one tensor per parameter and slot ({@link OPTIMIZER_SLOTS}), named
 * `<slot>.<name>` (Adam: `m.…`, `v.…`; SGD: `momentum.…`), the step count (and, for SGD, the kind) in the metadata.
 * @internal
 */
export function encodeOptimizer(config: ModelConfig, state: OptimizerState): Uint8Array {
  const kind = state.kind ?? 'adam';
  const tensors: Record<string, SafeTensor> = {};
  for (const slot of OPTIMIZER_SLOTS[kind]) Object.assign(tensors, tensorsOf(config, state[slot] as ParamSet, `${slot}.`));
  return encodeSafetensors(tensors, { step: String(state.step), ...(kind === 'adam' ? {} : { optimizer: kind }) });
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

/** Largest epoch count, batch, thread count… a checkpoint may record (beyond it the file is damaged, not ambitious). */
const MAX_EPOCHS = 1_000_000;
const MAX_EXAMPLES = 100_000_000;

/**
 * A file a checkpoint refers to: a plain name inside the checkpoint directory (no path separators, no leading dot, so no
 * `..`). `loadCheckpoint` also resolves symlinks and refuses files outside the directory.
 */
export const CHECKPOINT_FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

const finite = (min: number, max = Number.MAX_VALUE) => s.num(min, max);

const ADAM_FIELDS = ['beta1', 'beta2', 'epsilon'] as const;
const SGD_FIELDS = ['momentum', 'dampening', 'nesterov'] as const;

/** A run's `training` holds its optimizer's fields and no other optimizer's (no `optimizer`: Adam). */
function checkOptimizerFields(t: Record<string, unknown>): string | undefined {
  const optimizer = (t.optimizer as string | undefined) ?? 'adam';
  const [own, other] = optimizer === 'sgd' ? [['momentum'], ADAM_FIELDS] : [ADAM_FIELDS, SGD_FIELDS];
  const missing = own.find((k) => t[k] === undefined);
  if (missing) return `must hold '${missing}' for optimizer '${optimizer}'`;
  const foreign = other.find((k) => t[k] !== undefined);
  return foreign ? `holds '${foreign}', which optimizer '${optimizer}' does not have` : undefined;
}
const fileName = s.str({ maxLength: 200, pattern: CHECKPOINT_FILE_NAME, patternText: 'a file name inside the checkpoint directory' });

const stepsPerEpochOf = (root: unknown): number | undefined => {
  const t = (root as { training?: { trainExamples?: number; batchSize?: number } })?.training;
  return t && typeof t.trainExamples === 'number' && typeof t.batchSize === 'number' ? Math.ceil(t.trainExamples / t.batchSize) : undefined;
};

/**
 * The schema of `checkpoint.json` (version 1), checked by {@link parseMeta} on every read. Tests generate their damaged
 * files from it. @internal
 */
export const CHECKPOINT_SCHEMA: Schema = s.obj({
  format: s.lit('fmnist-checkpoint'),
  version: s.lit(1),
  preset: s.opt(s.str({ values: [...PRESET_NAMES_AND_ALIASES] })),
  config: s.obj(
    {},
    {
      // validateConfig also bounds the size (MAX_PARAMETERS), before anything is allocated.
      refine: (config: ModelConfig) => {
        try {
          validateConfig(config);
        } catch (err) {
          return `is not a valid model config: ${(err as Error).message}`;
        }
        return undefined;
      },
    },
  ),
  epoch: s.int(0, MAX_EPOCHS, {
    refine: (epoch: number, root) => {
      const asked = (root as { training?: { epochs?: unknown } }).training?.epochs;
      // Only against a valid 'training.epochs' (else that field is the one reported).
      const valid = typeof asked === 'number' && Number.isInteger(asked) && asked >= 1 && asked <= MAX_EPOCHS;
      return valid && epoch > asked ? `must not exceed 'training.epochs' (${asked})` : undefined;
    },
  }),
  step: s.int(0, Number.MAX_SAFE_INTEGER),
  rng: s.arr(s.int(0, 0xffffffff), 4, 4, {
    refine: (rng: number[]) => (rng.every((v) => v === 0) ? 'must not be all zero (the RNG would be stuck)' : undefined),
  }),
  training: s.obj(
    {
      optimizer: s.opt(s.str({ values: ['adam', 'adamw', 'sgd'] })),
      // Whatever train accepts (any finite rate > 0, any finite decay ≥ 0): a run never writes a checkpoint it cannot resume.
      learningRate: s.num(0, Number.MAX_VALUE, { exclusiveMin: true }),
      beta1: s.opt(finite(0, 1)),
      beta2: s.opt(finite(0, 1)),
      epsilon: s.opt(s.num(0, 1, { exclusiveMin: true })),
      momentum: s.opt(s.num(0, 1, { refine: (m: number) => (m >= 1 ? 'must be below 1' : undefined) })),
      dampening: s.opt(finite(0, 1)),
      nesterov: s.opt(s.bool()),
      weightDecay: s.opt(finite(0)),
      batchSize: s.int(1, MAX_EXAMPLES),
      epochs: s.int(1, MAX_EPOCHS),
      seed: s.int(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
      initSeed: s.opt(s.int(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)),
      backend: s.str({ maxLength: 100 }),
      threads: s.int(1, 4096),
      normalization: s.lit('unit'),
      trainExamples: s.int(1, MAX_EXAMPLES),
      lrSchedule: s.opt(s.str({ values: ['constant', 'cosine'] })),
      labelSmoothing: s.opt(s.num(0, 1, { refine: (e: number) => (e >= 1 ? 'must be below 1' : undefined) })),
      augment: s.opt(s.obj({ shift: s.opt(s.int(0, 27)), flip: s.opt(s.bool()), erase: s.opt(finite(0, 1)) })),
    },
    { refine: checkOptimizerFields },
  ),
  history: s.arr(
    s.obj({
      epoch: s.int(1, MAX_EPOCHS),
      trainLoss: finite(0),
      trainAccuracy: finite(0, 1),
      testLoss: s.opt(finite(0)),
      testAccuracy: s.opt(finite(0, 1)),
      timeMs: finite(0),
      imagesPerSecond: finite(0),
    }),
    0,
    MAX_EPOCHS,
    {
      refine: (history: EpochRecord[], root) => {
        const epoch = (root as { epoch?: number }).epoch;
        if (history.length !== epoch) return `must hold one record per completed epoch (${epoch}), has ${history.length}`;
        const i = history.findIndex((e, k) => e.epoch !== k + 1);
        return i >= 0 ? `must number its epochs 1, 2, …; entry ${i} says epoch ${history[i]?.epoch}` : undefined;
      },
    },
  ),
  dataset: s.opt(s.obj({ source: s.str({ maxLength: 4096 }), sha256: s.record(s.str({ maxLength: 128 }), 64) })),
  producer: s.str({ maxLength: 200 }),
  createdAt: s.str({ maxLength: 100 }),
  resumeAt: s.opt(
    s.obj(
      {
        batch: s.int(1, MAX_EXAMPLES, {
          refine: (batch: number, root) => {
            const steps = stepsPerEpochOf(root);
            return steps !== undefined && batch >= steps ? `must be before the end of the epoch (${steps} steps)` : undefined;
          },
        }),
        partial: s.obj({
          lossSum: finite(0),
          correct: s.int(0, MAX_EXAMPLES),
          seen: s.int(0, MAX_EXAMPLES),
          timeMs: finite(0),
        }),
      },
      {
        refine: (r: { partial: { correct: number; seen: number } }) =>
          r.partial.correct > r.partial.seen ? `counts ${r.partial.correct} correct of ${r.partial.seen} seen` : undefined,
      },
    ),
  ),
  files: s.opt(s.obj({ weights: fileName, optimizer: s.opt(fileName) })),
});

/** Where to resume inside an epoch (a checkpoint written mid-epoch). */
export interface ResumePoint {
  /** Batches of the epoch already applied. */
  batch: number;
  /** The epoch's running sums so far. */
  partial: { lossSum: number; correct: number; seen: number; timeMs: number };
}

/** `checkpoint.json` as stored: the meta plus the mid-epoch resume point and the names of the tensor files. @internal */
export type StoredCheckpointMeta = CheckpointMeta & { resumeAt?: ResumePoint; files?: { weights: string; optimizer?: string } };

/**
 * Parses and checks checkpoint JSON against {@link CHECKPOINT_SCHEMA}.
 *
 * @throws FmnistModelError `E_CHECKPOINT_CORRUPT` naming the file, the field and the bad value
 * @internal
 */
export function parseMeta(text: string, file: string): StoredCheckpointMeta {
  let meta: unknown;
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
  const m = meta as Partial<CheckpointMeta> | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m) || m.format !== 'fmnist-checkpoint') {
    throw new FmnistModelError(
      'E_CHECKPOINT_CORRUPT',
      `${file}: not an fmnist checkpoint (field 'format' is ${showValue(m?.format)}, expected "fmnist-checkpoint"). Pass the checkpoint.json of a run.`,
    );
  }
  if (m.version !== 1) {
    throw new FmnistModelError(
      'E_CHECKPOINT_CORRUPT',
      `${file}: field 'version' is ${showValue(m.version)}; this release reads checkpoint version 1. Upgrade @fmnist/model or use another checkpoint.`,
    );
  }
  const violation = checkSchema(CHECKPOINT_SCHEMA, meta);
  if (violation) {
    throw new FmnistModelError(
      'E_CHECKPOINT_CORRUPT',
      `${file}: ${formatViolation(violation)}. The file is damaged or was edited; restore it or use another checkpoint.`,
    );
  }
  // An old preset name (`seed`) reads as its canonical name, so a resume compares and records `coursework`.
  const stored = meta as StoredCheckpointMeta;
  return stored.preset === undefined ? stored : { ...stored, preset: canonicalPresetName(stored.preset) as PresetName };
}

/**
 * Refuses NaN and ±Infinity in a set of tensors.
 *
 * @throws FmnistModelError `E_NON_FINITE` naming the tensor, the index and the value
 * @internal
 */
export function checkFinite(params: ParamSet, where: string): void {
  for (const [name, data] of Object.entries(params)) {
    if (!data) continue;
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (v - v !== 0) {
        throw new FmnistModelError(
          'E_NON_FINITE',
          `${where}: tensor '${name}' holds ${v} at index ${i}; a model with NaN or infinite weights gives no usable predictions. Use an earlier checkpoint or train again.`,
        );
      }
    }
  }
}

/** Decodes weights against a config. @internal */
export function decodeWeights(config: ModelConfig, bytes: Uint8Array, file: string): ParamSet {
  return pick(config, decodeSafetensors(bytes, file).tensors, '', file);
}

/** Decodes an optimizer's state against a config (no `optimizer` metadata: Adam, as before 0.2). @internal */
export function decodeOptimizer(config: ModelConfig, bytes: Uint8Array, file: string): OptimizerState {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new FmnistModelError('E_CHECKPOINT_CORRUPT', `${file}: missing or bad 'step' metadata.`);
  const kind = metadata.optimizer ?? 'adam';
  if (kind !== 'adam' && kind !== 'sgd') {
    throw new FmnistModelError(
      'E_CHECKPOINT_CORRUPT',
      `${file}: metadata 'optimizer' is ${JSON.stringify(kind)}; expected 'sgd' or none (Adam). The file is damaged or from a newer release.`,
    );
  }
  const state: OptimizerState = { kind, step };
  for (const slot of OPTIMIZER_SLOTS[kind]) state[slot] = pick(config, tensors, `${slot}.`, file);
  return state;
}
