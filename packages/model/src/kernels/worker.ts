/**
 * A kernel engine's worker thread (Node `worker_threads`), a module of its own: built to `dist/worker.js` and
 * `dist/worker.cjs` beside the entries, and for runs from the sources to `src/kernels/generated/worker.mjs`
 * (scripts/build-wasm.mjs). The pool starts it by file URL, so no code is ever evaluated from a string.
 *
 * It runs the shared-memory loop of `worker-shard.ts` on the pool's SharedArrayBuffer. An exception ends the worker,
 * which the pool sees as an `error` event.
 * @internal
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sharedViews, type WorkerSetup } from './worker-protocol';
import { createShardRunner, runSharedLoop } from './worker-shard';

const setup = workerData as WorkerSetup;
const shared = sharedViews(setup.sab, setup.layout);
const run = createShardRunner(setup, shared);
parentPort?.postMessage('ready');
runSharedLoop(shared, setup.index, run);
