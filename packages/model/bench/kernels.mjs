#!/usr/bin/env node
// Training-step and inference speed of the WebAssembly-SIMD kernel engine (from dist/: run `pnpm --filter @fmnist/model build`).
// usage: node bench/kernels.mjs [--batch 256] [--steps 20] [--threads N] [--model patch-mlp]
//   N defaults to the available parallelism; --model is a preset name or a JSON config, e.g.
//   '{"preset":"mixer-s","channelHidden":256,"blocks":2}'
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { createEngine, initParams, resolveConfig } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '256' },
    steps: { type: 'string', default: '20' },
    threads: { type: 'string' },
    model: { type: 'string', default: 'patch-mlp' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const parallelThreads = Number(values.threads ?? availableParallelism());
const adam = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

// Fixed pseudo-random images (normalised pixel range) and labels.
let seed = 1;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
const x = Float32Array.from({ length: batch * 784 }, () => (rand() - 0.286) / 0.353);
const y = Uint8Array.from({ length: batch }, () => Math.floor(rand() * 10));

const config = resolveConfig(values.model.startsWith('{') ? JSON.parse(values.model) : values.model);
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
console.log(`batch ${batch}, median of ${steps} steps after 3 warm-up steps`);
for (const threads of [...new Set([1, parallelThreads])]) {
  const engine = await createEngine(config, initParams(config), { backend: 'kernels', threads, maxBatch: batch });
  try {
    for (let i = 0; i < 3; i++) await engine.trainStep(x, y, adam);
    const times = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await engine.trainStep(x, y, adam);
      times.push(performance.now() - t0);
    }
    const predictTimes = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await engine.predict(x);
      predictTimes.push(performance.now() - t0);
    }
    const predictPerSecond = Math.round((batch * 1000) / median(predictTimes));
    const ms = median(times);
    const label = `${engine.name}, ${engine.threads} thread${engine.threads > 1 ? 's' : ''}`;
    console.log(
      `${label.padEnd(24)} ${ms.toFixed(1).padStart(7)} ms/step  ${Math.round((batch * 1000) / ms)
        .toString()
        .padStart(6)} images/s  (min ${Math.min(...times).toFixed(1)} ms)  predict ${predictPerSecond.toString().padStart(6)} images/s`,
    );
  } finally {
    await engine.dispose();
  }
}
