import { toMetricsRows } from '@fmnist/report';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { metricsCsv, metricsJsonl, parseMetricsCsv } from './metrics';
import {
  formatDuration,
  labelSmoothingOption,
  momentumOption,
  nonNegativeInt,
  nonNegativeNumber,
  parseAugment,
  parseDuration,
  plural,
  positiveInt,
  positiveNumber,
} from './parse';

describe('flag parsers', () => {
  it('parses augmentations', () => {
    expect(parseAugment('shift=2,flip')).toEqual({ shift: 2, flip: true });
    expect(parseAugment(' Flip ')).toEqual({ flip: true });
    expect(parseAugment('shift1')).toEqual({ shift: 1 });
    expect(parseAugment('none')).toBeNull();
    expect(parseAugment('shift=1,flip,erase=0.5')).toEqual({ shift: 1, flip: true, erase: 0.5 });
    expect(parseAugment('erase=.25')).toEqual({ erase: 0.25 });
    for (const bad of ['', 'rotate', 'shift=0', 'shift=9', 'flip,,shift=1', 'erase=1.5', 'erase=-0.1', 'erase='])
      expect(() => parseAugment(bad), bad).toThrow(InvalidArgumentError);
    expect(nonNegativeNumber('0')).toBe(0);
    expect(nonNegativeNumber('5e-2')).toBe(0.05);
    expect(() => nonNegativeNumber('-0.1')).toThrow(InvalidArgumentError);
  });

  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('45')).toBe(45_000);
    expect(parseDuration('250ms')).toBe(250);
    for (const bad of ['', 'ten', '10x', '0', '5m junk', '-3m']) expect(() => parseDuration(bad)).toThrow(InvalidArgumentError);
  });
  it('--momentum and --label-smoothing: 0 ≤ x < 1, 1 itself refused, the range stated', () => {
    for (const parse of [momentumOption, labelSmoothingOption]) {
      expect(parse('0')).toBe(0);
      expect(parse('0.9')).toBe(0.9);
      expect(parse('.999')).toBe(0.999);
      for (const bad of ['1', '1.0', '1.5', '-0.1', '0x1', 'NaN', ''])
        expect(() => parse(bad), bad).toThrow(/expected a number ≥ 0 and < 1, such as 0\.\d/);
    }
    expect(() => momentumOption('1')).toThrow("expected a number ≥ 0 and < 1, such as 0.9, got '1' (too large).");
  });

  it('parses numbers strictly', () => {
    expect(positiveInt('12')).toBe(12);
    expect(() => positiveInt('0')).toThrow(/an integer ≥ 1/);
    expect(() => positiveInt('1.5')).toThrow(InvalidArgumentError);
    expect(() => positiveInt('3abc')).toThrow(InvalidArgumentError);
    expect(nonNegativeInt('0')).toBe(0);
    expect(positiveNumber('1e-3')).toBe(0.001);
    expect(() => positiveNumber('0')).toThrow(InvalidArgumentError);
    expect(() => positiveNumber('fast')).toThrow(InvalidArgumentError);
  });
  it('formats durations', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(12_340)).toBe('12.3s');
    expect(formatDuration(185_000)).toBe('3m05s');
    expect(formatDuration(3_725_000)).toBe('1h02m');
  });
});

describe('metrics files', () => {
  const epochs = [
    { epoch: 1, trainLoss: 0.9071, trainAccuracy: 0.7012, testLoss: 0.61, testAccuracy: 0.7605, timeMs: 20_500, imagesPerSecond: 2926.8 },
    { epoch: 2, trainLoss: 0.567, trainAccuracy: 0.8, timeMs: 19_000, imagesPerSecond: 3157.9 },
  ];
  it('writes CSV that parses back, with empty cells for epochs without a test evaluation', () => {
    const csv = metricsCsv(toMetricsRows(epochs));
    expect(csv.split('\n')[0]).toBe('epoch,train_loss,train_accuracy,test_loss,test_accuracy,time_s,images_per_s');
    expect(csv.split('\n')[2]).toBe('2,0.567,0.8,,,19,3157.9');
    const rows = parseMetricsCsv(csv);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ epoch: 1, test_accuracy: 0.7605, time_s: 20.5 });
    expect(rows[1]?.test_loss).toBeNull();
  });
  it('writes one JSON object per line', () => {
    const lines = metricsJsonl(toMetricsRows(epochs)).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).epoch)).toEqual([1, 2]);
  });
});

describe('plural', () => {
  it('uses the singular for exactly 1 and groups thousands', () => {
    expect(plural(1, 'epoch')).toBe('1 epoch');
    expect(plural(0, 'epoch')).toBe('0 epochs');
    expect(plural(2, 'epoch')).toBe('2 epochs');
    expect(plural(2000, 'epoch')).toBe('2,000 epochs');
  });
});
