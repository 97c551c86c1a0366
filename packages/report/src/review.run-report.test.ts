// Review of renderRunReport's inputs that are new since the renderer left the CLI (generator, configFile, titles,
// highlights, class names, epoch records read back from a file): each is text in the page, whatever it holds.
import type { EpochRecord } from '@fmnist/model/core';
import { type DefaultTreeAdapterMap, parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import { renderRunReport } from './run-report';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];
function elements(node: Node, out: Element[] = []): Element[] {
  if ('tagName' in node) out.push(node as Element);
  for (const child of (node as { childNodes?: Node[] }).childNodes ?? []) elements(child, out);
  for (const child of ((node as { content?: Node }).content as { childNodes?: Node[] } | undefined)?.childNodes ?? []) elements(child, out);
  return out;
}

const P = '</code></title></pre><script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>';

describe('renderRunReport with hostile strings everywhere (review)', () => {
  it('adds no element and no event handler, and shows each payload as text', () => {
    const epochs = [
      { epoch: P, trainLoss: P, trainAccuracy: P, testLoss: P, testAccuracy: P, timeMs: P, imagesPerSecond: P },
    ] as unknown as EpochRecord[];
    const classNames = [P, `${P}2`, `${P}3`];
    const { html, curvesSvg, confusionSvg } = renderRunReport({
      title: P,
      epochs,
      evaluation: {
        confusion: [
          [1, 0, 0],
          [0, 1, 0],
          [1, 0, 1],
        ],
        predictions: new Uint8Array([0, 1, 0, 2]),
      },
      classNames,
      testImages: { images: new Uint8Array(4 * 784), labels: new Uint8Array([0, 1, 2, 2]) },
      config: { [P]: P },
      highlights: [[P, P]],
      files: [P],
      curvesTitle: P,
      confusionTitle: P,
      generator: P,
      configFile: P,
    });
    for (const doc of [html, curvesSvg.value, confusionSvg.value]) {
      const els = elements(parse(doc) as unknown as Node);
      expect(els.filter((e) => ['script', 'iframe', 'object', 'embed', 'foreignObject'].includes(e.tagName))).toEqual([]);
      expect(els.filter((e) => e.tagName === 'img' && e.attrs.some((a) => a.value === 'x'))).toEqual([]);
      for (const e of els) expect(e.attrs.filter((a) => /^on/i.test(a.name))).toEqual([]);
    }
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
