/** Per-epoch metrics files of a run: `metrics.csv` and `metrics.jsonl`. */
import type { EpochRecord } from '@fmnist/model/core';

/** Column names of `metrics.csv`, in order. */
export const METRICS_COLUMNS = ['epoch', 'train_loss', 'train_accuracy', 'test_loss', 'test_accuracy', 'time_s', 'images_per_s'] as const;

/** One row of metrics, snake_case as in the CSV; test values are null for epochs without evaluation. */
export interface MetricsRow {
  epoch: number;
  train_loss: number;
  train_accuracy: number;
  test_loss: number | null;
  test_accuracy: number | null;
  time_s: number;
  images_per_s: number;
}

/** Converts the trainer's records into metrics rows. */
export function toMetricsRows(epochs: readonly EpochRecord[]): MetricsRow[] {
  return epochs.map((e) => ({
    epoch: e.epoch,
    train_loss: e.trainLoss,
    train_accuracy: e.trainAccuracy,
    test_loss: e.testLoss ?? null,
    test_accuracy: e.testAccuracy ?? null,
    time_s: e.timeMs / 1000,
    images_per_s: e.imagesPerSecond,
  }));
}

const num = (v: number | null, digits: number): string => (v === null || !Number.isFinite(v) ? '' : String(Number(v.toFixed(digits))));

/** `metrics.csv` text: a header and one line per epoch; empty cells where the test set was not evaluated. */
export function metricsCsv(rows: readonly MetricsRow[]): string {
  const lines = rows.map((r) =>
    [
      r.epoch,
      num(r.train_loss, 6),
      num(r.train_accuracy, 6),
      num(r.test_loss, 6),
      num(r.test_accuracy, 6),
      num(r.time_s, 3),
      num(r.images_per_s, 1),
    ].join(','),
  );
  return `${[METRICS_COLUMNS.join(','), ...lines].join('\n')}\n`;
}

/** `metrics.jsonl` text: one JSON object per epoch. */
export function metricsJsonl(rows: readonly MetricsRow[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** Parses `metrics.csv` back into rows (used by tests and `fmnist eval` of a run directory). */
export function parseMetricsCsv(text: string): MetricsRow[] {
  const [header, ...lines] = text.trim().split('\n');
  const cols = (header ?? '').split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    const get = (name: string) => {
      const cell = cells[cols.indexOf(name)];
      return cell === undefined || cell === '' ? null : Number(cell);
    };
    return {
      epoch: get('epoch') as number,
      train_loss: get('train_loss') as number,
      train_accuracy: get('train_accuracy') as number,
      test_loss: get('test_loss'),
      test_accuracy: get('test_accuracy'),
      time_s: get('time_s') as number,
      images_per_s: get('images_per_s') as number,
    };
  });
}
