/**
 * `@fmnist/model/core`: the browser-safe part of `@fmnist/model` — configs and presets, parameter layout, model
 * creation, safetensors and checkpoint parsing, and the trainer on the WebAssembly-SIMD kernels (`train`, with web
 * workers and any checkpoint store). No TensorFlow.js, no Node built-ins (the ONNX exporter and the web app use this).
 *
 * @packageDocumentation
 */
export {
  CHECKPOINT_FILE_NAME,
  CHECKPOINT_SCHEMA,
  type Checkpoint,
  type CheckpointMeta,
  checkFinite,
  decodeOptimizer,
  decodeWeights,
  type EpochRecord,
  encodeOptimizer,
  encodeWeights,
  parseMeta,
  type ResumePoint,
  type StoredCheckpointMeta,
  type TrainingRecord,
} from './checkpoint';
export {
  CHECKPOINT_FILES,
  type CheckpointStore,
  checkpointFiles,
  checkpointFromFiles,
  memoryCheckpointStore,
} from './checkpoint-store';
export {
  type Activation,
  canonicalPresetName,
  countParameters,
  DEFAULT_PRESET,
  IMAGE_SIZE,
  type InitConfig,
  type ModelConfig,
  numPatches,
  type ParamSpec,
  PRESET_ALIASES,
  PRESET_NAMES_AND_ALIASES,
  PRESETS,
  type PresetAlias,
  type PresetName,
  paramSpecs,
  resolveConfig,
  TRAINING_RECIPES,
  type TrainingRecipe,
  validateConfig,
} from './config';
export {
  type AdamOptions,
  type AdamState,
  type LossOptions,
  OPTIMIZER_SLOTS,
  type OptimizerKind,
  type OptimizerState,
  type ParamSet,
  type SgdOptions,
  type StepResult,
  type TrainEngine,
  type UpdateOptions,
} from './engine';
export { FmnistModelError, type FmnistModelErrorCode } from './errors';
export type { KernelsTransport, KernelsWorkerPort, SpawnKernelsWorker } from './kernels/pool-browser';
export { type KernelsWorkerScope, runKernelsWorker } from './kernels/worker-browser';
export { checkParams, cloneParams, createModel, type FmnistModel, initParams, modelFromParams } from './model';
export type { OptimizerOptions, OptimizerRecord } from './optimizer';
export { createPredictor, type Predictor, type PredictorOptions } from './predictor';
export {
  decodeSafetensors,
  type EncodeSafetensorsOptions,
  encodeSafetensors,
  SAFETENSORS_HEADER_SCHEMA,
  type SafeTensor,
  type SafetensorsDtype,
} from './safetensors';
export {
  checkSchema,
  describeSchema,
  formatViolation,
  listSchemaDamage,
  type Schema,
  type SchemaDamage,
  type SchemaViolation,
  s as schema,
  showValue,
} from './schema';
export { type Evaluation, flipAveragedLogits, scoreLogits } from './score';
export type { BatchLogs, FinalEvaluation, History, TrainCallbacks, TrainOptions } from './train';
export { train } from './train-browser';
