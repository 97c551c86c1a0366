/**
 * The end of `fmnist train`: the final evaluation (the one `train()` returned, or a new one when it has none), the
 * run's files (metrics, per-class accuracy, charts, `report.html`, the ONNX model), `config.json`'s result, the
 * closing lines and the `--json` summary.
 */
import { join, relative } from 'node:path';
import { CLASS_NAMES, type FashionMnistSplit } from '@fmnist/data';
import type { EpochRecord, Evaluation, FmnistModel, History } from '@fmnist/model';
import { perClassAccuracy, perClassCsv, renderRunReport, toMetricsRows } from '@fmnist/report';
import { EXIT } from '../errors';
import { exportCheckpointToFile } from '../onnx-io';
import { fmtLoss, formatDuration, pct, plural } from '../parse';
import { RUN_FILES } from '../paths';
import { svgToPng } from '../render';
import type { RunConfig, RunSettings } from '../run-config';
import { shellCommand } from '../shell';
import { colors, log, oneLine, printJson } from '../ui';
import { writeRunMetrics } from './train-run-dir';
import type { TrainFlags } from './train-settings';

/** Everything the end of a run needs. */
export interface FinishContext {
  flags: Pick<TrainFlags, 'report' | 'export' | 'json' | 'backend' | 'threads'>;
  settings: RunSettings;
  history: History;
  model: FmnistModel;
  trainSet: FashionMnistSplit;
  testSet: FashionMnistSplit;
  runDir: string;
  ckptDir: string;
  /** The run's config; its status, times, training record and result are filled in here. */
  config: RunConfig;
  saveConfig: () => Promise<void>;
  started: Date;
  /** The epochs the metrics files hold; replaced by the history's. */
  epochs: EpochRecord[];
  resumeHint: string;
}

/**
 * The evaluation the report is built from: `History.finalEvaluation` when `train()` evaluated the parameters it left,
 * else (when the report or the figures need one) a new evaluation of the model.
 *
 * @returns the evaluation (or null when none is needed) and whether it was computed here, with its time
 */
export async function finalEvaluation(
  ctx: Pick<FinishContext, 'flags' | 'settings' | 'history' | 'model' | 'testSet'>,
): Promise<{ evaluation: Evaluation | null; reevaluated: boolean; evalMs: number }> {
  // train() returns the evaluation of the parameters it leaves; only when it has none (a stop mid-epoch, a resume with
  // nothing left to train) does a second engine evaluate the model.
  const { history, flags } = ctx;
  const tEval = performance.now();
  const last = history.epochs.at(-1);
  const needEval = flags.report || last?.testAccuracy === undefined || last.epoch !== ctx.settings.epochs;
  const reevaluated = history.finalEvaluation === undefined && needEval;
  let evaluation: Evaluation | null = history.finalEvaluation ?? null;
  if (reevaluated) {
    const { evaluate } = await import('@fmnist/model');
    evaluation = await evaluate(ctx.model, ctx.testSet, { backend: flags.backend, threads: flags.threads });
  }
  return { evaluation, reevaluated, evalMs: performance.now() - tEval };
}

/**
 * Writes `report.html` (rendered by `@fmnist/report` from the run's data, as the web app's downloaded report is) and
 * its two charts as SVG and PNG, adding their names to `files`.
 */
async function writeReport(ctx: FinishContext, evaluation: Evaluation, files: string[]): Promise<void> {
  const { writeFileAtomic } = await import('@fmnist/model');
  const { settings, history, runDir, config } = ctx;
  const last = history.epochs.at(-1);
  files.push(RUN_FILES.curvesSvg, RUN_FILES.curvesPng, RUN_FILES.confusionSvg, RUN_FILES.confusionPng);
  if (ctx.flags.export) files.push(RUN_FILES.onnx);
  files.push(RUN_FILES.report);
  const report = renderRunReport({
    title: `${settings.preset} — ${pct(evaluation.accuracy)} test accuracy`,
    epochs: history.epochs,
    evaluation,
    classNames: CLASS_NAMES,
    testImages: ctx.testSet,
    config,
    highlights: [
      ['test accuracy', pct(evaluation.accuracy)],
      ['test loss', fmtLoss(evaluation.loss)],
      ['epochs', `${last?.epoch ?? 0} / ${settings.epochs}`],
      ['training time', formatDuration((config.result as { trainingTimeMs: number }).trainingTimeMs)],
      ['parameters', config.model.parameters.toLocaleString('en-US')],
      ['engine', history.backend],
      ['threads', String(history.threads)],
      ['train images', ctx.trainSet.count.toLocaleString('en-US')],
      ['stopped', history.stopReason],
    ],
    curvesTitle: `${settings.preset}: ${history.epochs.length} epoch${history.epochs.length === 1 ? '' : 's'}, batch ${settings.batchSize}, lr ${settings.learningRate}`,
    files,
  });
  await writeFileAtomic(join(runDir, RUN_FILES.curvesSvg), String(report.curvesSvg));
  await writeFileAtomic(join(runDir, RUN_FILES.curvesPng), await svgToPng(report.curvesSvg));
  await writeFileAtomic(join(runDir, RUN_FILES.confusionSvg), String(report.confusionSvg));
  await writeFileAtomic(join(runDir, RUN_FILES.confusionPng), await svgToPng(report.confusionSvg));
  await writeFileAtomic(join(runDir, RUN_FILES.report), report.html);
}

/**
 * Finishes a run whose training returned: writes its files and result, prints the closing lines (and the `--json`
 * summary), and sets exit status 130 when it was interrupted.
 *
 * @param ctx - the run
 */
export async function finishRun(ctx: FinishContext): Promise<void> {
  const { readCheckpointMeta, writeFileAtomic } = await import('@fmnist/model');
  const { flags, settings, history, runDir, ckptDir, config, trainSet } = ctx;
  const { evaluation, reevaluated, evalMs } = await finalEvaluation(ctx);
  const last = history.epochs.at(-1);
  const rows = toMetricsRows(history.epochs);
  ctx.epochs.splice(0, ctx.epochs.length, ...history.epochs);
  await writeRunMetrics(runDir, ctx.epochs);
  const testAccuracy = evaluation?.accuracy ?? (last?.testAccuracy as number);
  const testLoss = evaluation?.loss ?? (last?.testLoss as number);
  const perClass = evaluation ? perClassAccuracy(evaluation.confusion) : null;
  const files: string[] = [RUN_FILES.config, RUN_FILES.metricsCsv, RUN_FILES.metricsJsonl, `${RUN_FILES.checkpoint}/`];
  if (evaluation && perClass) {
    await writeFileAtomic(join(runDir, RUN_FILES.perClass), perClassCsv(CLASS_NAMES, evaluation.confusion));
    files.push(RUN_FILES.perClass);
  }
  const totalMs = Date.now() - ctx.started.getTime();
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

  if (flags.report && evaluation) await writeReport(ctx, evaluation, files);

  let exported: { path: string; bytes: number } | null = null;
  if (flags.export) {
    const path = join(runDir, RUN_FILES.onnx);
    exported = { path, bytes: await exportCheckpointToFile(ckptDir, path, {}) };
    if (!flags.report) files.push(RUN_FILES.onnx);
  }
  config.result = { ...config.result, onnx: exported ? RUN_FILES.onnx : null, files };
  await ctx.saveConfig();

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
  const rel = relative(process.cwd(), runDir) || '.';
  if (interrupted) log(colors.yellow(`Stopped ${where}. Continue with: ${ctx.resumeHint}`));
  else if (history.stopReason === 'time-budget') log(colors.yellow(`Time budget reached ${where}. Continue with: ${ctx.resumeHint}`));
  log(
    `${colors.green('✓')} test accuracy ${colors.bold(pct(testAccuracy))} (loss ${fmtLoss(testLoss)}) after ${progressText} in ${formatDuration(totalMs)} ${reevaluated ? colors.dim(`(final evaluation ${formatDuration(evalMs)})`) : ''}`,
  );
  log(`  run:     ${oneLine(rel)}/`);
  if (flags.report) log(`  report:  ${colors.cyan(oneLine(join(rel, RUN_FILES.report)))}`);
  if (exported)
    log(
      `  model:   ${join(rel, RUN_FILES.onnx)} (${(exported.bytes / 1024).toFixed(0)} KiB) — try: ${shellCommand(['fmnist', 'predict', join(rel, RUN_FILES.onnx), '--test-index', '0'])}`,
    );
  if (flags.json) printJson(summary);
  if (interrupted) process.exitCode = EXIT.interrupted;
}
