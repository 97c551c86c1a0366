/**
 * The run's report as one self-contained HTML file (no scripts, no external resources): title, settings, the epochs,
 * the final accuracy and the confusion matrix with per-class accuracy. A stand-in until the CLI's `report.html`
 * renderer moves into a package both use; the Train view calls only {@link renderRunReportHtml}. Every value is
 * escaped by construction ({@link html}). DOM-free.
 */
import { CLASS_NAMES, describeAugmentation } from '@fmnist/data';
import type { FinishedRun } from './session-types';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/**
 * Escapes text for HTML text and quoted attribute values.
 *
 * @param text - any text
 * @returns the text with `& < > " ' \`` as character references
 *
 * @example
 * ```ts
 * escapeHtml('<b>'); // '&lt;b&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string);
}

const brand = Symbol('Markup');

/** Markup made by {@link html}: the only value it inserts unescaped. */
export interface Markup {
  readonly [brand]: true;
  readonly value: string;
}

type Value = Markup | string | number | null | undefined | false | readonly Value[];

const isMarkup = (v: unknown): v is Markup => typeof v === 'object' && v !== null && (v as Markup)[brand] === true;

const render = (v: Value): string => {
  if (v === null || v === undefined || v === false) return '';
  if (isMarkup(v)) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
};

/**
 * A tagged template that escapes every interpolated value (text, numbers, arrays of those), except markup it made
 * itself. Interpolate only into element content and quoted attribute values.
 *
 * @returns the markup
 *
 * @example
 * ```ts
 * html`<td>${'<script>'}</td>`.value; // '<td>&lt;script&gt;</td>'
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): Markup {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i] as Value) + (strings[i + 1] as string);
  return { [brand]: true, value: out };
}

/** Markup from a constant of this module (the style sheet); never given data. */
const trusted = (constant: string): Markup => ({ [brand]: true, value: constant });

const pct = (f: number | undefined, digits = 2) => (f === undefined || !Number.isFinite(f) ? '—' : `${(f * 100).toFixed(digits)} %`);
const num = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;max-width:1000px;margin:24px auto;padding:0 16px;color:#1d1d1f;background:#fff}
h1{font-size:1.5rem;margin:0 0 4px}h2{font-size:1.1rem;margin:1.4em 0 .4em}
.muted{color:#5d5d63}table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.9rem}
th,td{border:1px solid #d9d9de;padding:4px 8px;text-align:right}th[scope=row],.settings th{text-align:left}
.settings td{text-align:left}td.diag{background:#dcefe2;font-weight:600}
dl{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px}
dl div{border:1px solid #d9d9de;border-radius:8px;padding:6px 10px}dt{color:#5d5d63;font-size:.85rem}dd{margin:0;font-weight:600}
`;

/**
 * The run's report as a self-contained HTML page. Stand-in for `@fmnist/report`'s renderer (the CLI's `report.html`).
 *
 * @param run - the finished run
 * @returns the HTML text
 *
 * @example
 * ```ts
 * const page = await renderRunReportHtml(run); // '<!doctype html>…'
 * ```
 */
export async function renderRunReportHtml(run: FinishedRun): Promise<string> {
  const s = run.settings;
  const e = run.evaluation;
  const names = e.confusion.length === CLASS_NAMES.length ? [...CLASS_NAMES] : e.confusion.map((_, i) => String(i));
  const last = run.epochs.at(-1);
  const title = `${run.preset} — ${pct(e.accuracy)} test accuracy`;
  const highlights: [string, string][] = [
    ['test accuracy', pct(e.accuracy)],
    ['test loss', num(e.loss)],
    ['epochs', `${last?.epoch ?? 0} / ${s.epochs}`],
    ['training time', `${(run.trainTimeMs / 1000).toFixed(1)} s`],
    ['engine', run.backend],
    ['threads', String(run.threads)],
    ['train images', run.training.trainExamples.toLocaleString('en-US')],
    ['stopped', run.stopReason],
  ];
  const settings: [string, string][] = [
    ['preset', run.preset],
    ['epochs', String(s.epochs)],
    ['batch size', String(s.batchSize)],
    ['learning rate', String(s.learningRate)],
    ['schedule', s.lrSchedule],
    ['weight decay', String(s.weightDecay)],
    ['label smoothing', String(s.labelSmoothing)],
    ['augmentation', describeAugmentation(s.augment)],
    ['training images', s.subset === null ? 'all 60,000' : s.subset.toLocaleString('en-US')],
    ['seed', String(s.seed)],
    ['optimizer', String(run.training.optimizer ?? 'adam')],
    ['model config', JSON.stringify(run.config)],
  ];
  const perClass = e.confusion.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total > 0 ? (row[i] as number) / total : Number.NaN;
  });
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${title}</title>
<style>${trusted(STYLE)}</style>
</head>
<body>
<h1>${title}</h1>
<p class="muted">Trained in the browser by the fmnist web app (${run.backend}, ${run.threads} thread${run.threads === 1 ? '' : 's'}).</p>
<dl>${highlights.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
<h2>Settings</h2>
<table class="settings"><tbody>${settings.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>
<h2>Epochs</h2>
<table><thead><tr><th scope="col">epoch</th><th scope="col">train loss</th><th scope="col">train accuracy</th><th scope="col">test loss</th><th scope="col">test accuracy</th><th scope="col">time</th><th scope="col">img/s</th></tr></thead>
<tbody>${run.epochs.map(
    (r) =>
      html`<tr><td>${r.epoch}</td><td>${num(r.trainLoss)}</td><td>${pct(r.trainAccuracy)}</td><td>${num(r.testLoss)}</td><td>${pct(r.testAccuracy)}</td><td>${(r.timeMs / 1000).toFixed(1)} s</td><td>${Math.round(r.imagesPerSecond).toLocaleString('en-US')}</td></tr>`,
  )}</tbody></table>
<h2>Confusion matrix (${e.predictions.length.toLocaleString('en-US')} test images)</h2>
<table class="confusion"><thead><tr><th scope="col">true ╲ predicted</th>${names.map((n) => html`<th scope="col">${n}</th>`)}<th scope="col">accuracy</th></tr></thead>
<tbody>${e.confusion.map(
    (row, i) =>
      html`<tr><th scope="row">${names[i]}</th>${row.map((v, j) => html`<td${i === j ? html` class="diag"` : ''}>${v}</td>`)}<td>${pct(perClass[i], 1)}</td></tr>`,
  )}</tbody></table>
</body>
</html>
`;
  return page.value;
}
