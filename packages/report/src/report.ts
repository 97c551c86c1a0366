/**
 * `report.html`: one self-contained page (inline SVG, PNG data URLs, inline CSS; no network) with the curves, the
 * confusion matrix, per-class accuracy, misclassified test images and the full config. Built with the escaping
 * {@link html} template only: every value (a class name, an epoch read back from a checkpoint, a config string) is
 * text, whatever it holds; the page contains no script.
 */
import { html, joinHtml, type SafeHtml, trustedHtml } from './html';
import type { MetricsRow } from './metrics';
import { grayPngDataUrl } from './png';

/** A misclassified test image for the report. */
export interface Misclassified {
  /** Its index in the test images given. */
  index: number;
  /** 28×28 grey bytes (784), 0 = black. */
  pixels: Uint8Array;
  /** The name of its true class. */
  trueLabel: string;
  /** The name of the class the model predicted. */
  predicted: string;
}

/** Everything {@link renderReport} shows. */
export interface ReportInput {
  /** The page's title and heading. */
  title: string;
  /** Headline figures, label → value. */
  highlights: readonly (readonly [string, string])[];
  /** From `curvesSvg`. */
  curvesSvg: SafeHtml;
  /** From `confusionSvg`. */
  confusionSvg: SafeHtml;
  /** One name per class. */
  classNames: readonly string[];
  /** `confusion[true][predicted]` counts. */
  confusion: readonly (readonly number[])[];
  /** The per-epoch table, from `toMetricsRows`. */
  metrics: readonly MetricsRow[];
  /** The grid of misclassified test images, in the order shown. */
  misclassified: readonly Misclassified[];
  /** Shown as JSON: the run's hyperparameters and environment. */
  config: unknown;
  /** Paths of the other artifacts, relative to the report. */
  files: readonly string[];
  /** What made the report, named in its subtitle. @defaultValue 'fmnist train' */
  generator?: string;
  /** The file that also holds {@link ReportInput.config}, named under "Configuration"; null names none. @defaultValue 'config.json' */
  configFile?: string | null;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** A figure with `d` decimals; anything that is not a finite number (null, or a string read back from a file) shows as text or '–'. */
const f = (v: unknown, d = 4): string => (isNum(v) ? v.toFixed(d) : typeof v === 'string' ? v : '–');
const p = (v: unknown): string => (isNum(v) ? `${(100 * v).toFixed(2)}%` : typeof v === 'string' ? v : '–');
const count = (v: unknown): string => (isNum(v) ? Math.round(v).toLocaleString('en-US') : typeof v === 'string' ? v : '–');
const sum = (row: readonly unknown[]) => row.reduce<number>((a, b) => a + (isNum(b) ? b : 0), 0);

const CSS = `
:root { color-scheme: light; --fg: #1d1d1f; --muted: #666; --line: #e3e3e3; --accent: #1f77b4; --bad: #c0392b; }
* { box-sizing: border-box; }
body { font: 15px/1.5 'DejaVu Sans', system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--fg); margin: 0; background: #f6f7f9; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 18px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 20px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 10px; overflow-x: auto; }
.panel svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
.two { display: grid; grid-template-columns: minmax(0, 1fr) max-content; gap: 16px; align-items: start; }
@media (max-width: 900px) { .two { grid-template-columns: 1fr; } }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child, th.l, td.l { text-align: left; }
th { background: #fafafa; font-weight: 600; }
.bar { display: inline-block; height: 9px; background: var(--accent); border-radius: 2px; vertical-align: middle; margin-right: 6px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(104px, 1fr)); gap: 10px; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px; text-align: center; font-size: 12px; }
.tile img { width: 84px; height: 84px; image-rendering: pixelated; display: block; margin: 0 auto 4px; }
.tile .t { color: var(--fg); } .tile .p { color: var(--bad); } .tile .i { color: var(--muted); font-size: 11px; }
pre { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px; overflow: auto; font-size: 12.5px; max-height: 560px; }
.scroll { max-height: 420px; overflow: auto; border: 1px solid var(--line); border-radius: 10px; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; }
`;
/**
 * Builds the report page from parts already made (the two charts, the metrics rows, the misclassified images).
 * {@link renderRunReport} makes those parts from a run's data and calls this; call it directly to compose a page
 * yourself.
 *
 * @param input - see {@link ReportInput}
 * @returns the HTML text of the whole page
 *
 * @example
 * ```ts
 * const page = renderReport({
 *   title: 'demo',
 *   highlights: [['test accuracy', '81.00%']],
 *   curvesSvg: curvesSvg([{ epoch: 1, trainLoss: 0.6, trainAccuracy: 0.8 }]),
 *   confusionSvg: confusionSvg([[9, 1], [2, 8]], ['a', 'b']),
 *   classNames: ['a', 'b'],
 *   confusion: [[9, 1], [2, 8]],
 *   metrics: [],
 *   misclassified: [],
 *   config: { preset: 'patch-mlp' },
 *   files: [],
 * });
 * page.startsWith('<!doctype html>'); // true
 * ```
 */
export function renderReport(input: ReportInput): string {
  const n = input.classNames.length;
  const configFile = input.configFile === undefined ? 'config.json' : input.configFile;
  const rows = input.confusion.map((row, i) => {
    const total = sum(row);
    const correct = isNum(row[i]) ? row[i] : 0;
    let worst = -1;
    for (let j = 0; j < n; j++) {
      if (j !== i && isNum(row[j]) && (worst < 0 || (row[j] as number) > (row[worst] as number))) worst = j;
    }
    const acc = total ? correct / total : 0;
    const taken = worst >= 0 && (row[worst] as number) > 0 ? html`${input.classNames[worst]} (${row[worst]})` : '–';
    return html`<tr><td class="l">${input.classNames[i]}</td><td>${correct} / ${total}</td><td class="l"><span class="bar" style="width:${Math.round(acc * 80)}px"></span>${(100 * acc).toFixed(1)}%</td><td class="l">${taken}</td></tr>`;
  });
  const tiles = input.misclassified.map(
    (m) =>
      html`<div class="tile"><img alt="test image ${m.index}" src="${grayPngDataUrl(m.pixels)}"><div class="t">${m.trueLabel}</div><div class="p">→ ${m.predicted}</div><div class="i">#${m.index}</div></div>`,
  );
  const metricRows = input.metrics.map(
    (r) =>
      html`<tr><td>${r.epoch}</td><td>${f(r.train_loss)}</td><td>${p(r.train_accuracy)}</td><td>${f(r.test_loss)}</td><td>${p(r.test_accuracy)}</td><td>${f(r.time_s, 1)}</td><td>${count(r.images_per_s)}</td></tr>`,
  );
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${input.title}</title>
<style>${trustedHtml(CSS)}</style>
</head>
<body>
<main>
<h1>${input.title}</h1>
<p class="sub">Fashion-MNIST training report — generated by <code>${input.generator ?? 'fmnist train'}</code>; this file is self-contained and works offline.</p>
<div class="cards">${input.highlights.map(([k, v]) => html`<div class="card"><div class="k">${k}</div><div class="v">${v}</div></div>`)}</div>

<h2>Training curves</h2>
<div class="panel">${input.curvesSvg}</div>

<h2>Confusion matrix and per-class accuracy</h2>
<div class="two">
<div class="panel">${input.confusionSvg}</div>
<table>
<thead><tr><th class="l">class</th><th>correct</th><th class="l">accuracy</th><th class="l">most often taken for</th></tr></thead>
<tbody>
${joinHtml(rows, '\n')}
</tbody>
</table>
</div>

<h2>Misclassified test images</h2>
<p class="sub">Up to ${Math.ceil(input.misclassified.length / Math.max(1, n))} per true class: the true label, then <span style="color:var(--bad)">→ what the model predicted</span>.</p>
<div class="grid">${joinHtml(tiles, '\n')}</div>

<h2>Metrics per epoch</h2>
<div class="scroll"><table>
<thead><tr><th>epoch</th><th>train loss</th><th>train accuracy</th><th>test loss</th><th>test accuracy</th><th>time (s)</th><th>images/s</th></tr></thead>
<tbody>
${joinHtml(metricRows, '\n')}
</tbody>
</table></div>

<h2>Configuration</h2>
<p class="sub">Every hyperparameter and the environment of this run${configFile === null ? '' : html` (also in <code>${configFile}</code>)`}.</p>
<pre>${JSON.stringify(input.config, null, 2) ?? 'null'}</pre>

<footer>Files of this run: ${joinHtml(
    input.files.map((x) => html`<code>${x}</code>`),
    ', ',
  )}</footer>
</main>
</body>
</html>
`;
  return page.value;
}
