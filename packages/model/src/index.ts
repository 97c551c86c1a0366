/**
 * `@fmnist/model`: the Fashion-MNIST patch-MLP (the coursework's model, reproduced) and MLP-Mixer presets, with a fast
 * trainer — WebAssembly-SIMD kernels over worker threads, or TensorFlow.js on request — and safetensors checkpoints.
 * TensorFlow.js is an optional peer dependency: this entry never imports it unless a TensorFlow.js backend
 * (`tensorflow`, `wasm`, `cpu`) is used; its engines live in `@fmnist/model/tfjs`.
 *
 * @packageDocumentation
 */

export { type BackendName, type TfjsBackendName, tryLoadTfjsNode } from './backend';
export {
  ATOMIC_TEMP_FILE,
  directoryCheckpointStore,
  loadCheckpoint,
  readCheckpointMeta,
  removeStaleTempFiles,
  saveCheckpoint,
  writeFileAtomic,
} from './checkpoint-node';
export * from './core';
export { createEngine, type EngineOptions, kernelsSupport } from './engines';
export { type EvaluateOptions, evaluate } from './evaluate';
// Node's train (any backend, worker threads, checkpointDir), in place of core's kernels-only one.
export { type BatchLogs, type FinalEvaluation, type History, type TrainCallbacks, type TrainOptions, train } from './train';
