import { toMetricsRows } from '@fmnist/report';
import { describe, expect, it } from 'vitest';
import { metricsCsv, metricsJsonl, parseMetricsCsv } from './metrics';

describe('metrics.csv, metrics.jsonl: numbers are numbers, text is inert', () => {
  const hostile = [
    { epoch: '=cmd|"/c calc"!A1', trainLoss: '@SUM(1)', trainAccuracy: 0.5, testLoss: Number.NaN, timeMs: '<script>', imagesPerSecond: 10 },
    { epoch: 2, trainLoss: 0.4, trainAccuracy: 0.6, testLoss: 0.5, testAccuracy: 0.7, timeMs: 1000, imagesPerSecond: 20 },
  ] as never;

  it('a string or NaN read back from a checkpoint becomes an empty cell, never text', () => {
    const csv = metricsCsv(toMetricsRows(hostile));
    expect(csv).not.toMatch(/cmd|SUM|script|NaN/);
    const lines = csv.trim().split('\n');
    expect(lines[1]).toBe(',,0.5,,,,10');
    expect(parseMetricsCsv(csv)[1]).toEqual({
      epoch: 2,
      train_loss: 0.4,
      train_accuracy: 0.6,
      test_loss: 0.5,
      test_accuracy: 0.7,
      time_s: 1,
      images_per_s: 20,
    });
  });

  it('metrics.jsonl holds numbers or null only', () => {
    for (const line of metricsJsonl(toMetricsRows(hostile)).trim().split('\n')) {
      for (const v of Object.values(JSON.parse(line))) expect(v === null || typeof v === 'number').toBe(true);
    }
    // Rows handed in directly (not through toMetricsRows) are cleaned too.
    expect(metricsJsonl([{ epoch: '<b>' } as never])).toBe(
      '{"epoch":null,"train_loss":null,"train_accuracy":null,"test_loss":null,"test_accuracy":null,"time_s":null,"images_per_s":null}\n',
    );
  });
});
