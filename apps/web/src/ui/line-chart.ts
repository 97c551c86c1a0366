/** A small inline-SVG line chart (the Train view's live curves): axes with round ticks, one path per series. */
import { type ChartBox, type CurvePoint, type Domain, linePath, makeScales, niceTicks } from '../train/curves';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** One line of a chart. */
export interface ChartSeries {
  points: readonly CurvePoint[];
  /** CSS class of the line (its colour). */
  className: string;
  /** Dots at the points (few points, e.g. one per epoch). */
  markers?: boolean;
}

/** What {@link drawLineChart} draws. */
export interface LineChartSpec {
  box: ChartBox;
  x: Domain;
  y: Domain;
  series: readonly ChartSeries[];
  /** Tick labels. */
  formatX: (v: number) => string;
  formatY: (v: number) => string;
  /** Integer x ticks only (epochs). */
  integerX?: boolean;
  /** About how many y ticks. @defaultValue 4 */
  yTicks?: number;
  /** Text in the middle of the chart while every series is empty. */
  emptyText?: string;
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Redraws `svg` (its `viewBox` set to the box): grid lines and labels at round ticks, then each series.
 *
 * @param svg - the `<svg>` element
 * @param spec - box, domains, series and tick formats
 *
 * @example
 * ```ts
 * drawLineChart(svg, { box, x: { min: 0, max: 235 }, y: { min: 0, max: 2.3 }, series: [{ points, className: 'loss' }], formatX: String, formatY: String });
 * ```
 */
export function drawLineChart(svg: SVGSVGElement, spec: LineChartSpec): void {
  const { box } = spec;
  svg.setAttribute('viewBox', `0 0 ${box.width} ${box.height}`);
  const scales = makeScales(box, spec.x, spec.y);
  const nodes: SVGElement[] = [];
  const left = box.pad.left;
  const right = box.width - box.pad.right;
  const top = box.pad.top;
  const bottom = box.height - box.pad.bottom;
  const empty = spec.series.every((s) => s.points.length === 0);
  // No data yet: the axes and the message, no made-up scale.
  for (const v of empty ? [] : niceTicks(spec.y.min, spec.y.max, spec.yTicks ?? 4)) {
    const y = scales.y(v);
    nodes.push(el('line', { x1: left, x2: right, y1: y.toFixed(1), y2: y.toFixed(1), class: 'grid' }));
    nodes.push(el('text', { x: left - 6, y: (y + 4).toFixed(1), class: 'tick', 'text-anchor': 'end' }, spec.formatY(v)));
  }
  let xTicks = empty ? [] : niceTicks(spec.x.min, spec.x.max, 5);
  if (spec.integerX) xTicks = xTicks.filter((v) => Number.isInteger(v));
  for (const v of xTicks) {
    const x = scales.x(v);
    nodes.push(el('text', { x: x.toFixed(1), y: bottom + 16, class: 'tick', 'text-anchor': 'middle' }, spec.formatX(v)));
  }
  nodes.push(el('line', { x1: left, x2: right, y1: bottom, y2: bottom, class: 'axis' }));
  nodes.push(el('line', { x1: left, x2: left, y1: top, y2: bottom, class: 'axis' }));
  for (const s of spec.series) {
    if (s.points.length > 1) nodes.push(el('path', { d: linePath(s.points, scales), class: `line ${s.className}` }));
    if (s.markers || s.points.length === 1) {
      for (const p of s.points) {
        nodes.push(el('circle', { cx: scales.x(p.x).toFixed(1), cy: scales.y(p.y).toFixed(1), r: 3, class: `dot ${s.className}` }));
      }
    }
  }
  if (spec.emptyText && empty) {
    nodes.push(el('text', { x: (left + right) / 2, y: (top + bottom) / 2, class: 'empty', 'text-anchor': 'middle' }, spec.emptyText));
  }
  // The chart's <title> (its text alternative) stays.
  const title = svg.querySelector(':scope > title');
  svg.replaceChildren(...(title ? [title] : []), ...nodes);
}
