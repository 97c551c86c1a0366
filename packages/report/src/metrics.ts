/**
 * A run's metrics as the report shows them: the rows of its per-epoch table ({@link toMetricsRows}) and the per-class
 * table as CSV ({@link perClassCsv}), with {@link csvCell} keeping every cell inert in a spreadsheet.
 */
import type { EpochRecord } from '@fmnist/model/core';

/**
 * One row of metrics, snake_case as in the CLI's `metrics.csv`; test values are null for epochs without evaluation.
 * Values are finite numbers (or null) when made by {@link toMetricsRows}; the report shows anything else as text or `–`.
 */
export interface MetricsRow {
  /** 1-based epoch. */
  epoch: number;
  /** Mean training loss of the epoch. */
  train_loss: number;
  /** Training accuracy of the epoch, a fraction. */
  train_accuracy: number;
  /** Test loss, or null when the epoch was not evaluated. */
  test_loss: number | null;
  /** Test accuracy (a fraction), or null when the epoch was not evaluated. */
  test_accuracy: number | null;
  /** Seconds of training in the epoch. */
  time_s: number;
  /** Training throughput. */
  images_per_s: number;
}

/** A finite number, else null: what a metrics cell may hold, whatever a file read back said. */
const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Converts the trainer's records into metrics rows. Every value is a finite number or null: a string or NaN in a
 * record (e.g. from a damaged checkpoint) never reaches the CSV, the JSONL or the report as such.
 *
 * @param epochs - `History.epochs` (or a checkpoint's)
 * @returns one {@link MetricsRow} per record
 *
 * @example
 * ```ts
 * toMetricsRows([{ epoch: 1, trainLoss: 0.5, trainAccuracy: 0.8, timeMs: 1500, imagesPerSecond: 40000 }])[0];
 * // { epoch: 1, train_loss: 0.5, train_accuracy: 0.8, test_loss: null, test_accuracy: null, time_s: 1.5, images_per_s: 40000 }
 * ```
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

/**
 * `per-class.csv` text: class index, name, test images, correct, accuracy, one line per class. Names go through
 * {@link csvCell}; a count that is not a finite number counts as 0.
 *
 * @param classNames - one name per class
 * @param confusion - `confusion[true][predicted]`
 * @returns the CSV text
 *
 * @example
 * ```ts
 * perClassCsv(['Bag', 'Boot'], [[3, 1], [0, 4]]);
 * // 'class,name,test_images,correct,accuracy\n0,Bag,4,3,0.750000\n1,Boot,4,4,1.000000\n'
 * ```
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
