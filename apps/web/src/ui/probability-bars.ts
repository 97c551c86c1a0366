/** The probability bars for the 10 classes, best highlighted, with the true class marked when known. */
import { formatPercent } from '../model-info';
import { h } from './dom';

/** Options of {@link renderProbabilities}. */
export interface ProbabilityBarsOptions {
  /** The true class, marked in the list. */
  trueLabel?: number;
}

/**
 * Fills `list` (an `<ol>`) with one row per class — name, bar, percentage — in class order, the predicted class
 * highlighted; and returns the predicted class.
 *
 * @param list - the `<ol>` to fill
 * @param probabilities - one row of class probabilities
 * @param classNames - names by class index
 * @param options - `trueLabel`
 * @returns the predicted class index
 *
 * @example
 * ```ts
 * renderProbabilities(byId('draw-probs'), probs, meta.classNames);
 * ```
 */
export function renderProbabilities(
  list: HTMLElement,
  probabilities: ArrayLike<number>,
  classNames: readonly string[],
  options: ProbabilityBarsOptions = {},
): number {
  let best = 0;
  for (let c = 1; c < probabilities.length; c++) if ((probabilities[c] as number) > (probabilities[best] as number)) best = c;
  const rows = Array.from(probabilities, (p, c) => {
    const classes = ['prob'];
    if (c === best) classes.push('best');
    if (c === options.trueLabel) classes.push('truth');
    const pct = formatPercent(p, 1);
    const suffix = c === options.trueLabel ? ' (true class)' : '';
    return h(
      'li',
      {
        class: classes.join(' '),
        'data-class': c,
        'data-probability': p,
        'aria-label': `${classNames[c]}: ${pct}${c === best ? ', predicted' : ''}${suffix}`,
      },
      h(
        'span',
        { class: 'prob-name', 'aria-hidden': 'true' },
        classNames[c] ?? String(c),
        c === options.trueLabel ? h('span', { class: 'truth-mark' }, ' ✓ true') : null,
      ),
      h(
        'span',
        { class: 'prob-bar', 'aria-hidden': 'true' },
        h('span', { class: 'prob-fill', style: `width:${Math.max(0, Math.min(100, p * 100)).toFixed(2)}%` }),
      ),
      h('span', { class: 'prob-value', 'aria-hidden': 'true' }, pct),
    );
  });
  list.replaceChildren(...rows);
  list.dataset.predicted = String(best);
  return best;
}
