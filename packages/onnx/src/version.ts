declare const __FMNIST_ONNX_VERSION__: string | undefined;

/**
 * `producer_name` written into every exported model.
 * @example
 * ```ts
 * readOnnxMetadata(bytes).producerName === PRODUCER_NAME; // true
 * ```
 */
export const PRODUCER_NAME = '@fmnist/onnx';

/**
 * `producer_version`: this package's version (replaced at build time; `0.0.0-dev` when run from source).
 * @example
 * ```ts
 * readOnnxMetadata(bytes).producerVersion === PRODUCER_VERSION; // true
 * ```
 */
export const PRODUCER_VERSION: string = typeof __FMNIST_ONNX_VERSION__ === 'string' ? __FMNIST_ONNX_VERSION__ : '0.0.0-dev';
