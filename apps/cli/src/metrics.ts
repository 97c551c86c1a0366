/**
 * Per-epoch metrics files of a run: `metrics.csv` and `metrics.jsonl`. The rows ({@link MetricsRow}, `toMetricsRows`)
 * and the spreadsheet-safe cell ({@link csvCell}) are `@fmnist/report`'s, which the report shows them with.
 */
import { csvCell, type MetricsRow } from '@fmnist/report';

export type { MetricsRow };

/** Column names of `metrics.csv`, in order. */
export const METRICS_COLUMNS = ['epoch', 'train_loss', 'train_accuracy', 'test_loss', 'test_accuracy', 'time_s', 'images_per_s'] as const;

/** A finite number, else null: what a metrics cell may hold, whatever a file read back said. */
const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

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
