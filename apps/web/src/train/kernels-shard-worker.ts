/**
 * A web worker computing one shard of each training batch for the trainer worker: `@fmnist/model`'s own kernels
 * worker (`runKernelsWorker`), over shared memory when the page is cross-origin isolated, by messages otherwise.
 */
import { runKernelsWorker } from '@fmnist/model/core';

runKernelsWorker();
