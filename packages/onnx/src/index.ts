/**
 * `@fmnist/onnx`: exports trained Fashion-MNIST models (`@fmnist/model` presets and checkpoints) to ONNX — float32,
 * int8 or float16 weights — and reads the metadata and the weights back. Pure TypeScript on the official `onnx.proto`
 * schema: this entry has no Node built-ins and runs in browsers. Node adds `exportOnnxFile` (the `node` export
 * condition).
 *
 * @packageDocumentation
 */
export { FmnistOnnxError, type FmnistOnnxErrorCode } from './errors';
export {
  type CheckpointFiles,
  type ExportOnnxOptions,
  type ExportSource,
  exportOnnx,
  INPUT_NAME,
  type ModelSource,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  OUTPUT_NAMES,
} from './export';
export {
  MAX_CLASS_NAME_LENGTH,
  MAX_CLASSES,
  METADATA_KEYS,
  type OnnxDatasetInfo,
  type OnnxInputInfo,
  type OnnxMetadata,
  type OnnxMetrics,
  type OnnxQuantization,
  readOnnxMetadata,
} from './metadata';
export { type OrtTensorModule, toModelInput } from './model-input';
export {
  type CheckOnnxSignatureOptions,
  checkOnnxOutput,
  checkOnnxSignature,
  inputDims,
  type OnnxInputLayout,
  type OnnxSignature,
} from './signature';
export { PRODUCER_NAME, PRODUCER_VERSION } from './version';
export { type OnnxWeights, readOnnxWeights } from './weights';
