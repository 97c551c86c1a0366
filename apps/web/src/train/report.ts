/**
 * The run's report as one self-contained HTML file, rendered by `@fmnist/report` — the renderer of the CLI's
 * `report.html` — from the finished run and the test images it was evaluated on: the curves, the confusion matrix,
 * per-class accuracy, the misclassified test images and the settings. No script, no network. DOM-free.
 */
import { describeAugmentation, type FashionMnistSplit } from '@fmnist/data';
import { renderRunReport } from '@fmnist/report';
import type { FinishedRun } from './session-types';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/**
 * The run's report page.
 *
 * @param run - the finished run
 * @param test - the test images `run.evaluation` scored (the app's test set)
 * @returns the HTML text
 * @throws FmnistReportError `E_REPORT_INPUT` when the evaluation and the test images disagree
 *
 * @example
 * ```ts
 * const page = renderRunReportHtml(run, await app.ensureTestSet()); // '<!doctype html>…'
 * ```
 */
export function renderRunReportHtml(run: FinishedRun, test: Pick<FashionMnistSplit, 'images' | 'labels'>): string {
  const s = run.settings;
  const e = run.evaluation;
  const last = run.epochs.at(-1);
  const { html } = renderRunReport({
    title: `${run.preset} — ${pct(e.accuracy)} test accuracy`,
    epochs: run.epochs,
    evaluation: e,
    testImages: test,
    config: { preset: run.preset, settings: s, model: run.config, training: run.training },
    highlights: [
      ['test accuracy', pct(e.accuracy)],
      ['test loss', e.loss.toFixed(4)],
      ['epochs', `${last?.epoch ?? 0} / ${s.epochs}`],
      ['training time', `${(run.trainTimeMs / 1000).toFixed(1)} s`],
      ['engine', run.backend],
      ['threads', String(run.threads)],
      ['train images', run.training.trainExamples.toLocaleString('en-US')],
      ['augmentation', describeAugmentation(s.augment)],
      ['stopped', run.stopReason],
    ],
    curvesTitle: `${run.preset}: ${run.epochs.length} epoch${run.epochs.length === 1 ? '' : 's'}, batch ${s.batchSize}, lr ${s.learningRate}`,
    generator: 'the fmnist web app (trained in the browser)',
    configFile: null,
    files: [],
  });
  return html;
}
