/**
 * `@fmnist/model`: the Fashion-MNIST patch-MLP (the coursework's model, reproduced) and MLP-Mixer presets, with a fast
 * trainer — WebAssembly-SIMD kernels over worker threads, or TensorFlow.js (`tfjs-node` when installed, else wasm,
 * else cpu) — and safetensors checkpoints.
 *
 * @packageDocumentation
 */

export { type BackendName, type TfjsBackendName, tryLoadTfjsNode, useTfjsBackend } from './backend';
export {
  ATOMIC_TEMP_FILE,
  CHECKPOINT_FILES,
  loadCheckpoint,
  readCheckpointMeta,
  removeStaleTempFiles,
  saveCheckpoint,
  writeFileAtomic,
} from './checkpoint-node';
export * from './core';
export { createEngine, type EngineOptions, kernelsSupport } from './engines';
export { createTfjsForward } from './tfjs-engine';
export {
  type BatchLogs,
  type EvaluateOptions,
  evaluate,
  type History,
  type TrainCallbacks,
  type TrainOptions,
  train,
} from './train';
