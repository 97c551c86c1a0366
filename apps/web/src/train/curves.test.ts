import { describe, expect, it } from 'vitest';
import { accuracyCurves, accuracyDomain, LossSeries, linePath, lossDomain, makeScales, niceTicks } from './curves';

describe('LossSeries', () => {
  it('keeps every sample while under the bound', () => {
    const s = new LossSeries(10);
    for (let step = 1; step <= 10; step++) s.add(step, step / 10);
    expect(s.points()).toEqual(Array.from({ length: 10 }, (_, i) => ({ x: i + 1, y: (i + 1) / 10 })));
  });

  it('stays within the bound over a long run, each point the mean of its bucket, x the bucket’s last step', () => {
    const s = new LossSeries(8);
    for (let step = 1; step <= 1000; step++) s.add(step, step);
    const points = s.points();
    expect(points.length).toBeLessThanOrEqual(8);
    expect(points.length).toBeGreaterThanOrEqual(4);
    expect(s.samples).toBe(1000);
    // Means of consecutive runs of steps: buckets of 128 after halving 7 times (8 × 128 = 1024 ≥ 1000).
    expect(points[0]).toEqual({ x: 128, y: (1 + 128) / 2 });
    expect(points.at(-1)?.x).toBe(1000);
    // The weighted means give back the total.
    const sizes = points.map((p, i) => p.x - (i === 0 ? 0 : (points[i - 1] as { x: number }).x));
    expect(points.reduce((a, p, i) => a + p.y * (sizes[i] as number), 0)).toBeCloseTo((1000 * 1001) / 2, 6);
  });

  it('leaves out non-finite losses and steps that go back (a replayed progress event)', () => {
    const s = new LossSeries(10);
    s.add(1, 2);
    s.add(2, Number.NaN);
    s.add(3, Number.POSITIVE_INFINITY);
    s.add(1, 5);
    s.add(4, 1);
    expect(s.points()).toEqual([
      { x: 1, y: 2 },
      { x: 4, y: 1 },
    ]);
    expect(s.samples).toBe(2);
  });

  it('clear() starts over', () => {
    const s = new LossSeries(4);
    for (let step = 1; step <= 50; step++) s.add(step, 1);
    s.clear();
    s.add(1, 3);
    expect(s.points()).toEqual([{ x: 1, y: 3 }]);
    expect(s.samples).toBe(1);
  });

  it('refuses a bound below 2', () => {
    expect(() => new LossSeries(1)).toThrow(RangeError);
  });
});

describe('chart geometry', () => {
  const box = { width: 110, height: 60, pad: { left: 10, right: 0, top: 0, bottom: 10 } };

  it('scales map the domains onto the inner box, y upwards', () => {
    const s = makeScales(box, { min: 0, max: 10 }, { min: 0, max: 1 });
    expect([s.x(0), s.x(10), s.y(0), s.y(1), s.y(0.5)]).toEqual([10, 110, 50, 0, 25]);
  });

  it('an empty domain is widened instead of dividing by zero', () => {
    const s = makeScales(box, { min: 1, max: 1 }, { min: 0.8, max: 0.8 });
    expect([s.x(1), s.y(0.8)]).toEqual([60, 25]);
  });

  it('linePath writes M/L commands with one decimal', () => {
    const s = makeScales(box, { min: 0, max: 10 }, { min: 0, max: 1 });
    expect(
      linePath(
        [
          { x: 0, y: 0 },
          { x: 5, y: 1 / 3 },
        ],
        s,
      ),
    ).toBe('M10.0,50.0L60.0,33.3');
    expect(linePath([], s)).toBe('');
  });

  it('niceTicks gives round steps', () => {
    expect(niceTicks(0, 2.3)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(niceTicks(0, 940, 5)).toEqual([0, 200, 400, 600, 800]);
    expect(niceTicks(0.5, 1, 4)).toEqual([0.6, 0.8, 1]);
    expect(niceTicks(0.5, 1, 5)).toEqual([0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });

  it('domains: loss from 0, accuracy from the tenth below the lowest (at most 0.5) to 1', () => {
    expect(
      lossDomain([
        { x: 1, y: 2 },
        { x: 2, y: 0.4 },
      ]),
    ).toEqual({ min: 0, max: 2.1 });
    expect(lossDomain([])).toEqual({ min: 0, max: 1 });
    expect(accuracyDomain([{ x: 1, y: 0.83 }])).toEqual({ min: 0.5, max: 1 });
    expect(accuracyDomain([{ x: 1, y: 0.27 }])).toEqual({ min: 0.2, max: 1 });
  });

  it('accuracy curves: training accuracy of each epoch, test where evaluated', () => {
    const r = (epoch: number, testAccuracy?: number) => ({
      epoch,
      trainLoss: 1,
      trainAccuracy: 0.5 + epoch / 10,
      timeMs: 1,
      imagesPerSecond: 1,
      ...(testAccuracy === undefined ? {} : { testAccuracy }),
    });
    expect(accuracyCurves([r(1, 0.7), r(2), r(3, 0.8)])).toEqual({
      train: [
        { x: 1, y: 0.6 },
        { x: 2, y: 0.7 },
        { x: 3, y: 0.8 },
      ],
      test: [
        { x: 1, y: 0.7 },
        { x: 3, y: 0.8 },
      ],
    });
  });
});
