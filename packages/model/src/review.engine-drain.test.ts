// Review of the kernel engine (kernels/engine-impl.ts): when the calling thread's own shard throws after the other
// shards were handed to the pool, the engine must wait for those shards before it rejects — else the next command is
// dispatched while the workers still run the old one (shared memory: its inputs overwritten and its DONE count mixed
// into the new command's; messages: its late replies taken for the new command's).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KernelCore } from './kernels/core';
import { startKernelEngine } from './kernels/engine-impl';
import { mixerModel } from './kernels/mixer-model';
import { COMMAND, type KernelPool, type PoolFactory, sharedLayout, sharedViews } from './kernels/worker-protocol';
import { createModel } from './model';

afterEach(() => vi.restoreAllMocks());

/** A pool whose commands finish when the test says so; it logs dispatches and waits in order. */
function scriptedPool() {
  const log: string[] = [];
  let finish: (() => void) | undefined;
  const factory: PoolFactory = async (_model, { threads, maxBatch, blockLength }) => {
    const shared = sharedViews(
      new ArrayBuffer(sharedLayout(blockLength, maxBatch, threads).bytes),
      sharedLayout(blockLength, maxBatch, threads),
    );
    const pool: KernelPool = {
      shared,
      threads,
      failed: undefined,
      dispatch(command) {
        log.push(command === COMMAND.TRAIN ? 'dispatch train' : 'dispatch predict');
        return true;
      },
      wait() {
        log.push('wait');
        return new Promise<void>((resolve) => {
          finish = () => {
            log.push('workers done');
            resolve();
          };
        });
      },
      async close() {
        log.push('close');
      },
    };
    return pool;
  };
  return { factory, log, finish: () => finish?.() };
}

describe('KernelEngine when its own shard throws (review)', () => {
  it('waits for the workers before rejecting, so the next command never overlaps the old one', async () => {
    const model = createModel('patch-mlp');
    const pool = scriptedPool();
    const engine = await startKernelEngine(mixerModel(model.config), {
      threads: 2,
      maxBatch: 32,
      params: model.params,
      pool: pool.factory,
    });
    vi.spyOn(KernelCore.prototype, 'forwardBackward').mockImplementationOnce(() => {
      throw new Error('RuntimeError: memory access out of bounds');
    });
    const x = new Float32Array(32 * 784);
    const y = new Uint8Array(32);
    const step = engine.trainStep(x, y, { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: 1 } as never);
    const outcome = step.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    pool.finish();
    expect(await outcome).toBe('RuntimeError: memory access out of bounds');
    expect(pool.log).toEqual(['dispatch train', 'wait', 'workers done']);
    await engine.dispose();
  });
});
