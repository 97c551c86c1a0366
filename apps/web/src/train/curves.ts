/**
 * The live curves' data and geometry, DOM-free: the training loss per step kept in bounded memory (adjacent points
 * merged as the run grows), the per-epoch accuracies, and the SVG path text and axis ticks the view draws.
 */
import type { EpochRecord } from '@fmnist/model/core';

/** One point of a curve. */
export interface CurvePoint {
  x: number;
  y: number;
}

/** Points a {@link LossSeries} keeps at most. @defaultValue 400 */
export const MAX_LOSS_POINTS = 400;

/**
 * The training loss per step in at most `maxPoints` points, however long the run: each point is the mean of a bucket of
 * consecutive samples; when the points would exceed the bound, neighbours are merged and buckets double in size.
 *
 * @example
 * ```ts
 * const loss = new LossSeries(4);
 * for (let step = 1; step <= 100; step++) loss.add(step, 1 / step);
 * loss.points().length; // ≤ 4
 * ```
 */
export class LossSeries {
  private xs: number[] = [];
  private sums: number[] = [];
  private counts: number[] = [];
  /** Samples per point. */
  private bucket = 1;

  /** @param maxPoints - the bound (at least 2) */
  constructor(readonly maxPoints = MAX_LOSS_POINTS) {
    if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError(`'maxPoints' must be an integer ≥ 2, got ${maxPoints}.`);
  }

  /** Samples added so far (non-finite ones are not counted). */
  samples = 0;

  /**
   * Adds one sample. Non-finite losses (a diverging run's last steps) are left out; a step not after the last one (a
   * resumed run replaying its progress) is ignored.
   *
   * @param step - the global step (1-based, across epochs)
   * @param loss - its training loss
   */
  add(step: number, loss: number): void {
    if (!Number.isFinite(loss) || !Number.isFinite(step)) return;
    const n = this.xs.length;
    if (n > 0 && step <= (this.xs[n - 1] as number)) return;
    this.samples++;
    if (n > 0 && (this.counts[n - 1] as number) < this.bucket) {
      this.xs[n - 1] = step;
      this.sums[n - 1] = (this.sums[n - 1] as number) + loss;
      this.counts[n - 1] = (this.counts[n - 1] as number) + 1;
      return;
    }
    this.xs.push(step);
    this.sums.push(loss);
    this.counts.push(1);
    if (this.xs.length > this.maxPoints) this.halve();
  }

  /** Merges neighbouring points pairwise. */
  private halve(): void {
    const xs: number[] = [];
    const sums: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < this.xs.length; i += 2) {
      const j = Math.min(i + 1, this.xs.length - 1);
      xs.push(this.xs[j] as number);
      sums.push((this.sums[i] as number) + (j === i ? 0 : (this.sums[j] as number)));
      counts.push((this.counts[i] as number) + (j === i ? 0 : (this.counts[j] as number)));
    }
    this.xs = xs;
    this.sums = sums;
    this.counts = counts;
    this.bucket *= 2;
  }

  /** The points: x the last step of each bucket, y its mean loss. */
  points(): CurvePoint[] {
    return this.xs.map((x, i) => ({ x, y: (this.sums[i] as number) / (this.counts[i] as number) }));
  }

  /** Forgets everything (a new run). */
  clear(): void {
    this.xs = [];
    this.sums = [];
    this.counts = [];
    this.bucket = 1;
    this.samples = 0;
  }
}

/**
 * The accuracy curves of the epochs so far: training accuracy of every epoch, test accuracy where evaluated.
 *
 * @param epochs - the epoch records
 * @returns both curves, x the epoch
 *
 * @example
 * ```ts
 * accuracyCurves([{ epoch: 1, trainAccuracy: 0.7, testAccuracy: 0.75, trainLoss: 0.8, timeMs: 1, imagesPerSecond: 1 }]).test;
 * // [{ x: 1, y: 0.75 }]
 * ```
 */
export function accuracyCurves(epochs: readonly EpochRecord[]): { train: CurvePoint[]; test: CurvePoint[] } {
  const train = epochs.filter((e) => Number.isFinite(e.trainAccuracy)).map((e) => ({ x: e.epoch, y: e.trainAccuracy }));
  const test = epochs
    .filter((e) => e.testAccuracy !== undefined && Number.isFinite(e.testAccuracy))
    .map((e) => ({ x: e.epoch, y: e.testAccuracy as number }));
  return { train, test };
}

/** A chart's drawing area in SVG units. */
export interface ChartBox {
  width: number;
  height: number;
  /** Space for the axes' labels: left, right, top, bottom. */
  pad: { left: number; right: number; top: number; bottom: number };
}

/** A value range. */
export interface Domain {
  min: number;
  max: number;
}

/** The scales of a chart: data → SVG coordinates. */
export interface Scales {
  x: (v: number) => number;
  y: (v: number) => number;
}

/**
 * Linear scales mapping the domains onto the box's inner area (y grows upwards). An empty domain is widened by one.
 *
 * @param box - the chart box
 * @param x - the x domain
 * @param y - the y domain
 * @returns the scales
 *
 * @example
 * ```ts
 * makeScales(box, { min: 0, max: 10 }, { min: 0, max: 1 }).y(1); // box.pad.top
 * ```
 */
export function makeScales(box: ChartBox, x: Domain, y: Domain): Scales {
  const w = box.width - box.pad.left - box.pad.right;
  const h = box.height - box.pad.top - box.pad.bottom;
  const xs = x.max > x.min ? x : { min: x.min - 0.5, max: x.max + 0.5 };
  const ys = y.max > y.min ? y : { min: y.min - 0.5, max: y.max + 0.5 };
  return {
    x: (v) => box.pad.left + ((v - xs.min) / (xs.max - xs.min)) * w,
    y: (v) => box.pad.top + h - ((v - ys.min) / (ys.max - ys.min)) * h,
  };
}

/**
 * The SVG path text of a polyline through the points (`M x,y L x,y …`, one decimal).
 *
 * @param points - the points, in x order
 * @param scales - data → SVG
 * @returns the `d` attribute; empty for no points
 *
 * @example
 * ```ts
 * linePath([{ x: 0, y: 0 }, { x: 1, y: 1 }], { x: (v) => v * 10, y: (v) => 10 - v * 10 }); // 'M0.0,10.0L10.0,0.0'
 * ```
 */
export function linePath(points: readonly CurvePoint[], scales: Scales): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${scales.x(p.x).toFixed(1)},${scales.y(p.y).toFixed(1)}`).join('');
}

/**
 * About `count` round tick values covering [min, max] (steps of 1, 2 or 5 × 10ⁿ).
 *
 * @param min - low end
 * @param max - high end
 * @param count - how many ticks, roughly @defaultValue 5
 * @returns the ticks, ascending
 *
 * @example
 * ```ts
 * niceTicks(0, 2.3); // [0, 0.5, 1, 1.5, 2]
 * ```
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) return Number.isFinite(min) ? [min] : [];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/**
 * The loss chart's y domain: 0 to 5 % above the largest point (1 when there are none).
 *
 * @param points - the loss points
 * @returns the domain
 *
 * @example
 * ```ts
 * lossDomain([{ x: 1, y: 2 }]); // { min: 0, max: 2.1 }
 * ```
 */
export function lossDomain(points: readonly CurvePoint[]): Domain {
  let max = 0;
  for (const p of points) if (p.y > max) max = p.y;
  return { min: 0, max: max > 0 ? max * 1.05 : 1 };
}

/**
 * The accuracy chart's y domain: from the tenth below the lowest accuracy (at most 0.5 below 1) up to 1.
 *
 * @param points - every accuracy point
 * @returns the domain
 *
 * @example
 * ```ts
 * accuracyDomain([{ x: 1, y: 0.83 }]); // { min: 0.5, max: 1 }
 * ```
 */
export function accuracyDomain(points: readonly CurvePoint[]): Domain {
  let min = 1;
  for (const p of points) if (p.y < min) min = p.y;
  return { min: Math.max(0, Math.min(0.5, Math.floor(min * 10) / 10)), max: 1 };
}
