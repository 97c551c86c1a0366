// The built package (run `pnpm --filter @fmnist/model build` first): the kernel engines must find their wasm and start
// their workers from the ESM and the CJS bundle, and compute exactly what the sources do. Without dist/ the suite is
// skipped with a printed reason locally, and fails under CI (where `pnpm test` has built it, so a missing bundle is a bug).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ModelConfig, PRESETS } from '../config';
import type { ParamSet, TrainEngine } from '../engine';
import { createMixerKernelEngine } from './mixer-engine';
import { ADAM, randomBatch, randomParams } from './test-utils';

const esmEntry = new URL('../../dist/index.js', import.meta.url);
const cjsEntry = new URL('../../dist/index.cjs', import.meta.url);

/** Why the built bundles cannot be tested, or null when both exist. */
const missingDist = [esmEntry, cjsEntry].filter((u) => !existsSync(u)).map((u) => fileURLToPath(u));
if (missingDist.length > 0) {
  const reason = `${missingDist.join(' and ')} missing: run 'pnpm --filter @fmnist/model build' first`;
  if (process.env.CI && process.env.CI !== 'false') throw new Error(`The dist/ tests cannot run: ${reason}.`);
  console.warn(`\n⚠ SKIPPING the dist/ tests: ${reason}.\n`);
}

type Dist = {
  resolveConfig(preset: string | object): ModelConfig;
  initParams(config: ModelConfig): ParamSet;
  createEngine(config: unknown, params: ParamSet, options: { backend: 'kernels'; threads: number; maxBatch: number }): Promise<TrainEngine>;
};

async function twoStepsAndPredict(engine: TrainEngine) {
  try {
    for (const seed of [1, 2]) {
      const { x, y } = randomBatch(seed, 50);
      await engine.trainStep(x, y, ADAM);
    }
    return { params: engine.getParams(), logits: await engine.predict(randomBatch(3, 40).x) };
  } finally {
    await engine.dispose();
  }
}

describe.skipIf(missingDist.length > 0)('kernel engines from dist/', () => {
  const params = randomParams(11);

  it.each(['esm', 'cjs'])('%s bundle: wasm loads, workers start, results equal the sources', async (format) => {
    const dist: Dist =
      format === 'esm' ? await import(/* @vite-ignore */ esmEntry.href) : createRequire(import.meta.url)(fileURLToPath(cjsEntry));
    const engine = await dist.createEngine(dist.resolveConfig('patch-mlp'), params, { backend: 'kernels', threads: 2, maxBatch: 64 });
    expect(engine.name).toMatch(/^wasm-(relaxed-)?simd$/);
    expect(engine.threads).toBe(2);
    const built = await twoStepsAndPredict(engine);

    const fromSources = await twoStepsAndPredict(
      await createMixerKernelEngine({ config: PRESETS['patch-mlp'], threads: 2, maxBatch: 64, params }),
    );
    expect(built.logits).toEqual(fromSources.logits);
    for (const name of Object.keys(params)) expect(built.params[name], name).toEqual(fromSources.params[name]);
  });

  it.each(['esm', 'cjs'])('%s bundle: a Mixer engine (workers started from dist/worker.*) equals the sources', async (format) => {
    const dist: Dist =
      format === 'esm' ? await import(/* @vite-ignore */ esmEntry.href) : createRequire(import.meta.url)(fileURLToPath(cjsEntry));
    const config = dist.resolveConfig({ preset: 'mixer-s', dim: 32, tokenHidden: 16, channelHidden: 64, blocks: 2 });
    const mixerParams = dist.initParams(config);
    const engine = await dist.createEngine(config, mixerParams, { backend: 'kernels', threads: 2, maxBatch: 64 });
    expect(engine.threads).toBe(2);
    const built = await twoStepsAndPredict(engine);
    const fromSources = await twoStepsAndPredict(await createMixerKernelEngine({ config, threads: 2, maxBatch: 64, params: mixerParams }));
    expect(built.logits).toEqual(fromSources.logits);
    for (const name of Object.keys(mixerParams)) expect(built.params[name], name).toEqual(fromSources.params[name]);
  });
});

describe.skipIf(missingDist.length > 0)('kernel engines in a plain Node process', () => {
  it('a script that trains and disposes exits with code 0 (no unsettled await when workers are idle)', async () => {
    const { execFileSync } = await import('node:child_process');
    const fixture = fileURLToPath(new URL('./fixtures/train-and-exit.mjs', import.meta.url));
    const out = execFileSync(process.execPath, [fixture, esmEntry.href], { encoding: 'utf8' });
    expect(out.trim()).toBe('done true');
  });
});
