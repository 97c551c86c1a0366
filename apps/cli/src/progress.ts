/**
 * Live training progress: a cli-progress bar per epoch on a TTY; on pipes and in CI, a plain line now and then.
 */

import type { BatchLogs } from '@fmnist/model';
import cliProgress from 'cli-progress';
import { fmtLoss, formatDuration } from './parse';
import { colors, isInteractive, log } from './ui';

const PLAIN_EVERY_MS = 15_000;

/** Shows progress of one epoch at a time. */
export class EpochProgress {
  private bar: cliProgress.SingleBar | undefined;
  private readonly tty = isInteractive();
  private lastPlain = 0;
  private paused = false;

  constructor(private readonly epochs: number) {}

  /** Updates with the trainer's batch logs. */
  update(logs: BatchLogs): void {
    if (this.paused) return;
    const payload = {
      ep: `${String(logs.epoch).padStart(String(this.epochs).length)}/${this.epochs}`,
      loss: fmtLoss(logs.meanLoss),
      acc: `${(100 * logs.accuracy).toFixed(2)}%`,
      ips: Math.round(logs.imagesPerSecond).toLocaleString('en-US'),
    };
    if (this.tty) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${colors.bold('epoch {ep}')} ${colors.cyan('{bar}')} {value}/{total} ${colors.dim('|')} loss {loss} ${colors.dim('|')} acc {acc} ${colors.dim('|')} {ips} img/s ${colors.dim('|')} ETA {eta_formatted}`,
            barCompleteChar: '█',
            barIncompleteChar: '░',
            barsize: 22,
            hideCursor: true,
            clearOnComplete: true,
            stopOnComplete: false,
            etaBuffer: 40,
            fps: 8,
          },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(logs.batches, logs.batch - 1, payload);
      }
      this.bar.update(logs.batch, payload);
      return;
    }
    const now = performance.now();
    if (this.lastPlain === 0) this.lastPlain = now;
    // The first batch logged in this epoch: after a mid-epoch resume the trainer starts past batch 1, and the ETA must
    // divide the time since begin() by the batches run since then, not by all the batches of the epoch.
    this.firstBatch ??= logs.batch;
    if (now - this.lastPlain >= PLAIN_EVERY_MS && logs.batch < logs.batches) {
      this.lastPlain = now;
      const eta = ((logs.batches - logs.batch) * (now - this.epochStart)) / Math.max(1, logs.batch - (this.firstBatch ?? 1) + 1);
      log(
        `  epoch ${payload.ep} step ${logs.batch}/${logs.batches}  loss ${payload.loss}  acc ${payload.acc}  ${payload.ips} img/s  ETA ${formatDuration(eta)}`,
      );
    }
  }

  private epochStart = performance.now();
  private firstBatch: number | undefined;

  /** Marks the start of an epoch (resets the plain-line clock; the first batch logged after it is where the epoch starts). */
  begin(): void {
    this.epochStart = performance.now();
    this.lastPlain = performance.now();
    this.firstBatch = undefined;
  }

  /** Removes the bar (before printing the epoch's summary line). */
  end(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  /** Stops drawing (e.g. after Ctrl-C) so messages stay readable. */
  pause(): void {
    this.end();
    this.paused = true;
  }
}
