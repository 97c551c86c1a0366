/** Scoring predictions: argmax, softmax, accuracy, confusion matrix. Pure. */

/**
 * The index of the largest value in each row of a `[rows, classes]` matrix (first one on ties, like the CLI).
 *
 * @param scores - row-major scores (probabilities or logits)
 * @param classes - columns per row
 * @param out - optional output array of `scores.length / classes` entries
 * @returns the predicted class per row
 *
 * @example
 * ```ts
 * argmaxRows(new Float32Array([0.1, 0.9, 0.7, 0.3]), 2); // Uint8Array [1, 0]
 * ```
 */
export function argmaxRows(scores: Float32Array, classes: number, out?: Uint8Array): Uint8Array {
  if (!Number.isInteger(classes) || classes <= 0 || scores.length % classes !== 0) {
    throw new RangeError(`'classes' must be a positive integer dividing scores.length (${scores.length}), got ${classes}.`);
  }
  const rows = scores.length / classes;
  const result = out ?? new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let max = scores[r * classes] as number;
    for (let c = 1; c < classes; c++) {
      const v = scores[r * classes + c] as number;
      if (v > max) {
        max = v;
        best = c;
      }
    }
    result[r] = best;
  }
  return result;
}

/**
 * Softmax of each row, in place (for models that only output logits).
 *
 * @param logits - row-major `[rows, classes]`
 * @param classes - columns per row
 * @returns the same array, now probabilities
 *
 * @example
 * ```ts
 * softmaxRows(new Float32Array([0, 0]), 2); // Float32Array [0.5, 0.5]
 * ```
 */
export function softmaxRows(logits: Float32Array, classes: number): Float32Array {
  for (let start = 0; start < logits.length; start += classes) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[start + c] as number);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp((logits[start + c] as number) - max);
      logits[start + c] = e;
      sum += e;
    }
    for (let c = 0; c < classes; c++) logits[start + c] = (logits[start + c] as number) / sum;
  }
  return logits;
}

/** Accuracy and confusion matrix of a set of predictions. */
export interface Score {
  /** Correct / total, in [0, 1]. */
  accuracy: number;
  /** Number of correct predictions. */
  correct: number;
  /** Number of predictions. */
  total: number;
  /** `confusion[true][predicted]` counts. */
  confusion: number[][];
  /** Per class: correct / images of that class (NaN when the class has none). */
  perClass: number[];
  /** Indices of the wrong predictions, in order. */
  wrong: number[];
}

/**
 * Scores predicted labels against true ones.
 *
 * @param predicted - predicted class per image
 * @param labels - true class per image
 * @param classes - number of classes
 * @returns accuracy, confusion matrix, per-class accuracy and the wrong indices
 * @throws RangeError when the lengths differ
 *
 * @example
 * ```ts
 * scorePredictions(Uint8Array.of(1, 0), Uint8Array.of(1, 1), 2).accuracy; // 0.5
 * ```
 */
export function scorePredictions(predicted: ArrayLike<number>, labels: ArrayLike<number>, classes: number): Score {
  if (predicted.length !== labels.length) {
    throw new RangeError(`'predicted' and 'labels' must have the same length, got ${predicted.length} and ${labels.length}.`);
  }
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const wrong: number[] = [];
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i] as number;
    const p = predicted[i] as number;
    (confusion[t] as number[])[p] = ((confusion[t] as number[])[p] as number) + 1;
    if (t === p) correct++;
    else wrong.push(i);
  }
  const perClass = confusion.map((row, i) => (row[i] as number) / row.reduce((a, b) => a + b, 0));
  return { accuracy: labels.length ? correct / labels.length : Number.NaN, correct, total: labels.length, confusion, perClass, wrong };
}

/**
 * Sorted copy of one row of probabilities as `{ index, probability }`, best first.
 *
 * @param probabilities - one row
 * @returns entries sorted by decreasing probability
 *
 * @example
 * ```ts
 * rankClasses(new Float32Array([0.2, 0.8]))[0]; // { index: 1, probability: 0.8 }
 * ```
 */
export function rankClasses(probabilities: ArrayLike<number>): { index: number; probability: number }[] {
  return Array.from(probabilities, (probability, index) => ({ index, probability })).sort((a, b) => b.probability - a.probability);
}

/**
 * The median of some numbers (for latency figures).
 *
 * @param values - samples
 * @returns the median (NaN when empty)
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
