/**
 * `fmnist train`'s live output while training: the header line and where a resume continues, the progress bar, one
 * line per epoch (and the metrics files after it), and Ctrl-C — the first stops at the next batch boundary after a
 * checkpoint, a second quits at once.
 */
import { relative } from 'node:path';
import { describeAugmentation } from '@fmnist/data';
import type { EpochRecord, TrainCallbacks } from '@fmnist/model';
import { EXIT } from '../errors';
import { fmtLoss, formatDuration, pct, plural } from '../parse';
import type { EpochProgress } from '../progress';
import type { RunConfig, RunSettings } from '../run-config';
import { colors, log, oneLine, whenOutputGone } from '../ui';
import { writeRunMetrics } from './train-run-dir';

/** Ctrl-C / SIGTERM handling for one training call. */
export interface Interrupts {
  /** Aborted by the first signal. */
  signal: AbortSignal;
  /** Removes the handlers. */
  dispose(): void;
}

/**
 * Installs the SIGINT / SIGTERM handlers: the first pauses the progress bar, says what happens and aborts `signal`
 * (training stops after the batch and writes a checkpoint); a second exits at once with status 130.
 *
 * @param progress - the progress bar to pause before printing
 * @param ckptDir - the checkpoint directory, named in the message
 */
export function handleInterrupts(progress: EpochProgress, ckptDir: string): Interrupts {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      progress.pause();
      log(colors.yellow(`\n${signal} again: quitting without waiting. The last checkpoint in ${oneLine(ckptDir)} is intact.`));
      process.exit(EXIT.interrupted);
    }
    progress.pause();
    log(colors.yellow(`\n${signal}: stopping after this batch and writing a checkpoint… (press Ctrl-C again to quit at once)`));
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The reader of our output went away (`fmnist train | head`): stop the same way (output is dropped from now on).
  whenOutputGone(() => {
    progress.pause();
    controller.abort();
  });
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      whenOutputGone(undefined);
    },
  };
}

/** What the training callbacks print and update. */
export interface ProgressContext {
  settings: RunSettings;
  /** Updated with the engine and threads when training begins. */
  config: RunConfig;
  runDir: string;
  ckptDir: string;
  trainExamples: number;
  /** Whether this is `--resume` and whether the run has a checkpoint to resume from. */
  resuming: boolean;
  hasCheckpoint: boolean;
  resumePoint?: { epoch: number; batch?: number };
  /** The command that continues the run, for the hints. */
  resumeHint: string;
  progress: EpochProgress;
  /** Every epoch of the run so far (the checkpoint's, then each new one); the metrics files are written from it. */
  epochs: EpochRecord[];
}

/**
 * The callbacks `fmnist train` passes to `train()`.
 *
 * @param ctx - the run's settings, config, paths and progress bar
 */
export function progressCallbacks(ctx: ProgressContext): TrainCallbacks {
  const { settings, config, progress } = ctx;
  const rel = relative(process.cwd(), ctx.runDir) || '.';
  return {
    onTrainBegin: ({ backend, threads, startEpoch }) => {
      config.environment = { ...config.environment, backend, threads };
      log(
        `${colors.bold(`Training ${settings.preset}`)} (${config.model.parameters.toLocaleString('en-US')} parameters) on ${ctx.trainExamples.toLocaleString('en-US')} images, ` +
          `${plural(settings.epochs, 'epoch')}, batch ${settings.batchSize}, lr ${settings.learningRate}${settings.lrSchedule === 'cosine' ? ' (cosine)' : ''}` +
          `${settings.optimizer === 'sgd' ? `, sgd momentum ${settings.momentum}` : ''}${settings.weightDecay ? `, weight decay ${settings.weightDecay}` : ''}${settings.labelSmoothing ? `, label smoothing ${settings.labelSmoothing}` : ''}${settings.augment ? `, augment ${describeAugmentation(settings.augment)}` : ''}, seed ${settings.seed}${settings.initSeed !== settings.seed ? ` (initial weights: seed ${settings.initSeed})` : ''} — ${backend} × ${threads} thread${threads > 1 ? 's' : ''}`,
      );
      if (startEpoch > 0 || (ctx.resuming && ctx.hasCheckpoint)) {
        const batch = ctx.resumePoint?.epoch === startEpoch ? ctx.resumePoint.batch : undefined;
        const where =
          batch !== undefined
            ? `in epoch ${startEpoch + 1}, after step ${batch} of ${Math.ceil(ctx.trainExamples / settings.batchSize)},`
            : `after epoch ${startEpoch}`;
        log(colors.cyan(`Resuming from the checkpoint ${where} in ${oneLine(relative(process.cwd(), ctx.ckptDir))}`));
      } else if (ctx.resuming)
        log(colors.yellow(`No checkpoint in ${oneLine(relative(process.cwd(), ctx.ckptDir))} yet: starting the run from the beginning.`));
      log(colors.dim(`Run directory: ${oneLine(rel)}  (Ctrl-C stops cleanly; continue with: ${ctx.resumeHint})`));
    },
    onEpochBegin: () => progress.begin(),
    onBatchEnd: (logs) => progress.update(logs),
    onEpochEnd: async (record) => {
      progress.end();
      ctx.epochs.push(record);
      await writeRunMetrics(ctx.runDir, ctx.epochs);
      const w = String(settings.epochs).length;
      const test =
        record.testAccuracy !== undefined
          ? `test loss ${fmtLoss(record.testLoss)} acc ${colors.bold(pct(record.testAccuracy))}`
          : colors.dim('test –');
      log(
        `epoch ${String(record.epoch).padStart(w)}/${settings.epochs}  train loss ${fmtLoss(record.trainLoss)} acc ${pct(record.trainAccuracy)}  ${test}  ${formatDuration(record.timeMs)}  ${Math.round(record.imagesPerSecond).toLocaleString('en-US')} img/s`,
      );
    },
  };
}
