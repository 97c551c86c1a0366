/**
 * The report escaping test: markup is put into every field of the report's model in turn (the fields found by walking
 * a sample model, so a new field is covered without editing this file), the page is parsed with a real HTML parser
 * (parse5) and must contain exactly the elements a benign report has, no script, no event handler, no foreign URL.
 */
import { type DefaultTreeAdapterMap, parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import { type CurvePoint, confusionSvg, curvesSvg } from './charts';
import { renderReport } from './report';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

/** Everything the report shows, including what its two charts are drawn from. */
interface ReportModel {
  title: string;
  highlights: [string, string][];
  classNames: string[];
  confusion: number[][];
  metrics: Record<string, number | null>[];
  misclassified: { index: number; trueLabel: string; predicted: string }[];
  config: unknown;
  files: string[];
  curves: { title: string; epochs: CurvePoint[] };
  confusionTitle: string;
  generator: string;
  configFile: string;
}

const sample = (): ReportModel => ({
  title: 'patch-mlp — 81.00% test accuracy',
  highlights: [
    ['test accuracy', '81.00%'],
    ['engine', 'kernels'],
  ],
  classNames: ['T-shirt/top', 'Trouser', 'Bag'],
  confusion: [
    [8, 1, 1],
    [2, 7, 1],
    [0, 0, 10],
  ],
  metrics: [
    { epoch: 1, train_loss: 0.9, train_accuracy: 0.7, test_loss: 0.6, test_accuracy: 0.76, time_s: 1.5, images_per_s: 40000 },
    { epoch: 2, train_loss: 0.5, train_accuracy: 0.8, test_loss: null, test_accuracy: null, time_s: 1.4, images_per_s: 41000 },
  ],
  misclassified: [
    { index: 3, trueLabel: 'T-shirt/top', predicted: 'Trouser' },
    { index: 9, trueLabel: 'Trouser', predicted: 'Bag' },
  ],
  config: { preset: 'patch-mlp', training: { optimizer: 'adam', learningRate: 0.001 }, run: 'runs/demo', tags: ['a'] },
  files: ['config.json', 'metrics.csv'],
  curves: {
    title: 'patch-mlp: 2 epochs',
    epochs: [
      { epoch: 1, trainLoss: 0.9, trainAccuracy: 0.7, testLoss: 0.6, testAccuracy: 0.76 },
      { epoch: 2, trainLoss: 0.5, trainAccuracy: 0.8 },
    ],
  },
  confusionTitle: 'Confusion matrix — test accuracy 81.00%',
  generator: 'fmnist train',
  configFile: 'config.json',
});

const PIXELS = new Uint8Array(784).fill(128);

function render(m: ReportModel): string {
  return renderReport({
    title: m.title,
    highlights: m.highlights,
    curvesSvg: curvesSvg(m.curves.epochs, { title: m.curves.title }),
    confusionSvg: confusionSvg(m.confusion, m.classNames, { title: m.confusionTitle }),
    classNames: m.classNames,
    confusion: m.confusion,
    metrics: m.metrics as never,
    misclassified: m.misclassified.map((x) => ({ ...x, pixels: PIXELS })),
    config: m.config,
    files: m.files,
    generator: m.generator,
    configFile: m.configFile,
  });
}

type Path = (string | number)[];

/** Paths of every string and number in a value (typed arrays are data, not fields). */
function leaves(value: unknown, path: Path = []): Path[] {
  if (typeof value === 'string' || typeof value === 'number') return [path];
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, Array.isArray(value) ? Number(k) : k]));
}

function setAt(root: unknown, path: Path, v: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1) as string | number] = v;
}

const PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(1)><rect/>",
  '</textarea></pre></title></style><script>alert(2)</script>',
  'javascript:alert(1)',
  '<a href="javascript:alert(1)">click</a>',
  ']]><!--<iframe src="file:///etc/passwd"></iframe>-->',
  '</text><foreignObject><body onload="x()"></body></foreignObject>',
];

function elements(node: Node, out: Element[] = []): Element[] {
  if ('tagName' in node) out.push(node as Element);
  const children = (node as { childNodes?: Node[] }).childNodes ?? [];
  for (const child of children) elements(child, out);
  const content = (node as { content?: Node }).content;
  if (content) elements(content, out);
  return out;
}

function textOf(node: Node): string {
  if (node.nodeName === '#text') return (node as DefaultTreeAdapterMap['textNode']).value;
  return ((node as { childNodes?: Node[] }).childNodes ?? []).map(textOf).join('');
}

const tagCounts = (els: Element[]) => {
  const counts: Record<string, number> = {};
  for (const e of els) counts[e.tagName] = (counts[e.tagName] ?? 0) + 1;
  return counts;
};

let benign: Record<string, number> | undefined;
async function benignCounts(): Promise<Record<string, number>> {
  benign ??= tagCounts(elements(parse(render(sample()))));
  return benign;
}

/** The structural checks every rendering must pass. */
async function expectNoMarkupFrom(page: string, sameStructure: boolean): Promise<void> {
  const doc = parse(page);
  const els = elements(doc);
  const expected = await benignCounts();
  for (const e of els) {
    expect(Object.keys(expected), `unexpected <${e.tagName}>`).toContain(e.tagName);
    for (const a of e.attrs) {
      expect(a.name, `event handler on <${e.tagName}>`).not.toMatch(/^on/i);
      if (/^(href|src|xlink:href)$/i.test(a.name)) expect(a.value).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]+$/);
      // Text attributes (alt) may hold any text; only URL and style attributes could act on it.
      if (/^(style|action|formaction|background)$/i.test(a.name)) expect(a.value).not.toMatch(/javascript:|url\(|expression/i);
    }
  }
  for (const tag of ['script', 'iframe', 'textarea', 'a', 'foreignObject', 'foreignobject', 'object', 'embed']) {
    expect(els.some((e) => e.tagName === tag)).toBe(false);
  }
  expect(els.filter((e) => e.tagName === 'img')).toHaveLength(sample().misclassified.length);
  const style = els.filter((e) => e.tagName === 'style');
  expect(style).toHaveLength(1);
  expect(textOf(style[0] as Element)).not.toMatch(/alert|script/);
  if (sameStructure) expect(tagCounts(els)).toEqual(expected);
}

const fields = leaves(sample());

describe('report.html: markup in any field stays text', () => {
  it('the walk finds every kind of field', () => {
    const keys = new Set(fields.map((p) => p[0]));
    for (const k of Object.keys(sample())) expect(keys).toContain(k);
    expect(fields.length).toBeGreaterThan(50);
  });

  it('a benign report parses to the expected page', async () => {
    const page = render(sample());
    await expectNoMarkupFrom(page, true);
    expect(page).toContain('<td class="l">T-shirt/top</td>');
  });

  it.each(fields.map((p) => [p.join('.'), p] as const))('field %s', async (_, path) => {
    const original = (() => {
      let node: unknown = sample();
      for (const key of path) node = (node as Record<string | number, unknown>)[key];
      return node;
    })();
    for (const payload of PAYLOADS) {
      const model = sample();
      setAt(model, path, payload);
      const page = render(model);
      // A string field changes no structure; a number replaced by text may (a chart drops the point).
      await expectNoMarkupFrom(page, typeof original === 'string');
      const text = textOf(parse(page));
      if (typeof original === 'string') expect(text.includes(payload) || text.includes(JSON.stringify(payload).slice(1, -1))).toBe(true);
    }
  });

  it.each(PAYLOADS)('every field at once: %s', async (payload) => {
    const model = sample();
    for (const path of fields) setAt(model, path, payload);
    await expectNoMarkupFrom(render(model), false);
  });
});
