/** Scoring logits against labels (no TensorFlow.js needed, so ONNX evaluation starts fast). */

/** Loss, accuracy, confusion matrix and predictions of a set of logits. */
export interface Score {
  loss: number;
  accuracy: number;
  /** `confusion[true][predicted]`. */
  confusion: number[][];
  predictions: Uint8Array;
}

/**
 * Mean softmax cross-entropy, accuracy and confusion matrix.
 *
 * @param logits - `[n, classes]`, row-major
 * @param labels - `n` labels
 * @param classes - number of classes
 * @returns the {@link Score}
 *
 * @example
 * ```ts
 * scoreLogits(new Float32Array([2, 0, 0, 3]), new Uint8Array([0, 0]), 2).accuracy; // 0.5
 * ```
 */
export function scoreLogits(logits: Float32Array, labels: Uint8Array, classes: number): Score {
  const n = labels.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const predictions = new Uint8Array(n);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    let arg = 0;
    for (let c = 1; c < classes; c++) if ((row[c] as number) > (row[arg] as number)) arg = c;
    const max = row[arg] as number;
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp((row[c] as number) - max);
    const label = labels[i] as number;
    loss += Math.log(sum) + max - (row[label] as number);
    predictions[i] = arg;
    if (arg === label) correct++;
    (confusion[label] as number[])[arg]++;
  }
  return { loss: loss / n, accuracy: correct / n, confusion, predictions };
}

/** Pixels (bytes) → Float32 in [0, 1], the models' `unit` normalisation. */
export function toUnit(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] as number) / 255;
  return out;
}
