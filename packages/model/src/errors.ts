import { FmnistError } from '@fmnist/data';

/**
 * Stable codes of {@link FmnistModelError}.
 *
 * | code | meaning |
 * | --- | --- |
 * | `E_CONFIG` | an unknown preset, an invalid model config value, or an invalid optimizer or loss setting (`optimizer.momentum` outside [0, 1), …; the message names the value and its range), or an engine asked to continue another optimizer's state |
 * | `E_CHECKPOINT_MISSING` | no checkpoint at the given path |
 * | `E_CHECKPOINT_CORRUPT` | a checkpoint file that cannot be parsed or breaks its schema (truncated, not safetensors, bad JSON, a field out of range — the message names the file, the field and the value), a non-regular file, or a file reference outside the checkpoint directory |
 * | `E_CHECKPOINT_MISMATCH` | tensors missing, extra, or of the wrong shape for the config |
 * | `E_NON_FINITE` | a checkpoint's weights or optimizer state hold NaN or ±Infinity (the message names the tensor) |
 * | `E_NAN` | the loss became NaN or infinite; training stopped |
 * | `E_BACKEND` | the requested compute backend is unknown or cannot run here (no WebAssembly SIMD, a config it does not support, a native library that does not load) |
 * | `E_BACKEND_UNAVAILABLE` | the requested backend needs an optional peer dependency that is not installed (`@tensorflow/tfjs`, `@tensorflow/tfjs-backend-wasm`, `@tensorflow/tfjs-node`); the message names the package to install |
 */
export type FmnistModelErrorCode =
  | 'E_CONFIG'
  | 'E_CHECKPOINT_MISSING'
  | 'E_CHECKPOINT_CORRUPT'
  | 'E_CHECKPOINT_MISMATCH'
  | 'E_NON_FINITE'
  | 'E_NAN'
  | 'E_BACKEND'
  | 'E_BACKEND_UNAVAILABLE';

/**
 * An error from `@fmnist/model` with a stable `code`; the message names the value or file and the fix.
 *
 * @example
 * ```ts
 * try {
 *   createModel('tiny');
 * } catch (err) {
 *   if (err instanceof FmnistModelError && err.code === 'E_CONFIG') console.error(err.message);
 * }
 * ```
 */
export class FmnistModelError extends FmnistError {
  declare readonly code: FmnistModelErrorCode;

  /**
   * @param code - one of {@link FmnistModelErrorCode}
   * @param message - what went wrong and how to fix it
   * @param options - `cause` of a wrapped error
   */
  constructor(code: FmnistModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'FmnistModelError';
  }
}
