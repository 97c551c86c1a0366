/**
 * Evaluate: the whole test set through the current engine, with a progress bar; accuracy, speed, the confusion matrix
 * and the misclassified images.
 */
import type { App } from '../app';
import { describeEngine } from '../engine';
import { scorePredictions } from '../metrics';
import { formatPercent } from '../model-info';
import { renderConfusionTable } from '../ui/confusion-table';
import { byId, h } from '../ui/dom';
import { imageCanvas } from '../ui/pixels';

/** Misclassified images shown at first (and added per "show more"). */
export const MISTAKES_PAGE = 60;

/**
 * Wires the Evaluate view.
 *
 * @param app - the app state
 * @param openInGallery - shows a test image in the gallery
 *
 * @example
 * ```ts
 * setupEvaluateView(app, (i) => gallery.select(i));
 * ```
 */
export function setupEvaluateView(app: App, openInGallery: (index: number) => void): void {
  const run = byId<HTMLButtonElement>('eval-run');
  const progress = byId<HTMLProgressElement>('eval-progress');
  const status = byId('eval-status');
  const results = byId('eval-results');
  const stats = byId('eval-stats');
  const matrix = byId<HTMLTableElement>('eval-confusion');
  const mistakes = byId('eval-mistakes');
  const mistakesTitle = byId('eval-mistakes-title');
  const more = byId<HTMLButtonElement>('eval-more');
  let wrong: number[] = [];
  let shownMistakes = 0;

  const showMoreMistakes = () => {
    const test = app.test;
    const pred = app.predictions?.predicted;
    const names = app.engine?.model.metadata.classNames ?? [];
    if (!test || !pred) return;
    const slice = wrong.slice(shownMistakes, shownMistakes + MISTAKES_PAGE);
    for (const i of slice) {
      const t = test.labels[i] as number;
      const p = pred[i] as number;
      mistakes.append(
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'mistake',
              'data-index': i,
              'aria-label': `Test image ${i}: ${names[t]}, predicted ${names[p]}. Open in the test set.`,
            },
            imageCanvas(test.images, i, 'thumb-pixels'),
            h(
              'span',
              { class: 'mistake-label' },
              h('span', { class: 'true-name' }, names[t]),
              ' → ',
              h('span', { class: 'pred-name' }, names[p]),
            ),
          ),
        ),
      );
    }
    shownMistakes += slice.length;
    more.hidden = shownMistakes >= wrong.length;
    more.textContent = `Show ${Math.min(MISTAKES_PAGE, wrong.length - shownMistakes)} more`;
  };

  const show = () => {
    const test = app.test;
    const predictions = app.predictions;
    const engine = app.engine;
    if (!test || !predictions || !engine) {
      results.hidden = true;
      return;
    }
    const names = engine.model.metadata.classNames;
    const score = scorePredictions(predictions.predicted, test.labels, names.length);
    const perImage = predictions.ms / test.count;
    const figures: [string, string, string][] = [
      ['accuracy', 'Accuracy', formatPercent(score.accuracy)],
      ['correct', 'Correct', `${score.correct.toLocaleString('en-US')} / ${score.total.toLocaleString('en-US')}`],
      ['time', 'Time', `${(predictions.ms / 1000).toFixed(2)} s`],
      ['speed', 'Speed', `${Math.round((test.count / predictions.ms) * 1000).toLocaleString('en-US')} images/s`],
      ['per-image', 'Per image', `${perImage.toFixed(3)} ms`],
      ['engine', 'Engine', describeEngine(engine.info)],
    ];
    stats.replaceChildren(
      ...figures.map(([key, label, value]) =>
        h(
          'div',
          { class: 'stat', 'data-stat': key },
          h('dt', {}, label),
          h('dd', { class: key === 'engine' ? 'small' : undefined }, value),
        ),
      ),
    );
    stats.dataset.accuracy = String(score.accuracy);
    stats.dataset.ms = String(predictions.ms);

    renderConfusionTable(matrix, score.confusion, names, `Confusion matrix on ${test.count.toLocaleString('en-US')} test images`);

    wrong = score.wrong;
    shownMistakes = 0;
    mistakes.replaceChildren();
    mistakesTitle.textContent = `Misclassified: ${wrong.length.toLocaleString('en-US')} images`;
    showMoreMistakes();
    results.hidden = false;
  };

  const evaluate = async () => {
    const engine = app.engine;
    if (!engine) return;
    run.disabled = true;
    progress.value = 0;
    progress.hidden = false;
    status.textContent = app.test ? 'Evaluating…' : 'Loading the test set…';
    try {
      const p = await app.reevaluate((done, total) => {
        progress.value = done / total;
        status.textContent = `Evaluating… ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}`;
      });
      status.textContent = `Done: ${app.test?.count.toLocaleString('en-US')} images in ${(p.ms / 1000).toFixed(2)} s.`;
      show();
    } catch (err) {
      status.textContent =
        app.engine === engine
          ? `Evaluation failed: ${(err as Error).message}`
          : 'The model or engine changed during the evaluation: run it again.';
    } finally {
      run.disabled = false;
      progress.hidden = true;
    }
  };

  run.addEventListener('click', () => void evaluate());
  more.addEventListener('click', showMoreMistakes);
  mistakes.addEventListener('click', (e) => {
    const button = (e.target as HTMLElement).closest<HTMLButtonElement>('.mistake');
    if (button) openInGallery(Number(button.dataset.index));
  });
  app.addEventListener('predictions', show);
  app.addEventListener('engine', () => {
    if (results.hidden) return;
    results.hidden = true;
    status.textContent = 'The model or engine changed: run the evaluation again.';
  });
}
