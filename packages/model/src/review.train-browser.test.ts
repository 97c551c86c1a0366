// Review of core's train (train-browser.ts, train-run.ts): a checkpoint store that fails mid-run, and what is left —
// the error, the model's weights, the kernels workers (terminated), the store's previous checkpoint.
import { describe, expect, it } from 'vitest';
import { type CheckpointStore, memoryCheckpointStore } from './checkpoint-store';
import * as core from './core';
import { synthetic } from './fixtures/synthetic';
import type { KernelsWorkerPort } from './kernels/pool-browser';
import { runKernelsWorker } from './kernels/worker-browser';
import { createModel } from './model';

const bytes = (params: Record<string, Float32Array>) =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')]));
const data = { train: synthetic(200, 1), test: synthetic(50, 2) };

/** `runKernelsWorker` behind an in-process channel, counting live workers. */
function workers() {
  let live = 0;
  const spawn = (): KernelsWorkerPort => {
    let terminated = false;
    live++;
    const scope = {
      onmessage: null as ((event: MessageEvent) => void) | null,
      postMessage(message: unknown) {
        setTimeout(() => !terminated && port.onmessage?.({ data: message } as MessageEvent), 0);
      },
    };
    const port: KernelsWorkerPort = {
      onmessage: null,
      onerror: null,
      postMessage(message: unknown) {
        setTimeout(() => !terminated && scope.onmessage?.({ data: message } as MessageEvent), 0);
      },
      terminate() {
        if (!terminated) live--;
        terminated = true;
      },
    };
    runKernelsWorker(scope);
    return port;
  };
  return { spawn, live: () => live };
}

describe("core's train when the checkpoint store fails (review)", () => {
  it('rejects with the store error, keeps the last epoch in the model and the store, and terminates the workers', async () => {
    const memory = memoryCheckpointStore('idb');
    let saves = 0;
    const store: CheckpointStore = {
      location: memory.location,
      load: () => memory.load(),
      async save(checkpoint) {
        if (++saves === 2) throw new Error('QuotaExceededError: the site storage is full');
        return memory.save(checkpoint);
      },
    };
    const pool = workers();
    const model = createModel('patch-mlp');
    await expect(
      core.train({
        model,
        data,
        epochs: 3,
        batchSize: 50,
        threads: 2,
        kernels: { spawn: pool.spawn, transport: 'message' },
        checkpointStore: store,
      }),
    ).rejects.toThrow('QuotaExceededError: the site storage is full');
    expect(pool.live()).toBe(0);
    const kept = await memory.load();
    expect(kept?.meta.epoch).toBe(1);
    // the model holds the last epoch that completed (epoch 2, whose save failed): one epoch ahead of the store
    const two = createModel('patch-mlp');
    await core.train({ model: two, data, epochs: 2, batchSize: 50, threads: 2, kernels: { spawn: pool.spawn, transport: 'message' } });
    expect(bytes(model.params)).toEqual(bytes(two.params));
    expect(pool.live()).toBe(0);
  });

  it('a pause (abort) or a worker failure also leaves no kernels worker running', async () => {
    const pool = workers();
    const controller = new AbortController();
    const paused = await core.train({
      model: createModel('patch-mlp'),
      data,
      epochs: 2,
      batchSize: 50,
      threads: 3,
      kernels: { spawn: pool.spawn, transport: 'message' },
      checkpointStore: memoryCheckpointStore(),
      signal: controller.signal,
      callbacks: { onBatchEnd: (b) => (b.batch === 2 ? controller.abort() : undefined) },
    });
    expect(paused.stopReason).toBe('aborted');
    expect(pool.live()).toBe(0);
    // a failing callback (what the trainer worker's hooks could throw) rejects the run; the workers are stopped too
    await expect(
      core.train({
        model: createModel('patch-mlp'),
        data,
        epochs: 1,
        batchSize: 50,
        threads: 3,
        kernels: { spawn: pool.spawn, transport: 'message' },
        callbacks: {
          onBatchEnd() {
            throw new Error('postMessage failed');
          },
        },
      }),
    ).rejects.toThrow('postMessage failed');
    expect(pool.live()).toBe(0);
  });
});
