import { type Batch, type ExampleSet, IMAGE_PIXELS, normalize } from '@fmnist/data';
import { inputDims, type OnnxSignature } from './signature';

/**
 * The part of an onnxruntime module (`onnxruntime-node`, `onnxruntime-web`, `onnxruntime-common`) that
 * {@link toModelInput} uses: its `Tensor` class. Taken as an argument, so `@fmnist/onnx` depends on no runtime.
 */
export interface OrtTensorModule<T> {
  /** `ort.Tensor`. */
  Tensor: new (
    type: 'float32',
    data: Float32Array,
    dims: readonly number[],
  ) => T;
}

/**
 * Turns images into the input tensor of an exported model: float32 `[n, 1, 28, 28]`, pixels / 255 (the graph contract
 * of {@link exportOnnx}), or the shape `signature` (from {@link checkOnnxSignature}) says a model expects. Give a
 * split or subset (normalised here with `/255`), or a {@link Batch} from `batches`/`toBatch` made with the default
 * `'unit'` normalisation (its floats are used as they are, in any `layout`: one grey channel is the same bytes).
 *
 * @param ort - the onnxruntime module, e.g. `import * as ort from 'onnxruntime-node'`
 * @param images - a split / subset (`{ images, labels, count }`) or a float batch (`{ x, size }`)
 * @param signature - the model's input layout and fixed batch size, if any @defaultValue `{ layout: 'nchw', batchSize: null }`
 * @returns an `ort.Tensor` to feed as `{ [INPUT_NAME]: tensor }` (or `signature.inputName`)
 * @throws RangeError when the pixels are not `n × 784` or `n` differs from a fixed batch size of the model
 *
 * @example
 * ```ts
 * import * as ort from 'onnxruntime-node';
 * import { loadFashionMnist, subset } from '@fmnist/data';
 * import { INPUT_NAME, toModelInput } from '@fmnist/onnx';
 *
 * const { test } = await loadFashionMnist({ splits: ['test'] });
 * const session = await ort.InferenceSession.create('model.onnx');
 * const out = await session.run({ [INPUT_NAME]: toModelInput(ort, subset(test, [0, 1, 2])) });
 * out.logits?.dims; // [3, 10]
 * ```
 */
export function toModelInput<T>(
  ort: OrtTensorModule<T>,
  images: ExampleSet | Pick<Batch, 'x' | 'size'>,
  signature: Pick<OnnxSignature, 'layout' | 'batchSize'> = { layout: 'nchw', batchSize: null },
): T {
  const x = 'x' in images ? images.x : normalize(images.images.subarray(0, images.count * IMAGE_PIXELS));
  const n = 'x' in images ? images.size : images.count;
  if (!Number.isInteger(n) || n < 0 || x.length !== n * IMAGE_PIXELS) {
    throw new RangeError(`'images' must hold n × 784 pixels for n = ${n} images (${n * IMAGE_PIXELS}), got ${x.length}.`);
  }
  if (signature.batchSize !== null && signature.batchSize !== n) {
    throw new RangeError(
      `This model takes exactly ${signature.batchSize} images per run, got ${n}; split the images into batches of ${signature.batchSize}.`,
    );
  }
  return new ort.Tensor('float32', x, inputDims(signature, n));
}
