// Inference benchmark of exported models: onnxruntime-node images/s at batch 1, 256 and 1000 with 1 and 2 intra-op
// threads, beside TensorFlow.js (wasm) and the @fmnist/model WebAssembly-SIMD kernels running the same weights in the
// same process; plus file sizes and the test accuracy of the fp32, int8 and fp16 exports on all 10,000 test images.
//
// Usage: pnpm --filter @fmnist/onnx bench [-- --checkpoint DIR] [-- --epochs N] [-- --json]
//   Without --checkpoint, patch-mlp is trained first (2 epochs on the full training set, ≈ 80 % test accuracy).
// Figures are printed, not asserted; other jobs on the machine make them noisy (each is the best of 3 timed rounds).
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadFashionMnist, normalize } from '@fmnist/data';
import { createEngine, createModel, loadCheckpoint, train } from '@fmnist/model';
import * as ort from 'onnxruntime-node';
import { exportOnnx, readOnnxMetadata } from '../dist/node.js';

const { values: args } = parseArgs({
  options: { checkpoint: { type: 'string' }, epochs: { type: 'string', default: '2' }, json: { type: 'boolean', default: false } },
});
const log = (...a) => (args.json ? console.error(...a) : console.log(...a));
const report = { machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavgAtStart: loadavg()[0] }, ort: ort.env.versions.node };

const data = await loadFashionMnist();
const x = normalize(data.test.images);
const labels = data.test.labels;

// 1. A trained default model.
let model;
let source;
if (args.checkpoint) {
  const ckpt = await loadCheckpoint(args.checkpoint);
  model = { config: ckpt.meta.config, preset: ckpt.meta.preset, params: ckpt.params };
  source = ckpt;
  log(`checkpoint ${args.checkpoint}: ${ckpt.meta.preset}, epoch ${ckpt.meta.epoch}`);
} else {
  const dir = await mkdtemp(join(tmpdir(), 'fmnist-onnx-bench-'));
  model = createModel('patch-mlp');
  const t0 = performance.now();
  const history = await train({ model, data: { train: data.train, test: data.test }, epochs: Number(args.epochs), checkpointDir: dir });
  const last = history.epochs.at(-1);
  log(
    `trained patch-mlp: ${args.epochs} epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${history.backend} ×${history.threads}, test accuracy ${(last.testAccuracy * 100).toFixed(2)} %`,
  );
  report.training = { epochs: Number(args.epochs), seconds: (performance.now() - t0) / 1000, testAccuracy: last.testAccuracy };
  source = await loadCheckpoint(dir);
  await rm(dir, { recursive: true, force: true });
}

const argmaxAccuracy = (logits) => {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
};
const sessionOf = (bytes, threads) =>
  ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
async function ortLogits(session) {
  const out = new Float32Array(labels.length * 10);
  for (let i = 0; i < labels.length; i += 1000) {
    const r = await session.run({ image: new ort.Tensor('float32', x.subarray(i * 784, (i + 1000) * 784), [1000, 1, 28, 28]) });
    out.set(r.logits.data, i * 10);
  }
  return out;
}

// 2. Sizes and accuracy of each weight format.
log('\nformat  bytes     test accuracy (10,000 images)');
const files = {};
report.formats = {};
let fp32Accuracy;
for (const quantize of ['none', 'int8', 'fp16']) {
  const bytes = exportOnnx(source, { quantize });
  files[quantize] = bytes;
  const session = await sessionOf(bytes, 2);
  const acc = argmaxAccuracy(await ortLogits(session));
  await session.release();
  fp32Accuracy ??= acc;
  const delta = (acc - fp32Accuracy) * 100;
  report.formats[quantize] = { bytes: bytes.length, accuracy: acc, deltaPoints: delta };
  log(
    `${quantize.padEnd(6)}  ${String(bytes.length).padEnd(8)}  ${(acc * 100).toFixed(2)} %${quantize === 'none' ? '' : `  (Δ ${delta >= 0 ? '+' : ''}${delta.toFixed(2)} points vs fp32)`}`,
  );
}
const meta = readOnnxMetadata(files.none);
log(`metadata: preset ${meta.preset}, recorded test accuracy ${meta.metrics?.testAccuracy}, ${meta.parameters} parameters`);

// 3. Throughput.
const BATCHES = [1, 256, 1000];
const MIN_MS = 1500;
async function throughput(run, batch) {
  const feedsX = x.subarray(0, batch * 784);
  for (let i = 0; i < 3; i++) await run(feedsX, batch);
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let images = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < MIN_MS / 3) {
      await run(feedsX, batch);
      images += batch;
    }
    best = Math.max(best, (images / (performance.now() - t0)) * 1000);
  }
  return best;
}
const rows = [];
for (const quantize of ['none', 'int8']) {
  for (const threads of [1, 2]) {
    const session = await sessionOf(files[quantize], threads);
    const run = (xs, b) => session.run({ image: new ort.Tensor('float32', xs, [b, 1, 28, 28]) });
    const row = { engine: `onnxruntime-node ${quantize === 'none' ? 'fp32' : 'int8'}`, threads };
    for (const b of BATCHES) row[b] = await throughput(run, b);
    await session.release();
    rows.push(row);
  }
}
for (const [backend, threads, label] of [
  ['wasm', 1, 'TensorFlow.js (wasm)'],
  ['kernels', 1, '@fmnist/model kernels'],
  ['kernels', 2, '@fmnist/model kernels'],
]) {
  const engine = await createEngine(model.config, model.params, { backend, threads, maxBatch: 1000 });
  const row = { engine: label, threads };
  for (const b of BATCHES) row[b] = await throughput((xs) => engine.predict(xs), b);
  await engine.dispose();
  rows.push(row);
}
report.throughput = rows;
report.machine.loadavgAtEnd = loadavg()[0];
log(
  `\nimages/s (best of 3 rounds; load average ${report.machine.loadavgAtStart.toFixed(1)} → ${report.machine.loadavgAtEnd.toFixed(1)} on ${cpus().length} cores)`,
);
log(`${'engine'.padEnd(28)}threads  ${BATCHES.map((b) => `batch ${b}`.padStart(11)).join('')}`);
for (const r of rows)
  log(
    `${r.engine.padEnd(28)}${String(r.threads).padEnd(9)}${BATCHES.map((b) => Math.round(r[b]).toLocaleString('en-US').padStart(11)).join('')}`,
  );
if (args.json) console.log(JSON.stringify(report, null, 2));
