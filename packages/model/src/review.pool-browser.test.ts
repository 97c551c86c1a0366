// Review of the browser kernel pools (kernels/pool-browser.ts) with scripted stand-ins for the web workers: what a
// late reply, a malformed reply, a failure while waiting and a dispatch after a failure do, on both transports.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mixerModel } from './kernels/mixer-model';
import { browserWorkerPool, type KernelsWorkerPort } from './kernels/pool-browser';
import { COMMAND, type KernelPool, type ShardRequest } from './kernels/worker-protocol';
import { createModel } from './model';

const BLOCK = 16;
const options = { threads: 2, capacity: 16, maxBatch: 32, blockLength: BLOCK };

/** A web worker stand-in: answers the setup with `ready`, records every shard request; the test sends the replies. */
function scriptedWorker() {
  const requests: ShardRequest[] = [];
  let terminated = false;
  const port: KernelsWorkerPort = {
    onmessage: null,
    onerror: null,
    postMessage(message: unknown) {
      if ((message as { transport?: string }).transport !== undefined) {
        setTimeout(() => port.onmessage?.({ data: { type: 'ready' } } as MessageEvent), 0);
      } else requests.push(message as ShardRequest);
    },
    terminate() {
      terminated = true;
    },
  };
  const reply = (data: unknown) => port.onmessage?.({ data } as MessageEvent);
  const fail = (message: string) => port.onerror?.({ message, preventDefault() {} } as ErrorEvent);
  return { port, requests, reply, fail, terminated: () => terminated };
}

async function startPool(transport: 'message' | 'shared') {
  const worker = scriptedWorker();
  const pool: KernelPool = await browserWorkerPool(() => worker.port, transport)(mixerModel(createModel('patch-mlp').config), options);
  return { pool, worker };
}

const x = new Float32Array(32 * 784);
const y = new Uint8Array(32);
const params = new Float32Array(BLOCK);
const train = (pool: KernelPool) => pool.dispatch(COMMAND.TRAIN, [16, 16], params, x, y, 1 / 32);
const trained = (request: ShardRequest | undefined, value: number) => ({
  type: 'trained',
  // echo the request's sequence number, if the protocol has one
  ...((request as { seq?: number } | undefined)?.seq !== undefined ? { seq: (request as { seq: number }).seq } : {}),
  grads: new Float32Array(BLOCK).fill(value),
  loss: value,
  correct: value,
});

afterEach(() => vi.unstubAllGlobals());

describe('MessageBrowserPool (review)', () => {
  it('a late reply to an earlier command does not complete the current one', async () => {
    const { pool, worker } = await startPool('message');
    train(pool); // a command whose wait was abandoned (the calling thread threw between dispatch and wait)
    train(pool);
    const [first, second] = worker.requests;
    worker.reply(trained(first, 1)); // the first command's reply arrives late
    const seen = pool.wait().then(() => Array.from(pool.shared.grads(1)));
    setTimeout(() => worker.reply(trained(second, 2)), 0);
    expect(await seen).toEqual(new Array(BLOCK).fill(2));
    await pool.close();
  });

  it('a malformed reply (gradients of the wrong length) rejects the wait instead of throwing in the handler and hanging', async () => {
    const { pool, worker } = await startPool('message');
    train(pool);
    const waited = pool.wait();
    const bad = { ...trained(worker.requests[0], 1), grads: new Float32Array(BLOCK + 1) };
    expect(() => worker.reply(bad)).not.toThrow();
    await expect(waited).rejects.toThrow(/kernels web worker 1 failed/);
    await pool.close();
  });

  it('a worker error while waiting rejects the wait; a dispatch after it throws the same error; close terminates', async () => {
    const { pool, worker } = await startPool('message');
    train(pool);
    const waited = pool.wait();
    worker.fail('Uncaught RuntimeError: memory access out of bounds');
    await expect(waited).rejects.toThrow('kernels web worker 1 failed: Uncaught RuntimeError: memory access out of bounds');
    expect(() => train(pool)).toThrow(/kernels web worker 1 failed/);
    await pool.close();
    expect(worker.terminated()).toBe(true);
  });
});

describe('SharedBrowserPool (review)', () => {
  it('a worker error while waiting rejects the wait (the Atomics wait does not hang); close terminates', async () => {
    vi.stubGlobal('crossOriginIsolated', true);
    const { pool, worker } = await startPool('shared');
    expect(train(pool)).toBe(true);
    const waited = pool.wait();
    setTimeout(() => worker.fail('Uncaught RangeError: out of memory'), 0);
    await expect(waited).rejects.toThrow('kernels web worker 1 failed: Uncaught RangeError: out of memory');
    await pool.close();
    expect(worker.terminated()).toBe(true);
  });
});
