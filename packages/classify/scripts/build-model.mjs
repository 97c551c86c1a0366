#!/usr/bin/env node
// Builds @fmnist/classify's bundled model from a trained checkpoint directory, reproducibly:
//
//   pnpm --filter @fmnist/model build && pnpm --filter @fmnist/classify build   # the script imports the built packages
//   node packages/classify/scripts/build-model.mjs <checkpointDir> [--out packages/classify/model/fmnist-classify.safetensors] [--dir <dataDir>]
//
// 1. loads the checkpoint with @fmnist/model's loadCheckpoint (the format `train({ checkpointDir })` writes: every file
//    checked against its schema, NaN weights refused);
// 2. converts its weights to F16 safetensors (`encodeSafetensors(…, { dtype: 'F16' })`), with the config, the class
//    names and the provenance (checkpoint epoch/step/recipe, the dataset's SHA-256 checksums) in `__metadata__`;
// 3. evaluates the F16 file — read back through @fmnist/classify's own parser, run on the kernels predictor — on the
//    real Fashion-MNIST test set (raw 28×28 images / 255, single pass, no crop, no inversion, no test-time
//    augmentation) and records the measured accuracy in the metadata (`accuracy`, `testCorrect`, `testExamples`);
// 4. writes the file. No timestamps of its own: the same checkpoint and data give the same bytes.
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLASS_NAMES, FASHION_MNIST_FILES, loadFashionMnist, normalize } from '@fmnist/data';
import { createPredictor, encodeSafetensors, loadCheckpoint, paramSpecs, scoreLogits } from '@fmnist/model';
import { parseModelFile } from '../dist/node.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_OUT = join(HERE, '..', 'model', 'fmnist-classify.safetensors');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string', default: DEFAULT_OUT }, dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help || positionals.length !== 1) {
  console.error('usage: node scripts/build-model.mjs <checkpointDir> [--out file.safetensors] [--dir fashion-mnist-dir]');
  process.exit(values.help ? 0 : 2);
}
const checkpointDir = resolve(positionals[0]);

/** Encodes the classifier file; `extra` adds the measured figures. */
function encode(checkpoint, extra = {}) {
  const { meta, params } = checkpoint;
  const tensors = Object.fromEntries(paramSpecs(meta.config).map((s) => [s.name, { shape: s.shape, data: params[s.name] }]));
  const provenance = {
    builtBy: '@fmnist/classify scripts/build-model.mjs',
    checkpoint: { preset: meta.preset, epoch: meta.epoch, step: meta.step, createdAt: meta.createdAt, producer: meta.producer },
    training: meta.training,
    history: meta.history.map((h) => ({ epoch: h.epoch, trainLoss: h.trainLoss, trainAccuracy: h.trainAccuracy })),
    data: Object.fromEntries(Object.values(FASHION_MNIST_FILES).map((f) => [f.name, { sha256: f.sha256, bytes: f.bytes }])),
    dataChecksums: 'SHA-256 of the decompressed IDX content, verified by @fmnist/data when loading',
    evaluation: 'single pass on the 10,000 raw 28×28 test images (pixels / 255), no crop, no inversion, no test-time augmentation',
  };
  return encodeSafetensors(
    tensors,
    {
      format: 'fmnist-classify',
      version: '1',
      layout: 'linear weights are [in, out]: y = x @ W + b; input is the 28×28 image row-major, pixels / 255',
      normalization: 'unit',
      config: JSON.stringify(meta.config),
      ...(meta.preset ? { preset: meta.preset } : {}),
      classNames: JSON.stringify(CLASS_NAMES),
      provenance: JSON.stringify(provenance),
      ...extra,
    },
    { dtype: 'F16' },
  );
}

/** Accuracy of a model file on the test set, through the classifier's own parser and the kernels predictor. */
async function evaluate(bytes, test, name) {
  const model = parseModelFile(bytes, name);
  const predictor = await createPredictor(model);
  const logits = predictor.predict(normalize(test.images, 'unit'), test.count);
  return scoreLogits(logits, test.labels, model.config.numClasses);
}

const checkpoint = await loadCheckpoint(checkpointDir);
console.error(
  `checkpoint ${checkpointDir}: ${checkpoint.meta.preset ?? 'custom'} ${JSON.stringify(checkpoint.meta.config)}, epoch ${checkpoint.meta.epoch}, step ${checkpoint.meta.step}`,
);
const loaded = await loadFashionMnist({ splits: ['test'], dir: values.dir, download: false, verify: true });
const { test } = loaded;
for (const f of loaded.files) {
  if (!f.verified) throw new Error(`${f.location}: its SHA-256 was not verified; refusing to record an accuracy on unverified data.`);
}
console.error(`test set: ${test.count} images from ${loaded.location} (SHA-256 verified)`);

const f32Bytes = (() => {
  const { meta, params } = checkpoint;
  const tensors = Object.fromEntries(paramSpecs(meta.config).map((s) => [s.name, { shape: s.shape, data: params[s.name] }]));
  return encodeSafetensors(tensors, { format: 'fmnist', config: JSON.stringify(meta.config) });
})();
const f32 = await evaluate(f32Bytes, test, 'checkpoint (F32)');
const draft = encode(checkpoint);
const f16 = await evaluate(draft, test, 'F16 draft');
const bytes = encode(checkpoint, {
  accuracy: String(f16.accuracy),
  testCorrect: String(Math.round(f16.accuracy * test.count)),
  testExamples: String(test.count),
  accuracyF32: String(f32.accuracy),
});
// The written file is what is measured: read it back and check once more.
const check = await evaluate(bytes, test, values.out);
if (check.accuracy !== f16.accuracy) throw new Error(`re-evaluation gave ${check.accuracy}, expected ${f16.accuracy}`);
writeFileSync(values.out, bytes);
console.error(
  `F32 accuracy ${(f32.accuracy * 100).toFixed(2)} %, F16 accuracy ${(f16.accuracy * 100).toFixed(2)} % → ${values.out} (${bytes.length} bytes)`,
);
console.log(JSON.stringify({ out: values.out, bytes: bytes.length, accuracy: f16.accuracy, accuracyF32: f32.accuracy }));
