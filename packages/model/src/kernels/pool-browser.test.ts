// The browser pool's start-up: a kernels web worker that never answers its setup (a module that does not call
// runKernelsWorker, or a worker the browser dropped) fails the run with a message saying so, instead of hanging it.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config';
import { mixerModel } from './mixer-model';
import { browserWorkerPool, type KernelsWorkerPort } from './pool-browser';

describe('browserWorkerPool', () => {
  it('rejects with the worker, the wait and the likely fix when a worker never answers, and terminates the workers', async () => {
    const terminated: number[] = [];
    let n = 0;
    const silent = (): KernelsWorkerPort => {
      const id = ++n;
      return { onmessage: null, onerror: null, postMessage() {}, terminate: () => void terminated.push(id) };
    };
    const start = browserWorkerPool(silent, 'message', 50);
    const model = mixerModel(resolveConfig('patch-mlp'));
    await expect(start(model, { threads: 3, capacity: 8, maxBatch: 16, blockLength: 1024 })).rejects.toThrow(
      'kernels web worker 1 failed: no answer within 0.05 s of starting (does its module call runKernelsWorker()?)',
    );
    expect(terminated.sort()).toEqual([1, 2]);
  });
});
