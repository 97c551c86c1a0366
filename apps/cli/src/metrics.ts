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

/** A finite number, else null: what a metrics cell may hold, whatever a file read back said. */
const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Converts the trainer's records into metrics rows. Every value is a finite number or null: a string or NaN in a
 * record (e.g. from a damaged checkpoint) never reaches the CSV, the JSONL or the report as such.
 */
export function toMetricsRows(epochs: readonly EpochRecord[]): MetricsRow[] {
  return epochs.map((e) => ({
    epoch: finite(e.epoch) as number,
    train_loss: finite(e.trainLoss) as number,
    train_accuracy: finite(e.trainAccuracy) as number,
    test_loss: finite(e.testLoss),
    test_accuracy: finite(e.testAccuracy),
    time_s: (finite(e.timeMs) ?? Number.NaN) / 1000,
    images_per_s: finite(e.imagesPerSecond) as number,
  }));
}

/**
 * One CSV cell, safe to open in a spreadsheet: finite numbers as numbers, anything else as quoted text with a leading
 * `= + - @` (or tab, CR) neutralised by a `'`, so no cell is taken for a formula (CSV injection).
 *
 * @param value - a number, text, or nothing
 * @returns the cell
 *
 * @example
 * ```ts
 * csvCell(0.5); // '0.5'
 * csvCell('=HYPERLINK("x")'); // `"'=HYPERLINK(""x"")"`
 * ```
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r']/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

const num = (v: unknown, digits: number): number | null => {
  const x = finite(v);
  return x === null ? null : Number(x.toFixed(digits));
};

/** `metrics.csv` text: a header and one line per epoch; empty cells where the test set was not evaluated. */
export function metricsCsv(rows: readonly MetricsRow[]): string {
  const lines = rows.map((r) =>
    [
      finite(r.epoch),
      num(r.train_loss, 6),
      num(r.train_accuracy, 6),
      num(r.test_loss, 6),
      num(r.test_accuracy, 6),
      num(r.time_s, 3),
      num(r.images_per_s, 1),
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[METRICS_COLUMNS.join(','), ...lines].join('\n')}\n`;
}

/** `metrics.jsonl` text: one JSON object per epoch, numbers or null only. */
export function metricsJsonl(rows: readonly MetricsRow[]): string {
  return rows
    .map((r) => {
      const clean = Object.fromEntries(METRICS_COLUMNS.map((c) => [c, finite(r[c])]));
      return `${JSON.stringify(clean)}\n`;
    })
    .join('');
}

/**
 * `per_class.csv` text: class index, name, test images, correct, accuracy, one line per class.
 *
 * @param classNames - one name per class
 * @param confusion - `confusion[true][predicted]`
 * @returns the CSV text
 */
export function perClassCsv(classNames: readonly string[], confusion: readonly (readonly number[])[]): string {
  const lines = classNames.map((name, i) => {
    const row = confusion[i] ?? [];
    const total = row.reduce((a, b) => a + (finite(b) ?? 0), 0);
    const correct = finite(row[i]) ?? 0;
    return [i, name, total, correct, total > 0 ? (correct / total).toFixed(6) : null].map(csvCell).join(',');
  });
  return `class,name,test_images,correct,accuracy\n${lines.join('\n')}\n`;
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
