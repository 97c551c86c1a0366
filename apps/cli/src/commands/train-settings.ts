/**
 * `fmnist train`'s settings: the flags over the preset's recipe for a new run; for `--resume`, the run's own settings
 * (from `config.json`, or rebuilt from the checkpoint when that file was lost), checked against the checkpoint, with
 * only `--epochs` and `--eval-every` allowed to change.
 */
import { existsSync } from 'node:fs';
import { describeAugmentation } from '@fmnist/data';
import type { BackendName, EpochRecord, PresetName, StoredCheckpointMeta } from '@fmnist/model';
import { TRAINING_RECIPES } from '@fmnist/model/core';
import { ExitError, UsageError } from '../errors';
import type { AugmentSpec } from '../parse';
import {
  checkConfigAgainstCheckpoint,
  OLD_RUN_DEFAULTS,
  type RunConfig,
  type RunSettings,
  readRunConfig,
  settingsFromCheckpoint,
} from '../run-config';
import { colors, log, oneLine } from '../ui';
import type { RunPaths } from './train-run-dir';

/** The flags of `fmnist train`, as commander parses them. */
export interface TrainFlags {
  preset: PresetName;
  epochs?: number;
  batchSize: number;
  lr?: number;
  lrSchedule?: 'constant' | 'cosine';
  weightDecay?: number;
  augment?: AugmentSpec;
  optimizer?: 'adam' | 'sgd';
  momentum?: number;
  labelSmoothing?: number;
  checkpointEvery?: number;
  seed: number;
  backend: BackendName;
  threads?: number;
  out?: string;
  resume?: string | boolean;
  timeBudget?: number;
  /** `--eval-every`; absent: the preset's recipe (a resume keeps the run's own). */
  evalEvery?: number;
  subset?: number;
  dir?: string;
  export: boolean;
  report: boolean;
  json?: boolean;
}

/** What a run continues from, and with which settings. */
export interface ResolvedRun {
  settings: RunSettings;
  /** The run's `config.json` before this call, when resuming and it could be read. */
  previous?: RunConfig;
  /** The checkpoint's meta, when resuming and there is a checkpoint. */
  ckptMeta?: StoredCheckpointMeta;
  /** Whether the run directory has a checkpoint. */
  hasCheckpoint: boolean;
  /** Whether `config.json` was lost and its settings were rebuilt from the checkpoint. */
  rebuilt: boolean;
  /** The epochs the checkpoint already holds. */
  priorEpochs: EpochRecord[];
  /** Where the checkpoint resumes: after `epoch` whole epochs, and `batch` steps into the next one when mid-epoch. */
  resumePoint?: { epoch: number; batch?: number };
}

/**
 * Resolves the run's settings.
 *
 * @param flags - the parsed flags
 * @param fromCli - whether the user typed the option (commander's option name, e.g. `batchSize`)
 * @param paths - the run directory's paths
 * @param resuming - whether this is `--resume`
 * @throws UsageError for a kept hyperparameter given another value, a run that already holds a run (no `--resume`)
 *   or already finished; ExitError / RunError for a lost or damaged config.json or one disagreeing with the checkpoint
 */
export async function resolveRunSettings(
  flags: TrainFlags,
  fromCli: (name: string) => boolean,
  paths: RunPaths,
  resuming: boolean,
): Promise<ResolvedRun> {
  const { readCheckpointMeta } = await import('@fmnist/model');
  const { runDir, ckptDir, configPath, ckptJson, runFiles } = paths;
  const recipe = TRAINING_RECIPES[flags.preset] as (typeof TRAINING_RECIPES)[PresetName];
  let settings: RunSettings = {
    preset: flags.preset,
    epochs: flags.epochs ?? recipe.epochs,
    batchSize: flags.batchSize,
    learningRate: flags.lr ?? recipe.learningRate,
    seed: flags.seed,
    // One seed for the run, as users (and torch.manual_seed) expect: the initial weights and the batch order.
    initSeed: flags.seed,
    evalEvery: flags.evalEvery ?? recipe.evalEvery,
    subset: flags.subset ?? null,
    lrSchedule: flags.lrSchedule ?? recipe.lrSchedule,
    weightDecay: flags.weightDecay ?? recipe.weightDecay,
    augment: flags.augment !== undefined ? flags.augment : recipe.augment,
    ...optimizerSettings(flags, resuming),
    ...((flags.labelSmoothing ?? recipe.labelSmoothing) ? { labelSmoothing: flags.labelSmoothing ?? recipe.labelSmoothing } : {}),
  };
  let previous: RunConfig | undefined;
  const hasCheckpoint = existsSync(ckptJson);
  // The checkpoint is what a resume continues from: read (and schema-check) it first; config.json is checked against it.
  const ckptMeta: StoredCheckpointMeta | undefined = resuming && hasCheckpoint ? await readCheckpointMeta(ckptDir) : undefined;
  let rebuilt = false;
  if (resuming) {
    const read = await readRunConfig(configPath, ckptMeta !== undefined);
    let before: RunSettings;
    if (read.kind === 'lost') {
      if (!ckptMeta) {
        throw new ExitError(
          `${configPath} ${read.why} and ${runDir} has no checkpoint yet, so there is nothing to resume. Start a new run with another --out (or delete ${runDir}).`,
        );
      }
      // When the history does not tell the run's evalEvery: --eval-every, else the recipe of the checkpoint's preset.
      const evalEveryDefault = flags.evalEvery ?? (ckptMeta.preset ? TRAINING_RECIPES[ckptMeta.preset]?.evalEvery : undefined) ?? 1;
      before = { ...OLD_RUN_DEFAULTS, ...settingsFromCheckpoint(ckptMeta, evalEveryDefault) };
      rebuilt = true;
      log(colors.yellow(`${oneLine(configPath)} ${read.why}: rebuilding it from the checkpoint's own record (${ckptJson}).`));
    } else {
      previous = read.config;
      if (ckptMeta) checkConfigAgainstCheckpoint(previous, ckptMeta, runFiles);
      before = { ...OLD_RUN_DEFAULTS, ...previous.settings };
    }
    const kept: [keyof RunSettings, string, unknown][] = [
      ['preset', 'preset', flags.preset],
      ['batchSize', 'batch-size', flags.batchSize],
      ['learningRate', 'lr', flags.lr],
      ['lrSchedule', 'lr-schedule', flags.lrSchedule],
      ['weightDecay', 'weight-decay', flags.weightDecay],
      ['augment', 'augment', flags.augment],
      ['optimizer', 'optimizer', flags.optimizer],
      ['momentum', 'momentum', flags.momentum],
      ['labelSmoothing', 'label-smoothing', flags.labelSmoothing],
      ['seed', 'seed', flags.seed],
      ...(rebuilt ? [] : ([['subset', 'subset', flags.subset]] as [keyof RunSettings, string, unknown][])),
    ];
    for (const [key, flag, value] of kept) {
      const optionName = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      if (fromCli(optionName) && JSON.stringify(value) !== JSON.stringify(before[key])) {
        const show = (v: unknown) => (key === 'augment' ? describeAugmentation(v as AugmentSpec) : String(v));
        throw new UsageError(
          `--${flag} ${show(value)} differs from the run's ${show(before[key])}: a resumed run keeps its hyperparameters. Drop --${flag}, or start a new run with another --out.`,
        );
      }
    }
    settings = {
      ...before,
      epochs: fromCli('epochs') && flags.epochs !== undefined ? flags.epochs : before.epochs,
      evalEvery: fromCli('evalEvery') && flags.evalEvery !== undefined ? flags.evalEvery : before.evalEvery,
    };
  } else if (existsSync(ckptJson) || existsSync(configPath)) {
    throw new UsageError(`${runDir} already holds a run. Continue it with --resume, or choose another --out.`);
  }
  let priorEpochs: EpochRecord[] = [];
  let resumePoint: ResolvedRun['resumePoint'];
  if (ckptMeta) {
    priorEpochs = ckptMeta.history;
    resumePoint = { epoch: ckptMeta.epoch, batch: ckptMeta.resumeAt?.batch };
    // Training finished but the process died while writing the report, charts or model (status still 'running', or
    // config.json lost): the resume trains nothing and writes what is missing.
    const unfinishedArtifacts = rebuilt || previous?.status === 'running';
    if (ckptMeta.epoch > settings.epochs || (ckptMeta.epoch === settings.epochs && !unfinishedArtifacts)) {
      throw new UsageError(
        `${runDir} already finished ${ckptMeta.epoch} of ${settings.epochs} epochs. Pass a larger --epochs to train further.`,
      );
    }
  }
  return { settings, previous, ckptMeta, hasCheckpoint, rebuilt, priorEpochs, resumePoint };
}

/**
 * The optimizer settings of a new run from its flags: Adam (nothing recorded) unless `--optimizer sgd` (momentum 0.9 unless
 * `--momentum`); `--momentum` without SGD is a usage error (on `--resume` the run's own settings are compared instead).
 */
function optimizerSettings(
  flags: Pick<TrainFlags, 'optimizer' | 'momentum'>,
  resuming: boolean,
): Pick<RunSettings, 'optimizer' | 'momentum'> {
  if (flags.optimizer !== 'sgd') {
    if (flags.momentum !== undefined && !resuming) {
      throw new UsageError(
        `--momentum ${flags.momentum} is an SGD setting; add --optimizer sgd, or drop --momentum (Adam has β1 instead).`,
      );
    }
    return {}; // Adam: recorded as before SGD existed (no `optimizer` in the settings)
  }
  return { optimizer: 'sgd', momentum: flags.momentum ?? 0.9 };
}
