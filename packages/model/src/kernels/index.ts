export { createKernelEngine, type KernelEngineOptions } from './kernel-engine';
export { createMixerKernelEngine, type MixerKernelEngineOptions } from './mixer-engine';
export { createParallelKernelEngine, type ParallelKernelEngineOptions } from './parallel-engine';
export { KERNEL_PARAM_SHAPES } from './patch-mlp-model';
