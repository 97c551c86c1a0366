/**
 * toModelInput against the real runtime: an exported model (initial parameters of the patch-MLP preset) runs in
 * onnxruntime-node on tensors it made from real test images, and its logits equal the kernels predictor's.
 */
import { loadFashionMnist, permutation, subset, toBatch } from '@fmnist/data';
import { createModel, createPredictor } from '@fmnist/model';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, INPUT_NAME } from './export';
import { toModelInput } from './model-input';
import { checkOnnxSignature } from './signature';
import { compare, createSession } from './test-helpers';

let images: ReturnType<typeof subset>;
beforeAll(async () => {
  const { test } = await loadFashionMnist({ splits: ['test'] });
  images = subset(test, permutation(test.count, 5).subarray(0, 300));
});

describe('toModelInput', () => {
  it('feeds an exported model in onnxruntime-node: [N, 10] logits equal to createPredictor within 1e-5', async () => {
    const model = createModel('patch-mlp');
    const bytes = exportOnnx(model);
    const session = await createSession(bytes);
    try {
      const input = toModelInput(ort, images);
      expect([input.type, input.dims]).toEqual(['float32', [300, 1, 28, 28]]);
      const out = await session.run({ [INPUT_NAME]: input });
      const logits = out.logits as ort.Tensor;
      expect(logits.dims).toEqual([300, 10]);
      const predictor = await createPredictor(model);
      const reference = predictor.predict(toBatch(images).x);
      const { maxDiff, maxAbs } = compare(reference, logits.data as Float32Array);
      console.log(`toModelInput: max |logit diff| ORT vs kernels ${maxDiff.toExponential(2)} (largest |logit| ${maxAbs.toFixed(3)})`);
      expect(maxAbs).toBeGreaterThan(0);
      expect(maxDiff).toBeLessThanOrEqual(1e-5);
      // A batch in any layout and the split give the same tensor.
      const fromBatch = toModelInput(ort, toBatch(images, { layout: 'nhwc' }), checkOnnxSignature(bytes));
      expect(fromBatch.dims).toEqual([300, 1, 28, 28]);
      expect(fromBatch.data).toEqual(input.data);
    } finally {
      await session.release();
    }
  });

  it('follows a flat signature and refuses a wrong count for a fixed batch size or a bad length', () => {
    expect(toModelInput(ort, toBatch(images), { layout: 'flat', batchSize: null }).dims).toEqual([300, 784]);
    expect(() => toModelInput(ort, images, { layout: 'nchw', batchSize: 1 })).toThrow(
      'This model takes exactly 1 images per run, got 300; split the images into batches of 1.',
    );
    expect(() => toModelInput(ort, { x: new Float32Array(10), size: 1 })).toThrow(RangeError);
  });
});
