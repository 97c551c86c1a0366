/**
 * A run's `config.json`: its one schema (checked on every read), reading it safely, rebuilding its settings from the
 * checkpoint when it was lost, and checking it against the checkpoint before a resume.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Augmentation } from '@fmnist/data';
import {
  canonicalPresetName,
  checkSchema,
  formatViolation,
  PRESET_NAMES_AND_ALIASES,
  type Schema,
  type StoredCheckpointMeta,
  schema as s,
  showValue,
} from '@fmnist/model/core';
import { RunError } from './errors';
import type { AugmentSpec } from './parse';

/** The hyperparameters a run keeps across `--resume`. */
export interface RunSettings {
  /** The preset's canonical name (runs from before the rename record `seed`, read back as `coursework`). */
  preset: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Seed of the batch order, the augmentation and the `--subset` draw (`--seed`). */
  seed: number;
  /**
   * Seed of the initial weights (the model's `config.seed`): `--seed` too since runs record it; runs from before
   * (no `initSeed` in their config.json) drew their weights from seed 0 whatever their `--seed`.
   */
  initSeed: number;
  evalEvery: number;
  subset: number | null;
  lrSchedule: 'constant' | 'cosine';
  weightDecay: number;
  augment: AugmentSpec;
  /** `adam` (also AdamW) or `sgd`; absent in runs written before SGD: Adam. */
  optimizer?: 'adam' | 'sgd';
  /** SGD's momentum (absent for Adam). */
  momentum?: number;
  /** Label smoothing of the training loss (absent: 0). */
  labelSmoothing?: number;
}

/** `config.json` of a run. */
export interface RunConfig {
  format: 'fmnist-run';
  version: 1;
  run: string;
  command: string;
  status: 'running' | 'completed' | 'aborted' | 'time-budget' | 'failed';
  startTime: string;
  endTime: string | null;
  durationMs: number | null;
  resumedAt: string[];
  model: { preset: string; parameters: number; config: unknown };
  settings: RunSettings;
  training: Record<string, unknown>;
  environment: Record<string, unknown>;
  dataset: Record<string, unknown>;
  result: Record<string, unknown> | null;
}

/** What runs written before these settings existed used. */
export const OLD_RUN_DEFAULTS: Pick<RunSettings, 'lrSchedule' | 'weightDecay' | 'augment' | 'initSeed' | 'optimizer' | 'labelSmoothing'> = {
  lrSchedule: 'constant',
  weightDecay: 0,
  augment: null,
  // `--seed` used to seed only the batch order: every run's weights came from the preset's seed, 0.
  initSeed: 0,
  optimizer: 'adam',
  labelSmoothing: 0,
};

const MAX = 100_000_000;
const time = s.str({ maxLength: 100 });

/** The schema of `config.json` (version 1). Tests generate their damaged files from it. */
export const RUN_CONFIG_SCHEMA: Schema = s.obj({
  format: s.lit('fmnist-run'),
  version: s.lit(1),
  run: s.str({ maxLength: 4096 }),
  command: s.str({ maxLength: 100_000 }),
  status: s.str({ values: ['running', 'completed', 'aborted', 'time-budget', 'failed'] }),
  startTime: time,
  endTime: s.str({ maxLength: 100 }, { nullable: true }),
  durationMs: s.num(0, Number.MAX_VALUE, { nullable: true }),
  resumedAt: s.arr(time, 0, 100_000),
  model: s.obj({ preset: s.str({ maxLength: 100 }), parameters: s.int(0, MAX), config: s.obj({}) }),
  settings: s.obj({
    preset: s.str({ values: [...PRESET_NAMES_AND_ALIASES] }),
    epochs: s.int(1, 1_000_000),
    batchSize: s.int(1, MAX),
    learningRate: s.num(0, 1000, { exclusiveMin: true }),
    seed: s.int(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    initSeed: s.opt(s.int(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)),
    evalEvery: s.int(1, 1_000_000),
    subset: s.int(1, MAX, { nullable: true }),
    lrSchedule: s.opt(s.str({ values: ['constant', 'cosine'] })),
    weightDecay: s.opt(s.num(0, 1000)),
    augment: s.opt(s.obj({ shift: s.opt(s.int(0, 27)), flip: s.opt(s.bool()), erase: s.opt(s.num(0, 1)) }, { nullable: true })),
    optimizer: s.opt(s.str({ values: ['adam', 'sgd'] })),
    momentum: s.opt(s.num(0, 1, { refine: (m: number) => (m >= 1 ? 'must be below 1' : undefined) })),
    labelSmoothing: s.opt(s.num(0, 1, { refine: (e: number) => (e >= 1 ? 'must be below 1' : undefined) })),
  }),
  training: s.obj({}),
  environment: s.obj({}),
  dataset: s.obj({}),
  result: s.obj({}, { nullable: true }),
});

/** Largest `config.json` read (a real one is a few KiB). */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** What reading `config.json` found. */
export type RunConfigRead =
  | { kind: 'ok'; config: RunConfig }
  /** Missing, empty or not JSON: what a killed write or a deleted file leaves; rebuildable from the checkpoint. */
  | { kind: 'lost'; why: string };

/**
 * Reads and checks a run's `config.json`.
 *
 * @param path - the file
 * @returns the config, or why it is lost (missing, empty, not JSON)
 * @throws RunError `E_RUN_CONFIG_CORRUPT` for a non-regular file or a schema violation (naming the field)
 */
export async function readRunConfig(path: string, canRebuild: boolean): Promise<RunConfigRead> {
  const rebuildHint = canRebuild
    ? 'Fix that field, or delete config.json to rebuild it from the checkpoint.'
    : 'Fix that field, or start a new run with another --out.';
  let text: string;
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'lost', why: 'is missing' };
    throw new RunError('E_RUN_CONFIG_CORRUPT', `${path}: cannot be read (${code}).`, { cause: err });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile())
      throw new RunError('E_RUN_CONFIG_CORRUPT', `${path}: not a regular file (a FIFO, device or socket). ${rebuildHint}`);
    if (info.size > MAX_CONFIG_BYTES)
      throw new RunError('E_RUN_CONFIG_CORRUPT', `${path}: ${info.size} bytes, far more than a run config has.`);
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  if (text.trim() === '') return { kind: 'lost', why: 'is empty' };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { kind: 'lost', why: `is not valid JSON (${(err as Error).message})` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || (doc as { format?: unknown }).format !== 'fmnist-run') {
    throw new RunError(
      'E_RUN_CONFIG_CORRUPT',
      `${path}: not an fmnist run config (field 'format' is ${showValue((doc as { format?: unknown } | null)?.format)}, expected "fmnist-run"). ${rebuildHint}`,
    );
  }
  const violation = checkSchema(RUN_CONFIG_SCHEMA, doc);
  if (violation) throw new RunError('E_RUN_CONFIG_CORRUPT', `${path}: ${formatViolation(violation)}. ${rebuildHint}`);
  return { kind: 'ok', config: canonicalRunConfig(doc as RunConfig) };
}

/** The preset's canonical name, or the text as written (a custom config's `custom`). */
const canonicalPreset = (name: string): string => canonicalPresetName(name) ?? name;

/**
 * A run config with its preset names canonical: a run from before the rename (`seed`) reads as `coursework`, so a
 * resume compares, records and shows the name new runs use. Nothing else changes.
 */
function canonicalRunConfig(config: RunConfig): RunConfig {
  return {
    ...config,
    model: { ...config.model, preset: canonicalPreset(config.model.preset) },
    settings: { ...config.settings, preset: canonicalPreset(config.settings.preset) },
  };
}

/**
 * The run's settings as its checkpoint records them (for a lost `config.json`). `evalEvery` is read back from which
 * epochs were evaluated; `subset` is the number of training examples (the caller turns the full set into `null`).
 *
 * @param meta - the checkpoint's meta
 * @param evalEveryDefault - when the history does not tell (e.g. the recipe's of the checkpoint's preset)
 */
export function settingsFromCheckpoint(meta: StoredCheckpointMeta, evalEveryDefault: number): RunSettings {
  const t = meta.training;
  const firstEval = meta.history.find((e) => e.testAccuracy !== undefined && e.epoch < t.epochs)?.epoch;
  // The last epoch before the last one that ran: with no evaluation up to it, evalEvery is larger than it.
  const lastBeforeEnd = meta.history.filter((e) => e.epoch < t.epochs).at(-1)?.epoch ?? 0;
  return {
    preset: meta.preset ?? 'custom',
    epochs: t.epochs,
    batchSize: t.batchSize,
    learningRate: t.learningRate,
    seed: t.seed,
    initSeed: t.initSeed ?? meta.config.seed,
    // No evaluation before the last epoch although epochs before it ran: the default when it agrees with that history
    // (mixer-s7's 7 after 5 epochs), else the run evaluated at the end only.
    evalEvery: firstEval ?? (lastBeforeEnd === 0 || evalEveryDefault > lastBeforeEnd ? evalEveryDefault : t.epochs),
    subset: t.trainExamples,
    lrSchedule: t.lrSchedule ?? 'constant',
    weightDecay: t.weightDecay ?? 0,
    augment: t.augment ?? null,
    ...(t.optimizer === 'sgd' ? { optimizer: 'sgd' as const, momentum: t.momentum } : {}),
    ...(t.labelSmoothing ? { labelSmoothing: t.labelSmoothing } : {}),
  };
}

/** JSON with sorted keys, so equal objects compare equal whatever their key order. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_, x) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );

const normalizeAugment = (a: Augmentation | null | undefined) => (a && Object.keys(a).length > 0 ? a : null);

/**
 * Refuses a `config.json` that disagrees with the checkpoint it sits beside (the checkpoint is what training resumes
 * from, so its record wins; the config was edited or belongs to another run).
 *
 * @param config - the parsed config.json
 * @param meta - the checkpoint's meta
 * @param files - both paths, for the message
 * @throws RunError `E_RUN_MISMATCH` naming both fields and values
 */
export function checkConfigAgainstCheckpoint(
  config: RunConfig,
  meta: StoredCheckpointMeta,
  files: { config: string; checkpoint: string },
): void {
  const settings: RunSettings = { ...OLD_RUN_DEFAULTS, ...config.settings };
  const t = meta.training;
  const pairs: [string, unknown, string, unknown][] = [
    ['settings.preset', canonicalPreset(settings.preset), 'preset', canonicalPreset(meta.preset ?? settings.preset)],
    ['settings.batchSize', settings.batchSize, 'training.batchSize', t.batchSize],
    ['settings.learningRate', settings.learningRate, 'training.learningRate', t.learningRate],
    ['settings.seed', settings.seed, 'training.seed', t.seed],
    ['settings.initSeed', settings.initSeed, 'config.seed', meta.config.seed],
    ['settings.lrSchedule', settings.lrSchedule, 'training.lrSchedule', t.lrSchedule ?? 'constant'],
    ['settings.weightDecay', settings.weightDecay, 'training.weightDecay', t.weightDecay ?? 0],
    ['settings.augment', normalizeAugment(settings.augment), 'training.augment', normalizeAugment(t.augment)],
    ['settings.optimizer', settings.optimizer, 'training.optimizer', t.optimizer === 'sgd' ? 'sgd' : 'adam'],
    ['settings.momentum', settings.momentum ?? null, 'training.momentum', t.momentum ?? null],
    ['settings.labelSmoothing', settings.labelSmoothing ?? 0, 'training.labelSmoothing', t.labelSmoothing ?? 0],
    ['model.config', config.model.config, 'config', meta.config],
  ];
  for (const [field, value, ckptField, recorded] of pairs) {
    if (canonical(value) !== canonical(recorded)) {
      throw new RunError(
        'E_RUN_MISMATCH',
        `${files.config}: field '${field}' is ${showValue(value)}, but the checkpoint ${files.checkpoint} records ${showValue(recorded)} (field '${ckptField}'); they belong to different runs or one was edited. Restore config.json, or delete it to rebuild it from the checkpoint.`,
      );
    }
  }
}

/**
 * Refuses a subset that disagrees with the checkpoint's number of training examples (once the data is loaded).
 *
 * @throws RunError `E_RUN_MISMATCH`
 */
export function checkSubsetAgainstCheckpoint(
  subset: number | null,
  trainCount: number,
  meta: StoredCheckpointMeta,
  files: { config: string; checkpoint: string },
): void {
  const examples = subset ?? trainCount;
  if (examples !== meta.training.trainExamples) {
    throw new RunError(
      'E_RUN_MISMATCH',
      `${files.config}: field 'settings.subset' gives ${examples} training images, but the checkpoint ${files.checkpoint} was trained on ${meta.training.trainExamples} (field 'training.trainExamples'). Restore config.json, or delete it to rebuild it from the checkpoint.`,
    );
  }
}
