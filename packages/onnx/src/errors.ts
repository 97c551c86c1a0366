import { FmnistError } from '@fmnist/data';

/**
 * Stable codes of {@link FmnistOnnxError}. They never change meaning between releases.
 *
 * | code | meaning |
 * | --- | --- |
 * | `E_CONFIG` | an unknown preset or an invalid model config (the message lists the choices) |
 * | `E_MISSING_WEIGHTS` | a parameter tensor the config needs is absent (from the params, or from an ONNX file's initializers) |
 * | `E_SHAPE_MISMATCH` | a tensor has the wrong number of values, dims or data type for the config, or does not belong to it |
 * | `E_NON_FINITE` | a parameter holds NaN or ±Infinity, or (for an fp16 export) a value beyond float16's range (the message names the tensor and the index); such a model is not exported |
 * | `E_CHECKPOINT` | checkpoint JSON or safetensors bytes given to the exporter cannot be parsed |
 * | `E_NOT_ONNX` | bytes that are not an ONNX `ModelProto` |
 * | `E_NO_METADATA` | a valid ONNX model that was not written by `@fmnist/onnx` (or whose metadata is damaged: the message names the entry) |
 * | `E_MODEL_SIGNATURE` | the graph's input/outputs are not those of a 28×28 image classifier, or disagree with its metadata (`checkOnnxSignature`) |
 */
export type FmnistOnnxErrorCode =
  | 'E_CONFIG'
  | 'E_MISSING_WEIGHTS'
  | 'E_SHAPE_MISMATCH'
  | 'E_NON_FINITE'
  | 'E_CHECKPOINT'
  | 'E_NOT_ONNX'
  | 'E_NO_METADATA'
  | 'E_MODEL_SIGNATURE';

/**
 * An error from `@fmnist/onnx` with a stable `code`; the message names the input at fault and the fix.
 *
 * @example
 * ```ts
 * try {
 *   exportOnnx({ config: 'tiny', params: {} });
 * } catch (err) {
 *   if (err instanceof FmnistOnnxError && err.code === 'E_CONFIG') console.error(err.message);
 *   // Unknown preset 'tiny'. Choose one of: coursework, patch-mlp, mixer-s, mixer-s7, mixer-s7-long, mixer-m, mixer-l.
 * }
 * ```
 */
export class FmnistOnnxError extends FmnistError {
  declare readonly code: FmnistOnnxErrorCode;

  /**
   * @param code - one of {@link FmnistOnnxErrorCode}
   * @param message - what went wrong and how to fix it
   * @param options - `cause` of a wrapped error
   */
  constructor(code: FmnistOnnxErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'FmnistOnnxError';
  }
}
