export { createMixerKernelEngine, type MixerKernelEngineOptions } from './mixer-engine';
