import { readFileSync } from 'node:fs';
import { toModelInput } from '@fmnist/classify';
import { type FashionMnistSplit, loadFashionMnist } from '@fmnist/data';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from './engine';
import { predictAll } from './evaluate';
import { createKernelsEngine, type KernelsPort } from './kernels-engine';
import { createKernelsHandler, type KernelsRequest, MIN_SHARD, splitShards } from './kernels-protocol';
import { argmaxRows, scorePredictions } from './metrics';
import { inspectModel, ModelLoadError } from './model-info';
import { rewriteOnnx } from './test-helpers';

const DEFAULT = new Uint8Array(readFileSync(new URL('../public/models/default.onnx', import.meta.url)));
const SIDECAR = JSON.parse(readFileSync(new URL('../public/models/default.json', import.meta.url), 'utf8'));

/**
 * A worker in this thread: the real worker's handler behind a message port, with structured cloning and transfers
 * (a transferred buffer is detached for the sender, as with a real Worker).
 */
function inProcessWorker(log?: KernelsRequest['type'][]): KernelsPort {
  const handle = createKernelsHandler();
  const port: KernelsPort = {
    onmessage: null,
    onerror: null,
    postMessage(message, transfer) {
      log?.push(message.type);
      const copy = structuredClone(message, { transfer });
      void handle(copy).then(({ reply, transfer: back }) => {
        const data = structuredClone(reply, { transfer: back });
        setTimeout(() => port.onmessage?.({ data }), 0);
      });
    },
    terminate() {},
  };
  return port;
}

let test: FashionMnistSplit;
beforeAll(async () => {
  ({ test } = await loadFashionMnist({ download: false }));
}, 60_000);

describe('splitShards', () => {
  it('gives each worker a contiguous share, never below MIN_SHARD images', () => {
    expect(splitShards(500, 2)).toEqual([250, 250]);
    expect(splitShards(501, 2)).toEqual([251, 250]);
    expect(splitShards(500, 3)).toEqual([167, 167, 166]);
    expect(splitShards(1, 4)).toEqual([1]);
    expect(splitShards(2 * MIN_SHARD - 1, 4)).toEqual([2 * MIN_SHARD - 1]);
    expect(splitShards(2 * MIN_SHARD, 4)).toEqual([MIN_SHARD, MIN_SHARD]);
    expect(splitShards(0, 2)).toEqual([]);
  });
});

// Real kernels on the real test set: about 3 s on an idle 2-core machine, several times that while it is busy.
describe('createKernelsEngine', { timeout: 60_000 }, () => {
  const model = inspectModel(DEFAULT, 'default.onnx');
  let engine: Engine;
  beforeAll(async () => {
    engine = await createKernelsEngine(model, { workers: 2, spawn: () => inProcessWorker() });
  }, 60_000);

  it('reproduces the accuracy recorded at training on the real test set', async () => {
    expect(engine.info).toMatchObject({ provider: 'kernels', threads: 2 });
    const { predicted, probabilities } = await predictAll(engine, test.images, 10);
    const { accuracy } = scorePredictions(predicted, test.labels, 10);
    // The default model was trained on the same kernels; its recorded test accuracy (81.79 %) must come back.
    expect(Math.abs(accuracy - SIDECAR.testAccuracy)).toBeLessThanOrEqual(0.0001);
    for (let i = 0; i < 10_000; i += 997) {
      const row = probabilities.subarray(i * 10, i * 10 + 10);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('gives the same probabilities whether a batch is split over workers or not, and leaves the input intact', async () => {
    const x = toModelInput(test.images.subarray(0, 300 * 784));
    const before = x.slice();
    const split = await engine.run(x, 300);
    expect(x).toEqual(before);
    const one = await createKernelsEngine(model, { workers: 1, spawn: () => inProcessWorker() });
    try {
      expect(await one.run(x, 300)).toEqual(split);
      // A single image goes to one worker and matches its row of the batch.
      const first = await one.run(x.subarray(0, 784), 1);
      expect(Array.from(first)).toEqual(Array.from(split.subarray(0, 10)));
      expect(argmaxRows(split, 10)[0]).toBe(argmaxRows(first, 10)[0]);
    } finally {
      await one.dispose();
    }
  });

  it('refuses a file whose weights cannot be read, and a worker that cannot start, with ModelLoadError', async () => {
    const noGraph = { ...model, name: 'broken.onnx', bytes: rewriteOnnx(DEFAULT, { graph: new Uint8Array(0) }) };
    const log: KernelsRequest['type'][] = [];
    const err = await createKernelsEngine(noGraph, { workers: 2, spawn: () => inProcessWorker(log) }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err.code).toBe('E_RUNTIME');
    expect(err.message).toMatch(/fmnist's kernels cannot read the weights of “broken\.onnx” \(.*embed\.weight/);
    expect(log).toEqual([]); // refused before any worker got the model

    const dead: KernelsPort = {
      onmessage: null,
      onerror: null,
      postMessage() {
        setTimeout(() => dead.onerror?.({ message: 'Failed to fetch the worker script' }), 0);
      },
      terminate() {},
    };
    const err2 = await createKernelsEngine(model, { workers: 1, spawn: () => dead }).catch((e) => e);
    expect(err2).toBeInstanceOf(ModelLoadError);
    expect(err2.message).toMatch(/cannot run “default\.onnx” \(a kernels worker failed: Failed to fetch the worker script\)/);
  });

  it('rejects runs after dispose', async () => {
    const e = await createKernelsEngine(model, { workers: 1, spawn: () => inProcessWorker() });
    await e.dispose();
    await expect(e.run(new Float32Array(784), 1)).rejects.toThrow(/disposed/);
  });
});
