import { describe, expect, it } from 'vitest';
import { escapeHtml, html, joinHtml, SafeHtml, trustedHtml } from './html';

describe('html tagged template', () => {
  it('escapes every interpolated string, in text and in quoted attributes', () => {
    expect(html`<td>${'<script>&'}</td>`.value).toBe('<td>&lt;script&gt;&amp;</td>');
    expect(html`<img alt="${'"><img onerror=x>'}">`.value).toBe('<img alt="&quot;&gt;&lt;img onerror=x&gt;">');
    expect(html`<i title='${"' onmouseover='x"}'>`.value).toBe("<i title='&#39; onmouseover=&#39;x'>");
    expect(escapeHtml('`')).toBe('&#96;');
    // Element content needs only & < > escaped; quotes stay readable there.
    expect(html`<pre>${'{"a": "<b>"}'}</pre>`.value).toBe('<pre>{"a": "&lt;b&gt;"}</pre>');
  });
  it('inserts SafeHtml as markup, joins arrays, renders nothing for null/undefined/false', () => {
    const inner = html`<b>${'x<'}</b>`;
    expect(html`<p>${inner}${[html`<i>1</i>`, '<2>']}${null}${undefined}${false}${0}</p>`.value).toBe(
      '<p><b>x&lt;</b><i>1</i>&lt;2&gt;0</p>',
    );
    expect(joinHtml([html`<b>a</b>`, html`<b>b</b>`], ', ').value).toBe('<b>a</b>, <b>b</b>');
    expect(String(trustedHtml('<style>a{}</style>'))).toBe('<style>a{}</style>');
  });
  it('a value that only looks like SafeHtml is escaped', () => {
    const fake = { value: '<script>x</script>', toString: () => '<script>x</script>' };
    expect(html`<p>${fake as never}</p>`.value).toBe('<p>&lt;script&gt;x&lt;/script&gt;</p>');
    expect(Object.create(SafeHtml.prototype) instanceof SafeHtml).toBe(true);
    expect(html`<p>${Object.assign(Object.create(SafeHtml.prototype), { value: '<s>' }) as never}</p>`.value).toBe('<p>&lt;s&gt;</p>');
  });
  it('URL attributes take PNG data URLs and plain paths only', () => {
    expect(html`<img src="${'data:image/png;base64,iVBORw0KGgo='}">`.value).toBe('<img src="data:image/png;base64,iVBORw0KGgo=">');
    expect(html`<a href="${'metrics.csv'}">`.value).toBe('<a href="metrics.csv">');
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:x',
      'data:text/html,<script>',
      'file:///etc/passwd',
      '//evil.example/x',
      ' javascript:x',
    ]) {
      expect(html`<a href="${bad}">`.value).toBe('<a href="#">');
      expect(html`<image xlink:href="${bad}"/>`.value).toBe('<image xlink:href="#"/>');
    }
  });
  it('style attributes take finite numbers only', () => {
    expect(html`<span style="width:${12}px">`.value).toBe('<span style="width:12px">');
    expect(html`<span style="width:${'1px;background:url(x)' as never}px">`.value).toBe('<span style="width:0px">');
    expect(html`<span style="width:${Number.NaN}px">`.value).toBe('<span style="width:0px">');
  });
  it('refuses unquoted attribute values, event handlers and markup in attributes (programming errors)', () => {
    expect(() => html`<img alt=${'x'}>`).toThrow(TypeError);
    expect(() => html`<b onclick="${'x'}">`).toThrow(/event handler 'onclick'/);
    expect(() => html`<b title="${html`<i>`}">`).toThrow(/markup cannot go into an attribute/);
    expect(() => html`<b ${'onclick=x'}>`).toThrow(/between the attributes of a tag/);
    expect(html`<b class="x"${html` hidden`}>`.value).toBe('<b class="x" hidden>');
  });
});
