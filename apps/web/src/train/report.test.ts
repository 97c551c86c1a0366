import { CLASS_NAMES } from '@fmnist/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, html, renderRunReportHtml } from './report';
import type { FinishedRun } from './session-types';
import { trainTestRun } from './test-run';

let run: FinishedRun;
beforeAll(async () => {
  run = await trainTestRun();
}, 60_000);

describe('escaping', () => {
  it('escapes & < > " \' ` in every interpolation, arrays included; its own markup passes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&\`</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;');
    expect(html`<td title="${'" onmouseover="x'}">${['<b>', html`<i>${'<'}</i>`]}</td>`.value).toBe(
      '<td title="&quot; onmouseover=&quot;x">&lt;b&gt;<i>&lt;</i></td>',
    );
    // Markup-looking objects that html did not make are text.
    expect(html`${{ value: '<script>' } as never}`.value).toBe('[object Object]');
  });
});

describe('renderRunReportHtml', () => {
  it('a self-contained page: title, settings, one row per epoch, the accuracy, the confusion matrix with per-class accuracy', async () => {
    const page = await renderRunReportHtml(run);
    const pct = `${(run.evaluation.accuracy * 100).toFixed(2)} %`;
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain(`<title>patch-mlp — ${pct} test accuracy</title>`);
    expect(page).toContain('<tr><th scope="row">batch size</th><td>100</td></tr>');
    expect(page).toContain('<tr><th scope="row">training images</th><td>300</td></tr>');
    expect(page.match(/<tr><td>\d+<\/td>/g)).toHaveLength(run.epochs.length);
    for (const name of CLASS_NAMES) expect(page).toContain(`<th scope="row">${escapeHtml(name)}</th>`);
    const diag = run.evaluation.confusion.map((row, i) => row[i]);
    expect([...page.matchAll(/<td class="diag">(\d+)<\/td>/g)].map((m) => Number(m[1]))).toEqual(diag);
    // Nothing it would have to fetch, nothing that runs.
    expect(page).not.toMatch(/<script|<link|src=|href=/i);
    expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('hostile text in the run (engine name) comes out as text', async () => {
    const page = await renderRunReportHtml({ ...run, backend: '<img src=x onerror=alert(1)>' });
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
