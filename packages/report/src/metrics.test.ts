import { describe, expect, it } from 'vitest';
import { csvCell, perClassCsv, toMetricsRows } from './metrics';

describe('csvCell, perClassCsv, toMetricsRows: numbers are numbers, text is inert', () => {
  it('csvCell quotes text and neutralises formulas', () => {
    expect(csvCell(0.5)).toBe('0.5');
    expect(csvCell(Number.NaN)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell('Bag')).toBe('Bag');
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    for (const lead of ['+', '-', '@', '\t', '\r']) expect(csvCell(`${lead}1+1`).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('a,b\nc')).toBe('"a,b\nc"');
  });

  it('per-class.csv quotes class names and neutralises formulas', () => {
    const csv = perClassCsv(
      ['=1+1', 'Bag, large'],
      [
        [3, 1],
        [0, 4],
      ],
    );
    expect(csv).toBe(`class,name,test_images,correct,accuracy\n0,"'=1+1",4,3,0.750000\n1,"Bag, large",4,4,1.000000\n`);
  });

  it('per-class.csv counts a cell that is not a finite number as 0, and an empty class has no accuracy', () => {
    const csv = perClassCsv(['a', 'b'], [['<x>', 2] as never, [0, 0]]);
    expect(csv).toBe('class,name,test_images,correct,accuracy\n0,a,2,0,0.000000\n1,b,0,0,\n');
  });

  it('toMetricsRows: a string or NaN read back from a checkpoint becomes null, never text', () => {
    const hostile = [
      { epoch: '=cmd', trainLoss: '@SUM(1)', trainAccuracy: 0.5, testLoss: Number.NaN, timeMs: '<script>', imagesPerSecond: 10 },
      { epoch: 2, trainLoss: 0.4, trainAccuracy: 0.6, testLoss: 0.5, testAccuracy: 0.7, timeMs: 1000, imagesPerSecond: 20 },
    ] as never;
    const [bad, good] = toMetricsRows(hostile);
    expect(bad).toEqual({
      epoch: null,
      train_loss: null,
      train_accuracy: 0.5,
      test_loss: null,
      test_accuracy: null,
      time_s: Number.NaN,
      images_per_s: 10,
    });
    expect(good).toEqual({
      epoch: 2,
      train_loss: 0.4,
      train_accuracy: 0.6,
      test_loss: 0.5,
      test_accuracy: 0.7,
      time_s: 1,
      images_per_s: 20,
    });
  });
});
