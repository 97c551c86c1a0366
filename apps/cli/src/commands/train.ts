/** `fmnist train`: trains with live progress and writes a run directory (config, metrics, charts, report, checkpoint, ONNX). */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rmdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { CLASS_NAMES, describeAugmentation, type FashionMnistSplit, getImage, permutation, subset } from '@fmnist/data';
import type { BackendName, EpochRecord, FmnistModel, History, PresetName, StoredCheckpointMeta } from '@fmnist/model';
import { TRAINING_RECIPES } from '@fmnist/model/core';
import { confusionSvg, curvesSvg, perClassAccuracy } from '../charts';
import { checksums, loadData } from '../dataset';
import { describeEnvironment } from '../environment';
import { EXIT, ExitError, UsageError } from '../errors';
import { checkRunDirectory } from '../files';
import { metricsCsv, metricsJsonl, perClassCsv, toMetricsRows } from '../metrics';
import { exportCheckpointToFile } from '../onnx-io';
import { type AugmentSpec, fmtLoss, formatDuration, pct, plural } from '../parse';
import { RUN_FILES } from '../paths';
import { EpochProgress } from '../progress';
import { svgToPng } from '../render';
import { type Misclassified, renderReport } from '../report';
import {
  checkConfigAgainstCheckpoint,
  checkSubsetAgainstCheckpoint,
  OLD_RUN_DEFAULTS,
  type RunConfig,
  type RunSettings,
  readRunConfig,
  settingsFromCheckpoint,
} from '../run-config';
import { acquireRunLock, describeTakeover } from '../run-lock';
import { shellCommand } from '../shell';
import { colors, log, printJson } from '../ui';

interface TrainFlags {
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
  evalEvery: number;
  subset?: number;
  dir?: string;
  export: boolean;
  report: boolean;
  json?: boolean;
}

const stamp = (d = new Date()) => {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
};

const MISCLASSIFIED_PER_CLASS = 4;

// biome-ignore lint/suspicious/noExplicitAny: commander passes the Command as the last argument
export async function run(flags: TrainFlags, command: any): Promise<void> {
  const started = new Date();
  const resuming = flags.resume !== undefined && flags.resume !== false;
  const runArg = typeof flags.resume === 'string' ? flags.resume : flags.out;
  if (resuming && !runArg) throw new UsageError('--resume needs the run directory: fmnist train --resume runs/NAME');
  if (typeof flags.resume === 'string' && flags.out && resolve(flags.out) !== resolve(flags.resume)) {
    throw new UsageError(`--resume ${flags.resume} and --out ${flags.out} name different runs; pass only one.`);
  }
  if (!TRAINING_RECIPES[flags.preset]) throw new UsageError(`unknown preset '${flags.preset}'.`);
  const runDir = resolve(runArg ?? join('runs', `${flags.preset}-${stamp(started)}`));
  // Before anything is read or written: an existing non-folder, a folder of other files, /proc… are refused here.
  checkRunDirectory(runArg ?? runDir, typeof flags.resume === 'string' ? '--resume' : flags.out ? '--out' : undefined, resuming);
  if (resuming && !existsSync(join(runDir, RUN_FILES.config)) && !existsSync(join(runDir, RUN_FILES.checkpoint, 'checkpoint.json'))) {
    throw new ExitError(
      `${runDir}: no ${RUN_FILES.config}, so nothing to resume. Start a new run with: ${shellCommand(['fmnist', 'train', '--out', relative(process.cwd(), runDir) || '.'])}`,
    );
  }
  // ---- one writer per run directory: the lock is held from before anything is read until the last file is written.
  const created = !existsSync(runDir);
  try {
    await mkdir(runDir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ExitError(`cannot create the run directory ${runDir} (${code}). Choose another --out.`, EXIT.failure, { cause: err });
  }
  const lock = await acquireRunLock(runDir, ['fmnist', ...process.argv.slice(2)].join(' '));
  try {
    if (lock.tookOverFrom) log(colors.yellow(describeTakeover(lock.tookOverFrom)));
    // Leftovers of writes killed midway (the lock guarantees nobody is writing them now).
    const { removeStaleTempFiles } = await import('@fmnist/model');
    const removed = [...(await removeStaleTempFiles(runDir)), ...(await removeStaleTempFiles(join(runDir, RUN_FILES.checkpoint)))];
    if (removed.length > 0)
      log(colors.dim(`Removed ${removed.length} temporary file${removed.length > 1 ? 's' : ''} left by an interrupted write.`));
    await trainRun(flags, command, started, runDir, resuming);
  } finally {
    await lock.release();
    // A fresh run that failed before writing anything leaves no empty directory behind.
    if (created)
      await readdir(runDir)
        .then((names) => (names.length === 0 ? rmdir(runDir) : undefined))
        .catch(() => {});
  }
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
  const { readCheckpointMeta, writeFileAtomic } = await import('@fmnist/model');
  const ckptDir = join(runDir, RUN_FILES.checkpoint);
  const configPath = join(runDir, RUN_FILES.config);
  const ckptJson = join(ckptDir, 'checkpoint.json');
  const runFiles = { config: configPath, checkpoint: ckptJson };

  const recipe = TRAINING_RECIPES[flags.preset] as (typeof TRAINING_RECIPES)[PresetName];
  let settings: RunSettings = {
    preset: flags.preset,
    epochs: flags.epochs ?? recipe.epochs,
    batchSize: flags.batchSize,
    learningRate: flags.lr ?? recipe.learningRate,
    seed: flags.seed,
    evalEvery: flags.evalEvery,
    subset: flags.subset ?? null,
    lrSchedule: flags.lrSchedule ?? recipe.lrSchedule,
    weightDecay: flags.weightDecay ?? recipe.weightDecay,
    augment: flags.augment !== undefined ? flags.augment : recipe.augment,
    ...optimizerSettings(flags, resuming),
    ...(flags.labelSmoothing ? { labelSmoothing: flags.labelSmoothing } : {}),
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
      before = { ...OLD_RUN_DEFAULTS, ...settingsFromCheckpoint(ckptMeta, flags.evalEvery) };
      rebuilt = true;
      log(colors.yellow(`${configPath} ${read.why}: rebuilding it from the checkpoint's own record (${ckptJson}).`));
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
      evalEvery: fromCli('evalEvery') ? flags.evalEvery : before.evalEvery,
    };
  } else if (existsSync(ckptJson) || existsSync(configPath)) {
    throw new UsageError(`${runDir} already holds a run. Continue it with --resume, or choose another --out.`);
  }
  let priorEpochs: EpochRecord[] = [];
  /** Where the checkpoint resumes: after `epoch` whole epochs, and `batch` steps into the next one when mid-epoch. */
  let resumePoint: { epoch: number; batch?: number } | undefined;
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

  // ---- data and model
  const { createModel, countParameters, evaluate, train } = await import('@fmnist/model');
  let model: FmnistModel;
  try {
    model = createModel(settings.preset as never);
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const data = await loadData({ dir: flags.dir, verify: true });
  let trainSet: FashionMnistSplit = data.train;
  // A rebuilt config records the checkpoint's number of examples; the whole training set means no subset.
  if (rebuilt && settings.subset === data.train.count) settings = { ...settings, subset: null };
  if (ckptMeta) checkSubsetAgainstCheckpoint(settings.subset, data.train.count, ckptMeta, runFiles);
  if (settings.subset !== null) {
    if (settings.subset > data.train.count)
      throw new UsageError(`--subset ${settings.subset} is larger than the ${data.train.count} training images.`);
    trainSet = subset(data.train, permutation(data.train.count, settings.seed).subarray(0, settings.subset));
  }
  if (settings.batchSize > trainSet.count)
    throw new UsageError(
      `--batch-size ${settings.batchSize} is larger than the ${trainSet.count} training images${settings.subset !== null ? ' of --subset' : ''}: use at most ${trainSet.count}.`,
    );
  const testSet = data.test;

  const config: RunConfig = {
    format: 'fmnist-run',
    version: 1,
    run: runDir,
    command: ['fmnist', ...process.argv.slice(2)].join(' '),
    status: 'running',
    startTime: previous?.startTime ?? started.toISOString(),
    endTime: null,
    durationMs: null,
    resumedAt: [...(previous?.resumedAt ?? []), ...(resuming ? [started.toISOString()] : [])],
    model: { preset: settings.preset, parameters: countParameters(model.config), config: model.config },
    settings,
    training: {
      ...(settings.optimizer === 'sgd'
        ? { optimizer: 'sgd', learningRate: settings.learningRate, lrSchedule: settings.lrSchedule, momentum: settings.momentum }
        : {
            optimizer: settings.weightDecay ? 'adamw' : 'adam',
            learningRate: settings.learningRate,
            lrSchedule: settings.lrSchedule,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
          }),
      weightDecay: settings.weightDecay,
      labelSmoothing: settings.labelSmoothing ?? 0,
      augment: settings.augment,
      batchSize: settings.batchSize,
      epochs: settings.epochs,
      seed: settings.seed,
      evalEvery: settings.evalEvery,
      loss: 'softmax cross-entropy',
      normalization: 'pixels / 255',
      trainExamples: trainSet.count,
      testExamples: testSet.count,
      timeBudgetMs: flags.timeBudget ?? null,
      backendRequested: flags.backend,
      threadsRequested: flags.threads ?? null,
    },
    environment: describeEnvironment(),
    dataset: {
      source: data.source,
      location: data.location,
      train: data.train.count,
      test: data.test.count,
      subset: settings.subset,
      sha256: checksums(data),
    },
    result: null,
  };
  const saveConfig = () => writeFileAtomic(configPath, `${JSON.stringify(config, null, 2)}\n`);
  await saveConfig();

  // ---- Ctrl-C: stop at the next batch boundary after writing a checkpoint; a second Ctrl-C quits at once.
  const controller = new AbortController();
  const progress = new EpochProgress(settings.epochs);
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      progress.pause();
      log(colors.yellow(`\n${signal} again: quitting without waiting. The last checkpoint in ${ckptDir} is intact.`));
      process.exit(EXIT.interrupted);
    }
    progress.pause();
    log(colors.yellow(`\n${signal}: stopping after this batch and writing a checkpoint… (press Ctrl-C again to quit at once)`));
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const epochs: EpochRecord[] = [...priorEpochs];
  const writeMetrics = async () => {
    const rows = toMetricsRows(epochs);
    await writeFileAtomic(join(runDir, RUN_FILES.metricsCsv), metricsCsv(rows));
    await writeFileAtomic(join(runDir, RUN_FILES.metricsJsonl), metricsJsonl(rows));
  };
  if (epochs.length) await writeMetrics();

  const rel = relative(process.cwd(), runDir) || '.';
  const resumeHint = shellCommand(['fmnist', 'train', '--resume', rel]);
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
      signal: controller.signal,
      checkpointDir: ckptDir,
      checkpointEvery: flags.checkpointEvery,
      resume: resuming && hasCheckpoint,
      timeBudgetMs: flags.timeBudget,
      backend: flags.backend,
      threads: flags.threads,
      dataset: { source: data.source, sha256: checksums(data) },
      callbacks: {
        onTrainBegin: ({ backend, threads, startEpoch }) => {
          config.environment = { ...config.environment, backend, threads };
          log(
            `${colors.bold(`Training ${settings.preset}`)} (${config.model.parameters.toLocaleString('en-US')} parameters) on ${trainSet.count.toLocaleString('en-US')} images, ` +
              `${plural(settings.epochs, 'epoch')}, batch ${settings.batchSize}, lr ${settings.learningRate}${settings.lrSchedule === 'cosine' ? ' (cosine)' : ''}` +
              `${settings.optimizer === 'sgd' ? `, sgd momentum ${settings.momentum}` : ''}${settings.weightDecay ? `, weight decay ${settings.weightDecay}` : ''}${settings.labelSmoothing ? `, label smoothing ${settings.labelSmoothing}` : ''}${settings.augment ? `, augment ${describeAugmentation(settings.augment)}` : ''}, seed ${settings.seed} — ${backend} × ${threads} thread${threads > 1 ? 's' : ''}`,
          );
          if (startEpoch > 0 || (resuming && hasCheckpoint)) {
            const batch = resumePoint?.epoch === startEpoch ? resumePoint.batch : undefined;
            const where =
              batch !== undefined
                ? `in epoch ${startEpoch + 1}, after step ${batch} of ${Math.ceil(trainSet.count / settings.batchSize)},`
                : `after epoch ${startEpoch}`;
            log(colors.cyan(`Resuming from the checkpoint ${where} in ${relative(process.cwd(), ckptDir)}`));
          } else if (resuming)
            log(colors.yellow(`No checkpoint in ${relative(process.cwd(), ckptDir)} yet: starting the run from the beginning.`));
          log(colors.dim(`Run directory: ${rel}  (Ctrl-C stops cleanly; continue with: ${resumeHint})`));
        },
        onEpochBegin: () => progress.begin(),
        onBatchEnd: (logs) => progress.update(logs),
        onEpochEnd: async (record) => {
          progress.end();
          epochs.push(record);
          await writeMetrics();
          const w = String(settings.epochs).length;
          const test =
            record.testAccuracy !== undefined
              ? `test loss ${fmtLoss(record.testLoss)} acc ${colors.bold(pct(record.testAccuracy))}`
              : colors.dim('test –');
          log(
            `epoch ${String(record.epoch).padStart(w)}/${settings.epochs}  train loss ${fmtLoss(record.trainLoss)} acc ${pct(record.trainAccuracy)}  ${test}  ${formatDuration(record.timeMs)}  ${Math.round(record.imagesPerSecond).toLocaleString('en-US')} img/s`,
          );
        },
      },
    });
  } catch (err) {
    progress.end();
    config.status = 'failed';
    config.endTime = new Date().toISOString();
    config.result = { error: (err as Error).message };
    await saveConfig();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  progress.end();

  // ---- evaluation for the report (predictions, confusion matrix), artifacts, export
  const tEval = performance.now();
  const last = history.epochs.at(-1);
  const needEval = flags.report || last?.testAccuracy === undefined || last.epoch !== settings.epochs;
  const evaluation = needEval ? await evaluate(model, testSet, { backend: flags.backend, threads: flags.threads }) : null;
  const evalMs = performance.now() - tEval;
  const rows = toMetricsRows(history.epochs);
  epochs.splice(0, epochs.length, ...history.epochs);
  await writeMetrics();
  const testAccuracy = evaluation?.accuracy ?? (last?.testAccuracy as number);
  const testLoss = evaluation?.loss ?? (last?.testLoss as number);
  const perClass = evaluation ? perClassAccuracy(evaluation.confusion) : null;
  const files: string[] = [RUN_FILES.config, RUN_FILES.metricsCsv, RUN_FILES.metricsJsonl, `${RUN_FILES.checkpoint}/`];
  if (evaluation && perClass) {
    await writeFileAtomic(join(runDir, RUN_FILES.perClass), perClassCsv(CLASS_NAMES, evaluation.confusion));
    files.push(RUN_FILES.perClass);
  }
  const totalMs = Date.now() - started.getTime();
  config.status = history.stopReason;
  config.endTime = new Date().toISOString();
  config.durationMs = totalMs;
  config.training = { ...config.training, ...history.training };
  config.result = {
    stopReason: history.stopReason,
    epochsCompleted: last?.epoch ?? 0,
    testAccuracy,
    testLoss,
    perClassAccuracy: perClass ? Object.fromEntries(CLASS_NAMES.map((n, i) => [n, perClass[i]])) : null,
    trainingTimeMs: history.epochs.reduce((s, e) => s + e.timeMs, 0),
  };

  if (flags.report && evaluation) {
    const title = `${settings.preset} — ${pct(evaluation.accuracy)} test accuracy`;
    const curves = curvesSvg(history.epochs, {
      title: `${settings.preset}: ${history.epochs.length} epoch${history.epochs.length === 1 ? '' : 's'}, batch ${settings.batchSize}, lr ${settings.learningRate}`,
    });
    const confusion = confusionSvg(evaluation.confusion, CLASS_NAMES, {
      title: `Confusion matrix — test accuracy ${pct(evaluation.accuracy)}`,
    });
    await writeFileAtomic(join(runDir, RUN_FILES.curvesSvg), String(curves));
    await writeFileAtomic(join(runDir, RUN_FILES.curvesPng), await svgToPng(curves));
    await writeFileAtomic(join(runDir, RUN_FILES.confusionSvg), String(confusion));
    await writeFileAtomic(join(runDir, RUN_FILES.confusionPng), await svgToPng(confusion));
    files.push(RUN_FILES.curvesSvg, RUN_FILES.curvesPng, RUN_FILES.confusionSvg, RUN_FILES.confusionPng);
    const misclassified: Misclassified[] = [];
    const perTrue = new Array<number>(CLASS_NAMES.length).fill(0);
    for (let i = 0; i < testSet.count; i++) {
      const t = testSet.labels[i] as number;
      const p = evaluation.predictions[i] as number;
      if (t !== p && (perTrue[t] as number) < MISCLASSIFIED_PER_CLASS) {
        perTrue[t]++;
        misclassified.push({
          index: i,
          pixels: getImage(testSet, i),
          trueLabel: CLASS_NAMES[t] as string,
          predicted: CLASS_NAMES[p] as string,
        });
      }
    }
    misclassified.sort(
      (a, b) => CLASS_NAMES.indexOf(a.trueLabel as never) - CLASS_NAMES.indexOf(b.trueLabel as never) || a.index - b.index,
    );
    if (flags.export) files.push(RUN_FILES.onnx);
    files.push(RUN_FILES.report);
    const html = await renderReport({
      title,
      highlights: [
        ['test accuracy', pct(evaluation.accuracy)],
        ['test loss', fmtLoss(evaluation.loss)],
        ['epochs', `${last?.epoch ?? 0} / ${settings.epochs}`],
        ['training time', formatDuration(config.result.trainingTimeMs as number)],
        ['parameters', config.model.parameters.toLocaleString('en-US')],
        ['engine', history.backend],
        ['threads', String(history.threads)],
        ['train images', trainSet.count.toLocaleString('en-US')],
        ['stopped', history.stopReason],
      ],
      curvesSvg: curves,
      confusionSvg: confusion,
      classNames: CLASS_NAMES,
      confusion: evaluation.confusion,
      metrics: rows,
      misclassified,
      config,
      files,
    });
    await writeFileAtomic(join(runDir, RUN_FILES.report), html);
  }

  let exported: { path: string; bytes: number } | null = null;
  if (flags.export) {
    const path = join(runDir, RUN_FILES.onnx);
    exported = { path, bytes: await exportCheckpointToFile(ckptDir, path, {}) };
    if (!flags.report) files.push(RUN_FILES.onnx);
  }
  config.result = { ...config.result, onnx: exported ? RUN_FILES.onnx : null, files };
  await saveConfig();

  const interrupted = history.stopReason === 'aborted';
  const summary = {
    run: runDir,
    status: history.stopReason,
    epochs: last?.epoch ?? 0,
    testAccuracy,
    testLoss,
    perClassAccuracy: perClass,
    confusion: evaluation?.confusion ?? null,
    history: rows,
    backend: history.backend,
    threads: history.threads,
    trainingTimeMs: config.result.trainingTimeMs,
    wallTimeMs: totalMs,
    files: files.map((f) => join(runDir, f)),
  };
  log('');
  // Where it stopped: after a whole epoch, or mid-epoch (the checkpoint then records the batch to resume at).
  let where = `after epoch ${last?.epoch ?? 0}`;
  let progressText = plural(last?.epoch ?? 0, 'epoch');
  try {
    const meta = await readCheckpointMeta(ckptDir);
    if (meta.resumeAt) {
      const total = Math.ceil(trainSet.count / settings.batchSize);
      where = `in epoch ${meta.epoch + 1}, at step ${meta.resumeAt.batch} of ${total} (saved in the checkpoint)`;
      progressText += ` + ${meta.resumeAt.batch}/${total} steps`;
    }
  } catch {}
  if (interrupted) log(colors.yellow(`Stopped ${where}. Continue with: ${resumeHint}`));
  else if (history.stopReason === 'time-budget') log(colors.yellow(`Time budget reached ${where}. Continue with: ${resumeHint}`));
  log(
    `${colors.green('✓')} test accuracy ${colors.bold(pct(testAccuracy))} (loss ${fmtLoss(testLoss)}) after ${progressText} in ${formatDuration(totalMs)} ${evaluation ? colors.dim(`(final evaluation ${formatDuration(evalMs)})`) : ''}`,
  );
  log(`  run:     ${rel}/`);
  if (flags.report) log(`  report:  ${colors.cyan(join(rel, RUN_FILES.report))}`);
  if (exported)
    log(
      `  model:   ${join(rel, RUN_FILES.onnx)} (${(exported.bytes / 1024).toFixed(0)} KiB) — try: ${shellCommand(['fmnist', 'predict', join(rel, RUN_FILES.onnx), '--test-index', '0'])}`,
    );
  if (flags.json) printJson(summary);
  if (interrupted) process.exitCode = EXIT.interrupted;
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
