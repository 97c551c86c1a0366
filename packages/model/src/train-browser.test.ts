// `train` of `@fmnist/model/core` (the browser's trainer), run here in Node: its web workers are stood in for by the
// real worker code (`runKernelsWorker`) behind in-process message ports (transport `message`) or inside Node worker
// threads (transport `shared`, blocking on Atomics like a web worker does). Its results must equal Node's `train` bit
// for bit, and its checkpoints (any store) must resume exactly.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkpointFiles, checkpointFromFiles, memoryCheckpointStore } from './checkpoint-store';
import * as core from './core';
import type { ParamSet } from './engine';
import { synthetic } from './fixtures/synthetic';
import type { KernelsWorkerPort } from './kernels/pool-browser';
import { runKernelsWorker } from './kernels/worker-browser';
import { createModel } from './model';
import { train } from './train';

const data = { train: synthetic(300, 1), test: synthetic(100, 2) };
const recipe = { epochs: 2, batchSize: 32, learningRate: 1e-2, seed: 5, augment: { shift: 1, flip: true } } as const;

/** A web worker stand-in: `runKernelsWorker` on the other end of an in-process message channel. */
function inProcessWorker(opts: { failOnRequest?: boolean } = {}): KernelsWorkerPort {
  let terminated = false;
  const scope = {
    onmessage: null as ((event: MessageEvent) => void) | null,
    postMessage(message: unknown) {
      setTimeout(() => !terminated && port.onmessage?.({ data: message } as MessageEvent), 0);
    },
  };
  let requests = 0;
  const port: KernelsWorkerPort = {
    onmessage: null,
    onerror: null,
    postMessage(message: unknown) {
      if (opts.failOnRequest && requests++ > 0) {
        setTimeout(() => port.onerror?.({ message: 'out of memory', preventDefault() {} } as ErrorEvent), 0);
        return;
      }
      setTimeout(() => !terminated && scope.onmessage?.({ data: message } as MessageEvent), 0);
    },
    terminate() {
      terminated = true;
    },
  };
  runKernelsWorker(scope);
  return port;
}

/** `runKernelsWorker` bundled for a Node worker thread whose parentPort plays the web worker's scope. */
let threadWorkerFile: string;
let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'fmnist-browser-train-'));
  const entry = join(workDir, 'entry.ts');
  await writeFile(
    entry,
    `import { parentPort } from 'node:worker_threads';
import { runKernelsWorker } from ${JSON.stringify(fileURLToPath(new URL('./kernels/worker-browser.ts', import.meta.url)))};
const scope = { onmessage: null, postMessage: (m, t) => parentPort.postMessage(m, t) };
parentPort.on('message', (data) => scope.onmessage?.({ data }));
runKernelsWorker(scope);
`,
  );
  threadWorkerFile = join(workDir, 'kernels-worker.mjs');
  await build({ entryPoints: [entry], outfile: threadWorkerFile, bundle: true, format: 'esm', platform: 'node', logLevel: 'silent' });
});
afterAll(() => rm(workDir, { recursive: true, force: true }));
afterEach(() => vi.unstubAllGlobals());

const threadWorkers: Worker[] = [];
afterEach(async () => {
  await Promise.all(threadWorkers.splice(0).map((w) => w.terminate()));
});

/** A web worker stand-in on a real thread (so the shared transport's blocking Atomics loop can run). */
function threadWorker(): KernelsWorkerPort {
  const worker = new Worker(threadWorkerFile);
  threadWorkers.push(worker);
  worker.unref();
  let onmessage: KernelsWorkerPort['onmessage'] = null;
  let onerror: KernelsWorkerPort['onerror'] = null;
  worker.on('message', (data) => onmessage?.({ data } as MessageEvent));
  worker.on('error', (err) => onerror?.({ message: err.message, preventDefault() {} } as ErrorEvent));
  return {
    postMessage: (message, transfer) => worker.postMessage(message, transfer as never),
    get onmessage() {
      return onmessage;
    },
    set onmessage(h) {
      onmessage = h;
    },
    get onerror() {
      return onerror;
    },
    set onerror(h) {
      onerror = h;
    },
    terminate: () => void worker.terminate(),
  };
}

const bytesOf = (params: ParamSet) =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')]));

describe("core's train (the browser's trainer)", () => {
  let nodeParams: ParamSet;
  let nodeLosses: number[];
  beforeAll(async () => {
    const model = createModel('patch-mlp');
    const history = await train({ model, data, ...recipe, threads: 2 });
    nodeParams = model.params;
    nodeLosses = history.loss;
    expect(history.threads).toBe(2);
  });

  it("over message-passing workers gives the same parameters as Node's train, bit for bit", async () => {
    const model = createModel('patch-mlp');
    const history = await core.train({
      model,
      data,
      ...recipe,
      threads: 2,
      kernels: { spawn: () => inProcessWorker(), transport: 'message' },
    });
    expect(history.threads).toBe(2);
    expect(history.loss).toEqual(nodeLosses);
    expect(bytesOf(model.params)).toEqual(bytesOf(nodeParams));
    expect(history.finalEvaluation?.accuracy).toBe(history.epochs.at(-1)?.testAccuracy);
  });

  it('over shared memory (a cross-origin isolated page) gives the same bits too', async () => {
    vi.stubGlobal('crossOriginIsolated', true);
    const model = createModel('patch-mlp');
    const history = await core.train({ model, data, ...recipe, threads: 2, kernels: { spawn: threadWorker } });
    expect(history.threads).toBe(2);
    expect(bytesOf(model.params)).toEqual(bytesOf(nodeParams));
  });

  it('`auto` picks messages on a page that is not isolated, and `shared` there is E_BACKEND naming the headers', async () => {
    const spawn = vi.fn(() => inProcessWorker());
    const model = createModel('patch-mlp');
    await core.train({ model, data, ...recipe, epochs: 1, threads: 2, kernels: { spawn } });
    expect(spawn).toHaveBeenCalledTimes(1);
    await expect(core.train({ model, data, ...recipe, threads: 2, kernels: { spawn, transport: 'shared' } })).rejects.toMatchObject({
      code: 'E_BACKEND',
      message: expect.stringMatching(/cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*require-corp/),
    });
  });

  it('pauses (abort) mid-epoch into a memory store and resumes to the same bits as an uninterrupted run', async () => {
    const store = memoryCheckpointStore('test-store');
    const controller = new AbortController();
    const spawn = () => inProcessWorker();
    const first = createModel('patch-mlp');
    const stopped = await core.train({
      model: first,
      data,
      ...recipe,
      threads: 2,
      kernels: { spawn },
      checkpointStore: store,
      signal: controller.signal,
      callbacks: { onBatchEnd: (b) => (b.epoch === 2 && b.batch === 4 ? controller.abort() : undefined) },
    });
    expect(stopped.stopReason).toBe('aborted');
    expect([...store.files.keys()].sort()).toEqual([
      'checkpoint.json',
      'model.safetensors',
      'model.step14.safetensors',
      'optimizer.step14.safetensors',
    ]);
    const second = createModel('patch-mlp');
    const resumed = await core.train({
      model: second,
      data,
      ...recipe,
      threads: 2,
      kernels: { spawn },
      checkpointStore: store,
      resume: true,
    });
    expect(resumed.stopReason).toBe('completed');
    expect(bytesOf(second.params)).toEqual(bytesOf(nodeParams));
    expect(resumed.loss).toEqual(nodeLosses);
  });

  it('refuses what needs Node: a checkpointDir or a TensorFlow.js backend (E_BACKEND), threads > 1 without workers', async () => {
    const model = createModel('patch-mlp');
    await expect(core.train({ model, data, epochs: 1, checkpointDir: '/tmp/x' })).rejects.toMatchObject({
      code: 'E_BACKEND',
      message: expect.stringContaining("pass a 'checkpointStore'"),
    });
    await expect(core.train({ model, data, epochs: 1, backend: 'wasm' })).rejects.toMatchObject({
      code: 'E_BACKEND',
      message: expect.stringContaining("import { train } from '@fmnist/model'"),
    });
    await expect(core.train({ model, data, epochs: 1, threads: 2 })).rejects.toThrow(/threads 2 needs a pool of workers/);
    await expect(core.train({ model, data, epochs: 1, threads: 0 })).rejects.toThrow(/threads must be a positive integer, got 0/);
    await expect(core.train({ model, data, epochs: 1, resume: true })).rejects.toThrow(
      /'resume' needs 'checkpointDir' or 'checkpointStore'/,
    );
  });

  it('resume from an empty store is E_CHECKPOINT_MISSING naming the store', async () => {
    const model = createModel('patch-mlp');
    await expect(
      core.train({ model, data, epochs: 1, checkpointStore: memoryCheckpointStore('idb:run-7'), resume: true }),
    ).rejects.toMatchObject({
      code: 'E_CHECKPOINT_MISSING',
      message: expect.stringMatching(/^idb:run-7: no such checkpoint to resume/),
    });
  });

  it('a worker that fails mid-run rejects the run with its message, and the model keeps its last good weights', async () => {
    const model = createModel('patch-mlp');
    const before = bytesOf(model.params);
    await expect(
      core.train({
        model,
        data,
        ...recipe,
        threads: 2,
        kernels: { spawn: () => inProcessWorker({ failOnRequest: true }), transport: 'message' },
      }),
    ).rejects.toThrow(/kernels web worker 1 failed: out of memory/);
    expect(bytesOf(model.params)).toEqual(before);
  });

  it('a worker that cannot start (bad module URL) rejects with a message saying so', async () => {
    const broken = (): KernelsWorkerPort => {
      const port: KernelsWorkerPort = {
        onmessage: null,
        onerror: null,
        postMessage() {
          setTimeout(() => port.onerror?.({ message: '', preventDefault() {} } as ErrorEvent), 0);
        },
        terminate() {},
      };
      return port;
    };
    const model = createModel('patch-mlp');
    await expect(core.train({ model, data, epochs: 1, threads: 2, kernels: { spawn: broken } })).rejects.toThrow(
      /kernels web worker 1 failed: it could not start \(is its module URL right\?\)/,
    );
  });
});

describe('checkpoint files (what every store holds)', () => {
  const checkpointOf = async () => {
    const store = memoryCheckpointStore();
    await core.train({ model: createModel('patch-mlp'), data, epochs: 1, batchSize: 100, checkpointStore: store });
    return { store, checkpoint: (await store.load())! };
  };

  it('are the files of a Node checkpoint directory, and read back to the same checkpoint', async () => {
    const { checkpoint } = await checkpointOf();
    const files = checkpointFiles(checkpoint);
    expect(files.map(([name]) => name)).toEqual([
      'model.step3.safetensors',
      'optimizer.step3.safetensors',
      'checkpoint.json',
      'model.safetensors',
    ]);
    const back = await checkpointFromFiles(new Map(files), 'download');
    expect(back.meta).toEqual(checkpoint.meta);
    expect(bytesOf(back.params)).toEqual(bytesOf(checkpoint.params));
    expect(back.optimizer?.step).toBe(3);
    // a plain object works as well as a Map
    expect((await checkpointFromFiles(Object.fromEntries(files), 'download')).meta.epoch).toBe(1);
  });

  it('refuse a missing checkpoint.json, a missing tensor file, and files from two checkpoints', async () => {
    const { checkpoint } = await checkpointOf();
    const files = new Map(checkpointFiles(checkpoint));
    await expect(checkpointFromFiles(new Map(), 'zip')).rejects.toMatchObject({
      code: 'E_CHECKPOINT_MISSING',
      message: 'zip/checkpoint.json: missing; zip holds no checkpoint.',
    });
    const noOptimizer = new Map(files);
    noOptimizer.delete('optimizer.step3.safetensors');
    await expect(checkpointFromFiles(noOptimizer, 'zip')).rejects.toMatchObject({
      code: 'E_CHECKPOINT_MISSING',
      message: expect.stringMatching(/^zip\/optimizer\.step3\.safetensors: missing/),
    });
    const mixed = new Map(files);
    const later = checkpointFiles({
      ...checkpoint,
      meta: { ...checkpoint.meta, step: 4 },
      optimizer: { ...checkpoint.optimizer!, step: 4 },
    });
    mixed.set('optimizer.step3.safetensors', later.find(([n]) => n === 'optimizer.step4.safetensors')![1]);
    await expect(checkpointFromFiles(mixed, 'zip')).rejects.toMatchObject({
      code: 'E_CHECKPOINT_CORRUPT',
      message: expect.stringContaining("field 'step' is 3, but zip/optimizer.step3.safetensors was saved at step 4"),
    });
    const garbage = new Map(files);
    garbage.set('checkpoint.json', new TextEncoder().encode('{"format":"fmnist-checkpoint","version":1}'));
    await expect(checkpointFromFiles(garbage, 'zip')).rejects.toMatchObject({ code: 'E_CHECKPOINT_CORRUPT' });
    // a name that is not in the map (e.g. "__proto__") is missing, not an inherited property
    const proto = { ...Object.fromEntries(files) } as Record<string, Uint8Array>;
    const meta = JSON.parse(new TextDecoder().decode(proto['checkpoint.json']));
    meta.files.weights = 'constructor';
    proto['checkpoint.json'] = new TextEncoder().encode(JSON.stringify(meta));
    await expect(checkpointFromFiles(proto, 'zip')).rejects.toMatchObject({
      code: 'E_CHECKPOINT_MISSING',
      message: expect.stringMatching(/^zip\/constructor: missing/),
    });
  });

  it('a memory store keeps the previous checkpoint whole when a save fails', async () => {
    const { store, checkpoint } = await checkpointOf();
    const before = new Map(store.files);
    await expect(store.save({ ...checkpoint, params: {} })).rejects.toThrow();
    expect(store.files).toEqual(before);
  });
});
