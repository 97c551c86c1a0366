import { mirrorImages } from '@fmnist/data';

/** Loss, accuracy, confusion matrix and predictions over a set (result of `evaluate` and {@link scoreLogits}). */
export interface Evaluation {
  loss: number;
  accuracy: number;
  /** `confusion[true][predicted]` counts. */
  confusion: number[][];
  /** Predicted class per example. */
  predictions: Uint8Array;
}

/**
 * Mean softmax cross-entropy, accuracy, confusion matrix and predicted classes of logits against labels. Plain
 * arithmetic (no TensorFlow.js), so it scores ONNX or any other runtime's outputs the same way.
 *
 * @param logits - `[n, numClasses]`, row-major
 * @param labels - `n` labels
 * @param numClasses - number of classes
 * @returns the {@link Evaluation}
 *
 * @example
 * ```ts
 * scoreLogits(new Float32Array([2, 0, 0, 3]), new Uint8Array([0, 0]), 2).accuracy; // 0.5
 * ```
 */
export function scoreLogits(logits: Float32Array, labels: Uint8Array, numClasses: number): Evaluation {
  const n = labels.length;
  let loss = 0;
  let correct = 0;
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const predictions = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < numClasses; c++) {
      const v = logits[i * numClasses + c] as number;
      if (v > max) {
        max = v;
        arg = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += Math.exp((logits[i * numClasses + c] as number) - max);
    const label = labels[i] as number;
    loss += Math.log(sum) + max - (logits[i * numClasses + label] as number);
    predictions[i] = arg;
    if (arg === label) correct++;
    (confusion[label] as number[])[arg]++;
  }
  return { loss: loss / n, accuracy: correct / n, confusion, predictions };
}

/**
 * Flip test-time augmentation: the mean of a model's logits on `images` and on their mirror images (`mirrorImages` of
 * `@fmnist/data`), at twice the inference cost. The one definition behind `evaluate(..., { tta: 'flip' })` and
 * `fmnist eval --tta flip`, whatever runs the model.
 *
 * @param images - `n` 28×28 images, `[n * 784]` bytes
 * @param predict - the model's logits, `[n, numClasses]`, for `n` images
 * @returns the averaged logits (a new array)
 *
 * @example
 * ```ts
 * const logits = await flipAveragedLogits(test.images, (images) => predictor.predict(normalize(images)));
 * scoreLogits(logits, test.labels, 10).accuracy;
 * ```
 */
export async function flipAveragedLogits(
  images: Uint8Array,
  predict: (images: Uint8Array) => Float32Array | Promise<Float32Array>,
): Promise<Float32Array> {
  const logits = Float32Array.from(await predict(images));
  const mirrored = await predict(mirrorImages(images));
  for (let i = 0; i < logits.length; i++) logits[i] = ((logits[i] as number) + (mirrored[i] as number)) / 2;
  return logits;
}
