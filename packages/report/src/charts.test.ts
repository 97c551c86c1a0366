import { describe, expect, it } from 'vitest';
import * as charts from './charts';
import { esc, formatTick, logTicks, niceTicks, perClassAccuracy } from './charts';

// The charts return SafeHtml; these tests read its markup.
const lineChart = (...a: Parameters<typeof charts.lineChart>) => String(charts.lineChart(...a));
const curvesSvg = (...a: Parameters<typeof charts.curvesSvg>) => String(charts.curvesSvg(...a));
const confusionSvg = (...a: Parameters<typeof charts.confusionSvg>) => String(charts.confusionSvg(...a));

const wellFormed = (svg: string) => {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.endsWith('</svg>')).toBe(true);
  expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  // every opened element is closed (self-closing or with an end tag)
  const opened = (svg.match(/<(svg|text|tspan)\b/g) ?? []).length;
  const closed = (svg.match(/<\/(svg|text|tspan)>/g) ?? []).length;
  expect(opened).toBe(closed);
};

describe('niceTicks', () => {
  it('uses steps of 1, 2 or 5 × 10^k covering the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.31, 0.87, 5)).toEqual([0.4, 0.5, 0.6, 0.7, 0.8]);
    expect(niceTicks(1, 2000, 6)).toEqual([500, 1000, 1500, 2000]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
  it('log ticks are powers of ten (and 2×, 5× on short spans)', () => {
    expect(logTicks(0.3, 4000)).toEqual([1, 10, 100, 1000]);
    expect(logTicks(0.3, 9)).toEqual([0.5, 1, 2, 5]);
  });
  it('formats ticks compactly', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(0.30000000000000004)).toBe('0.3');
    expect(formatTick(25000)).toBe('25k');
    expect(formatTick(0.0001)).toBe('1e-4');
  });
});

describe('lineChart', () => {
  const series = [
    {
      name: 'a',
      points: [
        [1, 2],
        [2, 1],
        [3, 0.5],
      ] as [number, number][],
      color: '#00f',
    },
    {
      name: 'b <test>',
      points: [
        [1, 2.5],
        [2, Number.NaN],
        [3, 0.7],
      ] as [number, number][],
      color: '#f00',
      dashed: true,
    },
  ];
  it('draws labelled axes, a legend and one polyline per series', () => {
    const svg = lineChart({ title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series });
    wellFormed(svg);
    expect(svg).toContain('>Loss');
    expect(svg).toContain('>epoch</text>');
    expect(svg).toContain('rotate(-90)');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('b &lt;test&gt;'); // escaped legend text
    expect(svg).toContain('stroke-dasharray');
    expect(svg).not.toContain('log scale');
  });
  it('switches to a log axis when values span orders of magnitude (the seed preset starts in the thousands)', () => {
    const svg = lineChart({
      title: 'Loss',
      xLabel: 'epoch',
      yLabel: 'loss',
      series: [
        {
          name: 'train',
          points: [
            [1, 3000],
            [2, 40],
            [3, 0.6],
          ],
          color: '#000',
        },
      ],
    });
    wellFormed(svg);
    expect(svg).toContain('log scale');
    expect(svg).toContain('>1000</text>');
  });
  it('copes with one point, and with no points at all', () => {
    wellFormed(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[1, 0.5]], color: '#000' }] }));
    wellFormed(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [], color: '#000' }] }));
  });
  it('puts the legend where it hides no line: bottom-right for rising curves', () => {
    const rising = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'acc',
          points: [
            [1, 0.1],
            [2, 0.5],
            [3, 0.9],
          ],
          color: '#000',
        },
      ],
    });
    const falling = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'loss',
          points: [
            [1, 0.9],
            [2, 0.5],
            [3, 0.1],
          ],
          color: '#000',
        },
      ],
    });
    const legendY = (svg: string) =>
      Number(/<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="\d+" fill="#ffffff" fill-opacity/.exec(svg)?.[1]);
    expect(legendY(rising)).toBeGreaterThan(legendY(falling));
  });
});

describe('curvesSvg', () => {
  it('plots loss and accuracy of train and test side by side', () => {
    const svg = curvesSvg(
      [
        { epoch: 1, trainLoss: 0.9, trainAccuracy: 0.7, testLoss: 0.6, testAccuracy: 0.76 },
        { epoch: 2, trainLoss: 0.55, trainAccuracy: 0.8, testLoss: 0.52, testAccuracy: 0.807 },
        { epoch: 3, trainLoss: 0.5, trainAccuracy: 0.82 },
      ],
      { title: 'run' },
    );
    wellFormed(svg);
    for (const label of ['train loss', 'test loss', 'train accuracy', 'test accuracy', 'cross-entropy loss', '>accuracy</text>'])
      expect(svg).toContain(label);
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg).toMatch(/>\d+%<\/text>/);
  });
});

describe('confusionSvg', () => {
  it('shows every count, class names and per-class accuracy', () => {
    const confusion = [
      [8, 2, 0],
      [1, 9, 0],
      [0, 0, 0],
    ];
    const svg = confusionSvg(confusion, ['T-shirt/top', 'Trouser', 'Bag & co']);
    wellFormed(svg);
    expect(svg).toContain('>8</text>');
    expect(svg).toContain('>9</text>');
    expect(svg).toContain('Bag &amp; co');
    expect(svg).toContain('80.0%');
    expect(svg).toContain('90.0%');
    expect(svg).toContain('overall accuracy 85.00% on 20 images');
    expect(perClassAccuracy(confusion)).toEqual([0.8, 0.9, 0]);
  });
});

it('esc escapes XML specials', () => {
  expect(esc(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
});

it('class names and titles with markup stay text in the SVG', () => {
  const svg = confusionSvg(
    [
      [1, 0],
      [0, 1],
    ],
    ['<image href="file:///etc/passwd"/>', '</text><script>x()</script>'],
    { title: '"><g onload="x()">' },
  );
  wellFormed(svg);
  expect(svg).not.toMatch(/<image|<script|<g /);
  expect(svg).toContain('&lt;image href="file:///etc/passwd"/&gt;');
  expect(svg).toContain('&lt;/text&gt;&lt;script&gt;');
});

describe('niceTicks at the edge of float precision', () => {
  it('returns at once where the step is below the spacing of floats (losses of a diverged run near 1e16)', () => {
    expect(niceTicks(1e16, 1e16 + 2, 6)).toEqual([1e16, 1e16 + 2]);
    expect(niceTicks(1e17, 1e17 + 16, 5).length).toBeLessThanOrEqual(60);
  });
  it('curvesSvg of a diverged run with losses near 1e17 renders', () => {
    const svg = charts.curvesSvg([
      { epoch: 1, trainLoss: 1e17, trainAccuracy: 0.1 },
      { epoch: 2, trainLoss: 1e17 + 16, trainAccuracy: 0.1 },
    ]);
    expect(String(svg)).toContain('<svg');
  });
});
