import { loadFashionMnist, mirrorImages, normalize, subset } from '@fmnist/data';
import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate';
import { createModel } from './model';
import { createPredictor } from './predictor';
import { scoreLogits } from './score';

const { test } = await loadFashionMnist();
const set = subset(
  test,
  Array.from({ length: 400 }, (_, i) => i * 25),
);

describe('evaluate', () => {
  const model = createModel({ preset: 'mixer-s', dim: 32, tokenHidden: 16, channelHidden: 64, blocks: 2, seed: 5 });

  it("scores the model's logits, and with tta 'flip' the mean of the logits of each image and its mirror", async () => {
    const predictor = await createPredictor(model);
    const plain = predictor.predict(normalize(set.images));
    const mirrored = predictor.predict(normalize(mirrorImages(set.images)));
    const mean = plain.map((v, i) => (v + (mirrored[i] as number)) / 2);

    const none = await evaluate(model, set, { backend: 'kernels', threads: 2 });
    const expectedNone = scoreLogits(plain, set.labels, 10);
    expect(none.predictions).toEqual(expectedNone.predictions);
    expect(none.loss).toBeCloseTo(expectedNone.loss, 5);

    const flip = await evaluate(model, set, { backend: 'kernels', threads: 2, tta: 'flip' });
    const expectedFlip = scoreLogits(mean, set.labels, 10);
    expect(flip.predictions).toEqual(expectedFlip.predictions);
    expect(flip.loss).toBeCloseTo(expectedFlip.loss, 5);
    expect(flip.accuracy).toBe(expectedFlip.accuracy);
    // It is a different evaluation, not the same one twice.
    expect(flip.loss).not.toBeCloseTo(none.loss, 5);
  });

  it('changes nothing on images that are their own mirror', async () => {
    const symmetric = { ...set, images: set.images.map((v, i) => (i % 28 < 14 ? v : (set.images[i - 2 * (i % 28) + 27] as number))) };
    expect(mirrorImages(symmetric.images)).toEqual(symmetric.images);
    const none = await evaluate(model, symmetric, { backend: 'kernels', threads: 1 });
    const flip = await evaluate(model, symmetric, { backend: 'kernels', threads: 1, tta: 'flip' });
    expect(flip.predictions).toEqual(none.predictions);
    expect(flip.loss).toBeCloseTo(none.loss, 6);
  });

  it('refuses an unknown tta', async () => {
    await expect(evaluate(model, set, { tta: 'rotate' as never })).rejects.toThrow(/'tta' must be 'none' or 'flip', got 'rotate'/);
  });
});
