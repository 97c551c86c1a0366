/** The confusion matrix as a table with per-class accuracy (the Evaluate and Train views). */
import { formatPercent } from '../model-info';
import { h } from './dom';

/** Short class names for the confusion matrix's columns. */
const SHORT: Record<string, string> = {
  'T-shirt/top': 'T-shirt',
  'Ankle boot': 'Boot',
};

/**
 * Per class: correct / images of that class (NaN when the class has none).
 *
 * @param confusion - `confusion[true][predicted]` counts
 * @returns the accuracy of each true class
 *
 * @example
 * ```ts
 * perClassAccuracy([[3, 1], [0, 4]]); // [0.75, 1]
 * ```
 */
export function perClassAccuracy(confusion: readonly (readonly number[])[]): number[] {
  return confusion.map((row, i) => (row[i] as number) / row.reduce((a, b) => a + b, 0));
}

/**
 * Fills `table` with the confusion matrix: one row per true class, one column per predicted class, the diagonal
 * highlighted, mistakes shaded by count, and the class's accuracy in the last column.
 *
 * @param table - the `<table>` to fill
 * @param confusion - `confusion[true][predicted]` counts
 * @param names - class names
 * @param caption - the table's caption
 *
 * @example
 * ```ts
 * renderConfusionTable(byId('eval-confusion'), score.confusion, names, 'Confusion matrix on 10,000 test images');
 * ```
 */
export function renderConfusionTable(
  table: HTMLTableElement,
  confusion: readonly (readonly number[])[],
  names: readonly string[],
  caption: string,
): void {
  const perClass = perClassAccuracy(confusion);
  const max = Math.max(...confusion.flatMap((row, i) => row.filter((_, j) => j !== i)), 1);
  const head = h(
    'thead',
    {},
    h(
      'tr',
      {},
      h('th', { scope: 'col', class: 'corner' }, 'true ╲ predicted'),
      ...names.map((n) => h('th', { scope: 'col', title: n }, SHORT[n] ?? n)),
      h('th', { scope: 'col' }, 'accuracy'),
    ),
  );
  const body = h(
    'tbody',
    {},
    ...confusion.map((row, i) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, names[i]),
        ...row.map((v, j) => {
          const shade = i === j ? 0 : v / max;
          return h(
            'td',
            {
              class: i === j ? 'diag' : v === 0 ? 'zero' : 'off',
              style: i === j ? undefined : `--shade:${shade.toFixed(3)}`,
              title: `${v} ${names[i]} predicted as ${names[j]}`,
            },
            String(v),
          );
        }),
        h('td', { class: 'class-acc', 'data-class-accuracy': perClass[i] }, formatPercent(perClass[i] as number, 1)),
      ),
    ),
  );
  table.replaceChildren(h('caption', {}, caption), head, body);
}
