/**
 * `@fmnist/report`: a Fashion-MNIST training run's report as one self-contained HTML page — training curves, confusion
 * matrix, per-class accuracy, misclassified test images, metrics per epoch and the config — with inline SVG charts and
 * PNG data URLs, no script and no network. `renderRunReport(run)` makes it from a run's plain data; the `fmnist train`
 * CLI (its `report.html`) and the web app (its downloaded report) both call it.
 *
 * Browser-safe: no Node built-ins, nothing native. Every value is put into the page through one escaping tagged
 * template ({@link html}), so a class name, a config string or a number read back from a damaged file is text, never
 * markup.
 *
 * @packageDocumentation
 */
export {
  type CurvePoint,
  confusionSvg,
  curvesSvg,
  esc,
  FONT,
  formatTick,
  type LineChartOptions,
  lineChart,
  logTicks,
  niceTicks,
  perClassAccuracy,
  type Series,
} from './charts';
export { FmnistReportError, type FmnistReportErrorCode } from './errors';
export { escapeHtml, type HtmlValue, html, joinHtml, SafeHtml, trustedHtml } from './html';
export { csvCell, type MetricsRow, perClassCsv, toMetricsRows } from './metrics';
export { bytesToBase64, grayPngDataUrl, grayToPng } from './png';
export { type Misclassified, type ReportInput, renderReport } from './report';
export {
  DEFAULT_MISCLASSIFIED_PER_CLASS,
  type RunReport,
  type RunReportInput,
  renderRunReport,
  type SelectMisclassifiedOptions,
  selectMisclassified,
  type TestImages,
} from './run-report';
