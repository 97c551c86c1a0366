/**
 * The bundled model on the real Fashion-MNIST test set (`/usr/share/datasets/fashion-mnist` or the cache): it reaches
 * exactly the accuracy its file records, that accuracy is at least 90 %, and photo-like pictures (test images enlarged
 * onto a white page) are classified through crop and auto-invert.
 */
import { readFileSync } from 'node:fs';
import { type FashionMnistSplit, getImage, loadFashionMnist } from '@fmnist/data/node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundledModelPath, createClassifier } from './node';

let test: FashionMnistSplit;
beforeAll(async () => {
  ({ test } = await loadFashionMnist({ splits: ['test'], download: false }));
});

describe('the bundled model', () => {
  it('is at most 1 MB, shipped beside the package code', () => {
    expect(readFileSync(bundledModelPath()).length).toBeLessThanOrEqual(1_000_000);
  });

  it('reaches its recorded accuracy on the 10,000 raw test images (single pass, no crop, no inversion), ≥ 0.90', async () => {
    const classifier = await createClassifier();
    const recorded = classifier.info.accuracy as number;
    expect(Number(classifier.info.metadata.testExamples)).toBe(test.count);
    const ranked = await classifier.classifyPixels(test.images, { topK: 1 });
    let correct = 0;
    for (let i = 0; i < test.count; i++) if (ranked[i]?.[0]?.index === test.labels[i]) correct++;
    expect(correct).toBe(Number(classifier.info.metadata.testCorrect));
    expect(correct / test.count).toBe(recorded);
    expect(recorded).toBeGreaterThanOrEqual(0.9);
  });

  it('documents where it came from: the dataset checksums and the training recipe', async () => {
    const { info } = await createClassifier();
    const provenance = JSON.parse(info.metadata.provenance as string);
    expect(provenance.data['t10k-images-idx3-ubyte.gz'].sha256).toBe('5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b');
    expect(Object.keys(provenance.data)).toHaveLength(4);
    expect(provenance.training.epochs).toBeGreaterThan(0);
    expect(info.parameters).toBe(282_186);
  });

  it('classifies photo-like pictures (a test image 10× onto a 600×400 white page, PNG) with crop and auto-invert', async () => {
    const classifier = await createClassifier();
    // The first 20 test images the model gets right on the raw pixels.
    const indices: number[] = [];
    for (let i = 0; indices.length < 20; i++) {
      const [top] = (await classifier.classifyPixels(getImage(test, i), { topK: 1 }))[0] ?? [];
      if (top?.index === test.labels[i]) indices.push(i);
    }
    let correct = 0;
    let uncropped = 0;
    for (const i of indices) {
      const garment = await sharp(Buffer.from(getImage(test, i).map((v) => 255 - v)), { raw: { width: 28, height: 28, channels: 1 } })
        .resize(280, 280, { kernel: 'lanczos3' })
        .png()
        .toBuffer();
      const photo = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#ffffff' } })
        .composite([{ input: garment, left: 200, top: 70 }])
        .png()
        .toBuffer();
      const [top] = await classifier.classify(photo, { topK: 1 });
      if (top?.index === test.labels[i]) correct++;
      const [plain] = await classifier.classify(photo, { topK: 1, crop: false });
      if (plain?.index === test.labels[i]) uncropped++;
    }
    expect(correct).toBeGreaterThanOrEqual(18);
    // Cropping is what makes them work: the whole page shrinks the garment to a third of the frame.
    expect(correct).toBeGreaterThan(uncropped);
  });
});
