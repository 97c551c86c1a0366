import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config';
import { createEngine } from './engines';
import { initParams } from './model';
import { tryLoadTfjsNode, useTfjsBackend } from './tfjs-backend';

const tfjsNodeInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

describe('useTfjsBackend', () => {
  it.skipIf(tfjsNodeInstalled)("names @tensorflow/tfjs-node when 'tensorflow' is asked for and it is not installed", async () => {
    expect(await tryLoadTfjsNode()).toBe(false);
    const err = await useTfjsBackend('tensorflow').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' });
    expect((err as Error).message).toContain("backend 'tensorflow' needs @tensorflow/tfjs-node, which is not installed");
    expect((err as Error).message).toContain('npm install @tensorflow/tfjs-node');
  });
  if (tfjsNodeInstalled) console.log('skipped the missing-tfjs-node case: @tensorflow/tfjs-node is installed here');

  it("falls back past a missing tfjs-node on 'auto'", async () => {
    expect(await useTfjsBackend('auto')).toBe(tfjsNodeInstalled ? 'tensorflow' : 'wasm');
  });
});

describe('createEngine with a TensorFlow.js backend', () => {
  it('loads the tfjs entry on demand and runs the model on it', async () => {
    const config = resolveConfig('patch-mlp');
    const engine = await createEngine(config, initParams(config), { backend: 'cpu' });
    try {
      expect(engine.name).toBe('tfjs-cpu');
      expect((await engine.predict(new Float32Array(2 * 784))).length).toBe(20);
    } finally {
      await engine.dispose();
    }
  });

  it("picks TensorFlow.js on 'auto' for a config the kernels cannot run", async () => {
    const config = resolveConfig({ preset: 'patch-mlp', numClasses: 5 });
    const engine = await createEngine(config, initParams(config));
    try {
      expect(engine.name).toMatch(/^tfjs-(tensorflow|wasm|cpu)$/);
      expect((await engine.predict(new Float32Array(784))).length).toBe(5);
    } finally {
      await engine.dispose();
    }
  });
});
