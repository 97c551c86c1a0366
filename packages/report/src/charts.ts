/**
 * A small SVG chart module: line charts (linear or log y axis, legend, labelled axes, point markers for short series)
 * and a confusion-matrix heatmap. Pure functions from numbers to SVG markup, built with the escaping {@link html}
 * template (so a hostile class name or title cannot add elements). Each returns a standalone SVG document (with
 * `xmlns`), to embed in a page or to write as a `.svg` file (the CLI also rasterises them to PNG).
 */
import { escapeHtml, html, joinHtml, type SafeHtml } from './html';

/** One line of a chart. */
export interface Series {
  /** Its legend entry. */
  name: string;
  /** `[x, y]` points; non-finite y values are skipped. */
  points: [number, number][];
  /** A CSS colour, e.g. `#1f77b4`. */
  color: string;
  /** Dashed line. */
  dashed?: boolean;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  /** Above the plot. */
  title: string;
  /** Under the x axis. */
  xLabel: string;
  /** Beside the y axis. */
  yLabel: string;
  /** The lines. */
  series: Series[];
  /** @defaultValue 520 */
  width?: number;
  /** @defaultValue 340 */
  height?: number;
  /** `auto` picks log when the positive values span more than 50×. @defaultValue 'auto' */
  yScale?: 'linear' | 'log' | 'auto';
  /** Format of y tick labels, e.g. percentages. */
  yFormat?: (v: number) => string;
  /** Force integer x ticks (epochs). @defaultValue true */
  integerX?: boolean;
  /** Fixed y domain. */
  yDomain?: [number, number];
}

/** The font family of every chart's text: DejaVu Sans (what the CLI's PNG rasteriser has), then common sans fonts. */
export const FONT = "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";

/**
 * Escapes text for XML/HTML (the escaping of {@link html}; the same function as {@link escapeHtml}).
 *
 * @example
 * ```ts
 * esc('a < b'); // 'a &lt; b'
 * ```
 */
export const esc = escapeHtml;

const r2 = (v: number) => Math.round(v * 100) / 100;

/**
 * "Nice" tick values covering [min, max]: steps of 1, 2 or 5 × 10^k, about `count` of them.
 *
 * @param min - low end of the axis
 * @param max - high end
 * @param count - about how many ticks @defaultValue 5
 * @returns the ticks, ascending (none when a bound is not finite)
 *
 * @example
 * ```ts
 * niceTicks(0, 1, 5); // [0, 0.2, 0.4, 0.6, 0.8, 1]
 * ```
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const first = Math.ceil(min / step - 1e-9) * step;
  // Ticks by index, not by adding the step: near 1e16 a step below the spacing of floats would never move `v`.
  const n = Math.floor((max - first) / step + 1e-9) + 1;
  if (!(n >= 1) || n > 10 * Math.max(1, count) || first + step === first) return [min, max];
  const ticks: number[] = [];
  for (let i = 0; i < n; i++) ticks.push(Number.parseFloat((first + i * step).toPrecision(12)));
  return ticks;
}

/**
 * Ticks for a log axis: powers of ten (and 2×, 5× when the span is at most two decades).
 *
 * @param min - low end, > 0
 * @param max - high end
 * @returns the ticks within [min, max], ascending
 *
 * @example
 * ```ts
 * logTicks(0.3, 4000); // [1, 10, 100, 1000]
 * ```
 */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const mult = hi - lo <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++)
    for (const m of mult) {
      const v = Number.parseFloat((m * 10 ** e).toPrecision(12));
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(v);
    }
  return ticks;
}

/**
 * Compact number label: 0.5, 12, 1.2k, 3e-4.
 *
 * @param v - the tick value
 * @returns its label
 *
 * @example
 * ```ts
 * formatTick(25000); // '25k'
 * ```
 */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4) return `${Number.parseFloat((v / 1000).toPrecision(3))}k`;
  if (a < 1e-3) return v.toExponential(0);
  return String(Number.parseFloat(v.toPrecision(3)));
}

/**
 * A line chart as an SVG document: linear or log y axis (`auto` picks), labelled axes, a legend in the corner that
 * hides the fewest points, point markers for series of up to 40 points.
 *
 * @param options - see {@link LineChartOptions}
 * @returns SVG markup (standalone, with `xmlns`)
 *
 * @example
 * ```ts
 * const svg = lineChart({ title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'train', color: '#1f77b4', points: [[1, 0.9], [2, 0.5]] }] });
 * String(svg).startsWith('<svg xmlns="http://www.w3.org/2000/svg"'); // true
 * ```
 */
export function lineChart(options: LineChartOptions): SafeHtml {
  return html`<svg xmlns="http://www.w3.org/2000/svg" width="${options.width ?? 520}" height="${options.height ?? 340}" viewBox="0 0 ${options.width ?? 520} ${options.height ?? 340}" font-family="${FONT}">${lineChartBody(options)}</svg>`;
}

/** The inner elements of {@link lineChart}, to place several charts in one SVG. @internal */
export function lineChartBody(options: LineChartOptions, dx = 0, dy = 0): SafeHtml {
  const W = options.width ?? 520;
  const H = options.height ?? 340;
  const m = { left: 62, right: 16, top: 34, bottom: 48 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const series = options.series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)) }));
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  if (x0 === x1) {
    x0 -= 1;
    x1 += 1;
  }
  const positive = ys.filter((y) => y > 0);
  const useLog =
    options.yScale === 'log' ||
    (options.yScale !== 'linear' &&
      !options.yDomain &&
      positive.length === ys.length &&
      positive.length > 1 &&
      Math.max(...positive) / Math.min(...positive) > 50);
  let [y0, y1] = options.yDomain ?? [ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1];
  if (useLog) {
    y0 = Math.min(...positive);
    y1 = Math.max(...positive);
  }
  if (y0 === y1) {
    const pad = y0 === 0 ? 1 : Math.abs(y0) * 0.1;
    y0 -= pad;
    y1 += pad;
  } else if (!options.yDomain && !useLog) {
    const pad = (y1 - y0) * 0.06;
    y0 -= pad;
    y1 += pad;
  }
  const yTicks = useLog ? logTicks(y0, y1) : niceTicks(y0, y1, 5);
  if (!useLog && !options.yDomain && yTicks.length > 1) {
    y0 = Math.min(y0, yTicks[0] as number);
    y1 = Math.max(y1, yTicks.at(-1) as number);
  }
  const ly0 = useLog ? Math.log10(y0) : y0;
  const ly1 = useLog ? Math.log10(y1) : y1;
  const sx = (x: number) => dx + m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => dy + m.top + ph - (((useLog ? Math.log10(y) : y) - ly0) / (ly1 - ly0)) * ph;
  let xTicks = niceTicks(x0, x1, 6);
  if (options.integerX !== false) xTicks = [...new Set(xTicks.filter((t) => Number.isInteger(t)))];
  const fmtY = options.yFormat ?? formatTick;
  const out: SafeHtml[] = [];
  out.push(html`<rect x="${dx}" y="${dy}" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(
    html`<text x="${r2(dx + m.left + pw / 2)}" y="${dy + 20}" text-anchor="middle" font-size="14" font-weight="bold" fill="#222">${options.title}${useLog ? html` <tspan font-weight="normal" font-size="11" fill="#666">(log scale)</tspan>` : ''}</text>`,
  );
  // grid + y ticks
  for (const t of yTicks) {
    const y = r2(sy(t));
    out.push(html`<line x1="${dx + m.left}" x2="${dx + m.left + pw}" y1="${y}" y2="${y}" stroke="#e4e4e4" stroke-width="1"/>`);
    out.push(html`<text x="${dx + m.left - 6}" y="${r2(y + 4)}" text-anchor="end" font-size="11" fill="#444">${fmtY(t)}</text>`);
  }
  for (const t of xTicks) {
    const x = r2(sx(t));
    out.push(html`<line x1="${x}" x2="${x}" y1="${dy + m.top + ph}" y2="${dy + m.top + ph + 5}" stroke="#444"/>`);
    out.push(html`<text x="${x}" y="${dy + m.top + ph + 18}" text-anchor="middle" font-size="11" fill="#444">${formatTick(t)}</text>`);
  }
  out.push(html`<rect x="${dx + m.left}" y="${dy + m.top}" width="${pw}" height="${ph}" fill="none" stroke="#444" stroke-width="1"/>`);
  out.push(
    html`<text x="${r2(dx + m.left + pw / 2)}" y="${dy + H - 8}" text-anchor="middle" font-size="12" fill="#222">${options.xLabel}</text>`,
  );
  out.push(
    html`<text transform="translate(${dx + 16} ${r2(dy + m.top + ph / 2)}) rotate(-90)" text-anchor="middle" font-size="12" fill="#222">${options.yLabel}</text>`,
  );
  // series
  for (const s of series) {
    if (s.points.length === 0) continue;
    const pts = s.points.map(([x, y]) => `${r2(sx(x))},${r2(sy(y))}`).join(' ');
    out.push(
      html`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"${s.dashed ? html` stroke-dasharray="6 4"` : ''}/>`,
    );
    if (s.points.length <= 40) {
      for (const [x, y] of s.points) out.push(html`<circle cx="${r2(sx(x))}" cy="${r2(sy(y))}" r="3" fill="${s.color}"/>`);
    }
  }
  // legend: inside the plot, in the corner that hides the fewest line points
  const named = series.filter((s) => s.points.length > 0);
  if (named.length > 0) {
    const lw = Math.max(...named.map((s) => s.name.length), 4) * 6.6 + 34;
    const lh = named.length * 18 + 8;
    const samples: [number, number][] = [];
    for (const s of named) {
      const px = s.points.map(([x, y]) => [sx(x), sy(y)] as [number, number]);
      px.forEach((p, i) => {
        samples.push(p);
        const q = px[i + 1];
        if (q) for (let t = 1; t < 12; t++) samples.push([p[0] + ((q[0] - p[0]) * t) / 12, p[1] + ((q[1] - p[1]) * t) / 12]);
      });
    }
    const corners: [number, number][] = [
      [dx + m.left + pw - lw - 8, dy + m.top + 8],
      [dx + m.left + pw - lw - 8, dy + m.top + ph - lh - 8],
      [dx + m.left + 8, dy + m.top + 8],
      [dx + m.left + 8, dy + m.top + ph - lh - 8],
    ];
    const hidden = ([cx, cy]: [number, number]) =>
      samples.filter(([x, y]) => x >= cx - 6 && x <= cx + lw + 6 && y >= cy - 6 && y <= cy + lh + 6).length;
    const [lx, ly] = corners.reduce((best, c) => (hidden(c) < hidden(best) ? c : best));
    out.push(html`<rect x="${r2(lx)}" y="${r2(ly)}" width="${r2(lw)}" height="${lh}" fill="#ffffff" fill-opacity="0.85" stroke="#ccc"/>`);
    named.forEach((s, i) => {
      const y = r2(ly + 15 + i * 18);
      out.push(
        html`<line x1="${r2(lx + 8)}" x2="${r2(lx + 28)}" y1="${r2(y - 4)}" y2="${r2(y - 4)}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? html` stroke-dasharray="5 3"` : ''}/>`,
      );
      out.push(html`<text x="${r2(lx + 34)}" y="${y}" font-size="11" fill="#222">${s.name}</text>`);
    });
  }
  return joinHtml(out, '\n');
}

/** What {@link curvesSvg} plots, one entry per epoch (an `EpochRecord` of `@fmnist/model` is one). */
export interface CurvePoint {
  /** The x value. */
  epoch: number;
  /** Mean training loss. */
  trainLoss: number;
  /** Training accuracy, a fraction. */
  trainAccuracy: number;
  /** Test loss, when evaluated. */
  testLoss?: number;
  /** Test accuracy (a fraction), when evaluated. */
  testAccuracy?: number;
}

const BLUE = '#1f77b4';
const ORANGE = '#e8710a';

/**
 * The training curves: loss (train and test) and accuracy (train and test) per epoch, side by side in one SVG.
 *
 * @param epochs - per-epoch records; non-finite values are left out
 * @param options - `title` above both charts
 * @returns SVG markup (standalone, 1040 wide)
 *
 * @example
 * ```ts
 * const svg = curvesSvg([{ epoch: 1, trainLoss: 0.6, trainAccuracy: 0.8, testLoss: 0.5, testAccuracy: 0.82 }], { title: 'patch-mlp' });
 * String(svg).includes('test accuracy'); // true
 * ```
 */
export function curvesSvg(epochs: readonly CurvePoint[], options: { title?: string } = {}): SafeHtml {
  const W = 520;
  const H = 340;
  const top = options.title ? 30 : 0;
  const pts = (f: (e: CurvePoint) => number | undefined): [number, number][] =>
    epochs.flatMap((e) => {
      const v = f(e);
      return v === undefined ? [] : [[e.epoch, v] as [number, number]];
    });
  const loss = lineChartBody(
    {
      title: 'Loss',
      xLabel: 'epoch',
      yLabel: 'cross-entropy loss',
      width: W,
      height: H,
      series: [
        { name: 'train loss', points: pts((e) => e.trainLoss), color: BLUE },
        { name: 'test loss', points: pts((e) => e.testLoss), color: ORANGE, dashed: true },
      ],
    },
    0,
    top,
  );
  const acc = lineChartBody(
    {
      title: 'Accuracy',
      xLabel: 'epoch',
      yLabel: 'accuracy',
      width: W,
      height: H,
      yScale: 'linear',
      yFormat: (v) => `${Number.parseFloat((v * 100).toPrecision(4))}%`,
      series: [
        { name: 'train accuracy', points: pts((e) => e.trainAccuracy), color: BLUE },
        { name: 'test accuracy', points: pts((e) => e.testAccuracy), color: ORANGE, dashed: true },
      ],
    },
    W,
    top,
  );
  const title = options.title
    ? html`<text x="${W}" y="21" text-anchor="middle" font-size="15" font-weight="bold" fill="#111">${options.title}</text>`
    : '';
  return html`<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + top}" viewBox="0 0 ${2 * W} ${H + top}" font-family="${FONT}"><rect width="100%" height="100%" fill="#fff"/>${title}${loss}\n${acc}</svg>`;
}

/** Blends white → a blue for a value in [0, 1]. */
function heat(v: number): string {
  const t = Math.max(0, Math.min(1, v)) ** 0.6;
  const c = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${c(255, 8)},${c(255, 69)},${c(255, 148)})`;
}

/**
 * A confusion-matrix heatmap: rows are true classes, columns predicted ones; each cell shows its count and is shaded by
 * its share of the row; a last column gives each class's accuracy (recall).
 *
 * @param confusion - `confusion[true][predicted]` counts
 * @param classNames - one name per class
 * @param options - `title` @defaultValue 'Confusion matrix (test set)'
 * @returns SVG markup (standalone)
 *
 * @example
 * ```ts
 * const svg = confusionSvg([[9, 1], [2, 8]], ['Bag', 'Boot']);
 * String(svg).includes('overall accuracy 85.00% on 20 images'); // true
 * ```
 */
export function confusionSvg(
  confusion: readonly (readonly number[])[],
  classNames: readonly string[],
  options: { title?: string } = {},
): SafeHtml {
  const n = confusion.length;
  const cell = 46;
  const left = 118;
  const top = 128;
  const accW = 70;
  const W = left + n * cell + accW + 20;
  const H = top + n * cell + 46;
  const out: SafeHtml[] = [html`<rect width="${W}" height="${H}" fill="#fff"/>`];
  out.push(
    html`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold" fill="#111">${options.title ?? 'Confusion matrix (test set)'}</text>`,
  );
  out.push(html`<text x="${left + (n * cell) / 2}" y="44" text-anchor="middle" font-size="12" fill="#222">predicted class</text>`);
  out.push(
    html`<text transform="translate(16 ${top + (n * cell) / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#222">true class</text>`,
  );
  for (let j = 0; j < n; j++) {
    const x = left + j * cell + cell / 2;
    out.push(
      html`<text transform="translate(${x + 4} ${top - 8}) rotate(-55)" font-size="11" fill="#222">${classNames[j] ?? String(j)}</text>`,
    );
  }
  out.push(
    html`<text x="${left + n * cell + accW / 2 + 6}" y="${top - 10}" text-anchor="middle" font-size="11" font-weight="bold" fill="#222">accuracy</text>`,
  );
  for (let i = 0; i < n; i++) {
    const row = confusion[i] as readonly number[];
    const total = row.reduce((a, b) => a + b, 0);
    const y = top + i * cell;
    out.push(
      html`<text x="${left - 8}" y="${y + cell / 2 + 4}" text-anchor="end" font-size="11" fill="#222">${classNames[i] ?? String(i)}</text>`,
    );
    for (let j = 0; j < n; j++) {
      const v = row[j] as number;
      const share = total > 0 ? v / total : 0;
      const x = left + j * cell;
      out.push(
        html`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${heat(share)}" stroke="${i === j ? '#333' : '#ddd'}" stroke-width="${i === j ? 1.5 : 0.5}"/>`,
      );
      out.push(
        html`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="11" fill="${share > 0.45 ? '#fff' : '#222'}">${v}</text>`,
      );
    }
    const acc = total > 0 ? (row[i] as number) / total : 0;
    out.push(
      html`<text x="${left + n * cell + accW / 2 + 6}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="12" fill="#222">${(100 * acc).toFixed(1)}%</text>`,
    );
  }
  const total = confusion.flat().reduce((a, b) => a + b, 0);
  const correct = confusion.reduce((s, row, i) => s + (row[i] as number), 0);
  out.push(
    html`<text x="${left + (n * cell) / 2}" y="${top + n * cell + 30}" text-anchor="middle" font-size="12" fill="#222">overall accuracy ${total > 0 ? ((100 * correct) / total).toFixed(2) : '–'}% on ${total} images</text>`,
  );
  return html`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}">${joinHtml(out, '\n')}</svg>`;
}

/**
 * Per-class accuracy (recall) from a confusion matrix: each row's diagonal count over the row's sum (0 for an empty row).
 *
 * @param confusion - `confusion[true][predicted]` counts
 * @returns one accuracy per class, fractions
 *
 * @example
 * ```ts
 * perClassAccuracy([[3, 1], [0, 4]]); // [0.75, 1]
 * ```
 */
export function perClassAccuracy(confusion: readonly (readonly number[])[]): number[] {
  return confusion.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total > 0 ? (row[i] as number) / total : 0;
  });
}
