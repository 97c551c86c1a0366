/**
 * Markup that is escaped by construction: the {@link html} tagged template escapes every interpolated value, and the
 * only way to include markup is another {@link SafeHtml} (made by `html` itself, or by {@link trustedHtml} for a
 * constant of this program — greppable, and never given data). Used by the report and the SVG charts alike.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/**
 * Escapes text for HTML/XML text and quoted attribute values.
 *
 * @param text - any text
 * @returns the text with `& < > " ' \`` replaced by character references
 *
 * @example
 * ```ts
 * escapeHtml('<b>"x"</b>'); // '&lt;b&gt;&quot;x&quot;&lt;/b&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string);
}

const brand = Symbol('SafeHtml');

/** Markup built by {@link html}: the one type the template inserts without escaping. */
export class SafeHtml {
  /** @internal */
  readonly [brand] = true;
  /** The markup. */
  readonly value: string;

  private constructor(value: string) {
    this.value = value;
  }

  /** @internal Only `html` and `trustedHtml` create these. */
  static of(value: string): SafeHtml {
    return new SafeHtml(value);
  }

  /** The markup, e.g. for `writeFile`. */
  toString(): string {
    return this.value;
  }
}

/** What {@link html} accepts in `${…}`. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const isSafe = (v: unknown): v is SafeHtml => v instanceof SafeHtml && (v as SafeHtml)[brand] === true;

/** A data: URL of a PNG image, or a path without a scheme: the only values URL attributes take. */
const SAFE_URL = /^(?:data:image\/png;base64,[A-Za-z0-9+/]*={0,2}|#[\w-]*|[\w][\w./-]*)$/;

/** Where an interpolation sits: element content, inside a tag (between attributes), a quoted attribute value, a URL
 * attribute, a style attribute. */
type Context = 'text' | 'tag' | 'attr' | 'url' | 'style';

const TEXT_ESCAPES = /[&<>]/g;

/** Renders one interpolated value in its context. */
function render(value: HtmlValue, context: Context): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((v) => render(v, context)).join('');
  if (isSafe(value)) {
    if (context !== 'text' && context !== 'tag') throw new TypeError('html: markup cannot go into an attribute value.');
    return value.value;
  }
  if (context === 'tag') {
    if (value === '') return '';
    throw new TypeError('html: only markup (attributes built with html``) can go between the attributes of a tag.');
  }
  if (context === 'style') {
    // Only finite numbers go into CSS: no text can open a url(), an expression or a new declaration.
    return typeof value === 'number' && Number.isFinite(value) ? String(value) : '0';
  }
  const text = String(value);
  if (context === 'url') return SAFE_URL.test(text) ? escapeHtml(text) : '#';
  if (context === 'attr') return escapeHtml(text);
  // Element content: escaping & < > is enough (and keeps quotes readable, e.g. in the report's JSON).
  return text.replace(TEXT_ESCAPES, (c) => ESCAPES[c] as string);
}

/**
 * The context at the end of the markup built so far. Interpolated text never holds a raw `<`, `>` or (in attributes)
 * quote, so the last `<` and `>` tell whether we are inside a tag, and an unclosed quote which attribute we are in.
 */
function contextAt(markup: string): Context {
  const lt = markup.lastIndexOf('<');
  if (lt <= markup.lastIndexOf('>')) return 'text';
  const tag = markup.slice(lt);
  if (/=\s*$/.test(tag)) {
    throw new TypeError(`html: an interpolation after '${tag.slice(-20)}' is an unquoted attribute value; quote it.`);
  }
  const attr = /\s([\w:-]+)=(["'])[^"']*$/.exec(tag);
  if (!attr) return 'tag';
  const name = (attr[1] as string).toLowerCase();
  if (name === 'style') return 'style';
  if (name === 'href' || name === 'src' || name === 'xlink:href' || name === 'action' || name === 'formaction') return 'url';
  if (name.startsWith('on')) throw new TypeError(`html: no interpolation into the event handler '${name}'.`);
  return 'attr';
}

/**
 * The tagged template: every `${value}` is escaped for where it sits (strings, and anything else turned into a
 * string), arrays are joined, `null`/`undefined`/`false` render nothing, and a {@link SafeHtml} is inserted as markup.
 * Inside a quoted `href`/`src` only PNG data URLs and scheme-less paths pass (anything else becomes `#`), inside `style`
 * only finite numbers, between a tag's attributes only markup; an unquoted attribute value or an `on…` handler is a
 * programming error (TypeError).
 *
 * @returns the markup
 *
 * @example
 * ```ts
 * html`<td class="l">${'<script>'}</td>`.value; // '<td class="l">&lt;script&gt;</td>'
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) {
    out += render(values[i] as HtmlValue, contextAt(out)) + (strings[i + 1] as string);
  }
  return SafeHtml.of(out);
}

/**
 * Markup this program wrote itself (a CSS or SVG constant), inserted as is. Never pass it data from a file.
 *
 * @param constant - the markup
 * @returns it, as {@link SafeHtml}
 *
 * @example
 * ```ts
 * html`<style>${trustedHtml('body { margin: 0 }')}</style>`;
 * ```
 */
export function trustedHtml(constant: string): SafeHtml {
  return SafeHtml.of(constant);
}

/**
 * Joins markup with a separator.
 *
 * @param parts - the pieces
 * @param separator - between them @defaultValue ''
 * @returns one {@link SafeHtml}
 *
 * @example
 * ```ts
 * joinHtml([html`<b>a</b>`, html`<b>b</b>`], ', ').value; // '<b>a</b>, <b>b</b>'
 * ```
 */
export function joinHtml(parts: readonly SafeHtml[], separator = ''): SafeHtml {
  return SafeHtml.of(parts.map((p) => p.value).join(escapeHtml(separator)));
}
