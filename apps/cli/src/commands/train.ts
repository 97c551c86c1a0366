/**
 * `fmnist train`: trains with live progress and writes a run directory (config, metrics, charts, report, checkpoint,
 * ONNX). This file runs the steps in order; each has its own module:
 *
 * - `train-run-dir.ts`: which run directory, its paths, its lock, its metrics files;
 * - `train-settings.ts`: the flags, the recipe, and what a `--resume` keeps;
 * - `train-data.ts`: the dataset and the `--subset`;
 * - `train-config.ts`: `config.json` at the start;
 * - `train-progress.ts`: the live output and Ctrl-C;
 * - `train-report.ts`: the final evaluation, the report and model files, the closing lines and `--json`.
 */
import { relative } from 'node:path';
import type { FmnistModel, History } from '@fmnist/model';
import { checksums } from '../dataset';
import { UsageError } from '../errors';
import { EpochProgress } from '../progress';
import { shellCommand } from '../shell';
import { createRunConfig } from './train-config';
import { loadTrainingData } from './train-data';
import { handleInterrupts, progressCallbacks } from './train-progress';
import { finishRun } from './train-report';
import { chooseRunDirectory, removeDerivedFiles, runPaths, withRunDirectory, writeRunMetrics } from './train-run-dir';
import { resolveRunSettings, type TrainFlags } from './train-settings';

export type { TrainFlags } from './train-settings';

/**
 * Runs `fmnist train`.
 *
 * @param flags - the parsed flags
 * @param command - commander's Command (tells which options were typed)
 */
// biome-ignore lint/suspicious/noExplicitAny: commander passes the Command as the last argument
export async function run(flags: TrainFlags, command: any): Promise<void> {
  const started = new Date();
  const { runDir, resuming } = chooseRunDirectory(flags, started);
  // One writer per run directory: the lock is held from before anything is read until the last file is written.
  await withRunDirectory(runDir, () => trainRun(flags, command, started, runDir, resuming));
}

async function trainRun(
  flags: TrainFlags,
  // biome-ignore lint/suspicious/noExplicitAny: commander's Command
  command: any,
  started: Date,
  runDir: string,
  resuming: boolean,
): Promise<void> {
  const fromCli = (name: string) => command?.getOptionValueSource?.(name) === 'cli';
  const { writeFileAtomic } = await import('@fmnist/model');
  const paths = runPaths(runDir);
  const { ckptDir, configPath } = paths;
  const resolved = await resolveRunSettings(flags, fromCli, paths, resuming);
  const { previous, hasCheckpoint } = resolved;

  // ---- data and model
  const { createModel, countParameters, train } = await import('@fmnist/model');
  let model: FmnistModel;
  try {
    model = createModel({ preset: resolved.settings.preset as never, seed: resolved.settings.initSeed });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const { data, trainSet, testSet, settings } = await loadTrainingData(flags.dir, { ...resolved, runFiles: paths.runFiles });

  const config = createRunConfig({
    runDir,
    started,
    resuming,
    previous,
    settings,
    model,
    parameters: countParameters(model.config),
    flags,
    data,
    trainExamples: trainSet.count,
    testExamples: testSet.count,
  });
  const saveConfig = () => writeFileAtomic(configPath, `${JSON.stringify(config, null, 2)}\n`);
  await saveConfig();
  // The model and report of an earlier stop describe weights this resume is about to move on from.
  if (resuming && hasCheckpoint) await removeDerivedFiles(runDir);

  // ---- Ctrl-C: stop at the next batch boundary after writing a checkpoint; a second Ctrl-C quits at once.
  const progress = new EpochProgress(settings.epochs);
  const interrupts = handleInterrupts(progress, ckptDir);

  const epochs = [...resolved.priorEpochs];
  if (epochs.length) await writeRunMetrics(runDir, epochs);

  const resumeHint = shellCommand(['fmnist', 'train', '--resume', relative(process.cwd(), runDir) || '.']);
  let history: History;
  try {
    history = await train({
      model,
      data: { train: trainSet, test: testSet },
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      learningRate: settings.learningRate,
      lrSchedule: settings.lrSchedule,
      weightDecay: settings.weightDecay,
      ...(settings.optimizer === 'sgd' ? { optimizer: { kind: 'sgd' as const, momentum: settings.momentum } } : {}),
      ...(settings.labelSmoothing ? { labelSmoothing: settings.labelSmoothing } : {}),
      ...(settings.augment ? { augment: settings.augment } : {}),
      seed: settings.seed,
      evalEvery: settings.evalEvery,
      signal: interrupts.signal,
      checkpointDir: ckptDir,
      checkpointEvery: flags.checkpointEvery,
      resume: resuming && hasCheckpoint,
      timeBudgetMs: flags.timeBudget,
      backend: flags.backend,
      threads: flags.threads,
      dataset: { source: data.source, sha256: checksums(data) },
      callbacks: progressCallbacks({
        settings,
        config,
        runDir,
        ckptDir,
        trainExamples: trainSet.count,
        resuming,
        hasCheckpoint,
        resumePoint: resolved.resumePoint,
        resumeHint,
        progress,
        epochs,
      }),
    });
  } catch (err) {
    progress.end();
    config.status = 'failed';
    config.endTime = new Date().toISOString();
    config.result = { error: (err as Error).message };
    await saveConfig();
    throw err;
  } finally {
    interrupts.dispose();
  }
  progress.end();

  await finishRun({ flags, settings, history, model, trainSet, testSet, runDir, ckptDir, config, saveConfig, started, epochs, resumeHint });
}
