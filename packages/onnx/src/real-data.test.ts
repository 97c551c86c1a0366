/**
 * The default preset, really trained: patch-mlp on a 12,800-image subset of the training set for 2 epochs (the full
 * 2-epoch run, ≈ 80 % test accuracy, is measured by `pnpm bench`), saved as a checkpoint, exported from disk with
 * exportOnnxFile, then run by onnxruntime-node: parity with TensorFlow.js on 1,000 test images, batch sizes 1, 7 and
 * 256, and the accuracy of the int8 and fp16 files against fp32 on all 10,000 test images.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLASS_NAMES, FASHION_MNIST_FILES, type LoadResult, loadFashionMnist, normalize, permutation, subset } from '@fmnist/data';
import { createModel, type FmnistModel, type History, train } from '@fmnist/model';
import type * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx } from './export';
import { readOnnxMetadata } from './metadata';
import { exportOnnxFile } from './node';
import { accuracy, argmax, compare, createSession, mismatches, onnxLogits, runOnnx, tfjsLogits } from './test-helpers';

const TRAIN_SUBSET = 12_800;
let dir: string;
let data: LoadResult;
let model: FmnistModel;
let history: History;
let bytes: Uint8Array;
let session: ort.InferenceSession;
let xTest: Float32Array;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-onnx-'));
  data = await loadFashionMnist({ verify: true });
  const trainSubset = subset(data.train, permutation(data.train.count, 1).subarray(0, TRAIN_SUBSET));
  model = createModel('patch-mlp');
  const sha256 = Object.fromEntries(data.files.map((f) => [f.key, f.sha256 as string]));
  history = await train({
    model,
    data: { train: trainSubset, test: data.test },
    epochs: 2,
    seed: 0,
    evalEvery: 2,
    checkpointDir: join(dir, 'checkpoint'),
    dataset: { source: data.source, sha256 },
  });
  const written = await exportOnnxFile(join(dir, 'checkpoint'), join(dir, 'out', 'model.onnx'));
  bytes = new Uint8Array(await readFile(written.path));
  expect(written.bytes).toBe(bytes.length);
  session = await createSession(bytes);
  xTest = normalize(data.test.images);
});

afterAll(async () => {
  await session?.release();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the trained default preset (patch-mlp), exported from its checkpoint', () => {
  it('the checkpoint export equals exporting the model in memory, and its metadata tells the whole story', () => {
    const meta = readOnnxMetadata(bytes);
    const last = history.epochs.at(-1)!;
    expect(meta.preset).toBe('patch-mlp');
    expect(meta.config).toEqual(model.config);
    expect(meta.classNames).toEqual([...CLASS_NAMES]);
    expect(meta.normalization).toBe('unit');
    expect(meta.training).toMatchObject({
      optimizer: 'adam',
      learningRate: 0.001,
      batchSize: 256,
      epochs: 2,
      seed: 0,
      trainExamples: TRAIN_SUBSET,
    });
    expect(meta.metrics).toEqual({
      epoch: 2,
      trainLoss: last.trainLoss,
      trainAccuracy: last.trainAccuracy,
      testLoss: last.testLoss,
      testAccuracy: last.testAccuracy,
    });
    expect(meta.dataset).toEqual({
      name: 'fashion-mnist',
      source: data.source,
      recorded: true,
      sha256: Object.fromEntries(Object.entries(FASHION_MNIST_FILES).map(([k, f]) => [k, f.sha256])),
    });
    expect(meta.trainedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The same weights and config exported from memory give the same graph and weights (only the training record differs).
    const fromMemory = readOnnxMetadata(exportOnnx(model, { history, dataset: { source: data.source, sha256: meta.dataset!.sha256 } }));
    expect(fromMemory.metrics).toEqual(meta.metrics);
    expect(fromMemory.training).toEqual(meta.training);
  });

  it('1,000 test images: logits within 1e-4 of TensorFlow.js and identical argmax; accuracy as trained', async () => {
    const reference = await tfjsLogits(model, xTest, 1000, 500);
    const { logits } = await runOnnx(session, xTest, 1000);
    const { maxDiff, maxAbs } = compare(reference, logits);
    console.log(
      `patch-mlp (trained): max |logit diff| ${maxDiff.toExponential(2)} over 1000 images (largest |logit| ${maxAbs.toFixed(2)})`,
    );
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    expect(mismatches(argmax(reference, 10), argmax(logits, 10))).toBe(0);
    expect(maxAbs).toBeGreaterThan(1); // a trained model, not near-zero logits
  });

  it('the batch dimension is dynamic: batches of 1, 7 and 256 give the rows of the 1,000-image batch', async () => {
    const { logits: all } = await runOnnx(session, xTest, 1000);
    for (const n of [1, 7, 256]) {
      const { logits, probabilities, dims } = await runOnnx(session, xTest, n);
      expect(dims).toEqual([n, 10]);
      expect(probabilities.length).toBe(n * 10);
      expect(compare(all.subarray(0, n * 10), logits).maxDiff).toBeLessThanOrEqual(1e-5);
    }
  });

  it('int8 and fp16 exports lose ≤ 0.5 points of test accuracy on all 10,000 test images; int8 is ≤ 70 KB', async () => {
    const labels = data.test.labels;
    const fp32 = await onnxLogits(session, xTest, 10_000);
    const fp32Accuracy = accuracy(fp32, labels, 10);
    expect(fp32Accuracy).toBeCloseTo(history.epochs.at(-1)!.testAccuracy!, 2);
    const lines = [`fp32 ${bytes.length} B, accuracy ${(fp32Accuracy * 100).toFixed(2)} %`];
    for (const quantize of ['int8', 'fp16'] as const) {
      const q = exportOnnx(model, { quantize });
      const s = await createSession(q);
      const logits = await onnxLogits(s, xTest, 10_000);
      await s.release();
      const acc = accuracy(logits, labels, 10);
      const changed = mismatches(argmax(fp32, 10), argmax(logits, 10));
      lines.push(
        `${quantize} ${q.length} B, accuracy ${(acc * 100).toFixed(2)} % (Δ ${((acc - fp32Accuracy) * 100).toFixed(2)} points, ${changed} predictions changed)`,
      );
      expect(Math.abs(acc - fp32Accuracy)).toBeLessThanOrEqual(0.005);
      if (quantize === 'int8') expect(q.length).toBeLessThanOrEqual(70 * 1024);
      expect(readOnnxMetadata(q).quantization).toBe(quantize);
    }
    console.log(`patch-mlp trained on ${TRAIN_SUBSET} images × 2 epochs:\n  ${lines.join('\n  ')}`);
  });
});
