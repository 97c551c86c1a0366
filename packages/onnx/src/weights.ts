import type { ModelConfig, ParamSet, ParamSpec } from '@fmnist/model/core';
import { paramSpecs } from '@fmnist/model/core';
import { FmnistOnnxError } from './errors';
import { type TensorProto, TensorProto_DataLocation, TensorProto_DataType } from './gen/onnx_pb';
import { fromHalfBits } from './half';
import { decodeModel, metadataFromModel, type OnnxMetadata, type OnnxQuantization } from './metadata';

/** A model's config and float32 parameters, read back from an ONNX file written by `@fmnist/onnx`. */
export interface OnnxWeights {
  /** The full model config, from the file's metadata. */
  config: ModelConfig;
  /**
   * One Float32Array per tensor of `paramSpecs(config)`, in that order (Linear weights `[in, out]`): ready for
   * `modelFromParams`, `createEngine`, `train` or `exportOnnx`. fp16 and int8 weights come back as the float32 values
   * the ONNX graph computes with (after its `Cast` / `DequantizeLinear`).
   */
  params: ParamSet;
  /** How the weights were stored: `none` (float32, read back bit for bit), `fp16` or `int8`. */
  quantization: OnnxQuantization;
  /** Everything {@link readOnnxMetadata} returns. */
  metadata: OnnxMetadata;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What the reader needs to find and name initializers. */
interface Source {
  initializers: Map<string, TensorProto>;
  /** The graph name, e.g. `fmnist_patch_mlp`. */
  modelName: string;
  quantization: OnnxQuantization;
}

const FIX = 're-export the checkpoint with `fmnist export` (or exportOnnx)';
const typeName = (dataType: number) => TensorProto_DataType[dataType] ?? `data type ${dataType}`;
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The initializer `name` (the storage of parameter `spec`), or `E_MISSING_WEIGHTS`. */
function find(src: Source, name: string, spec: ParamSpec, dataType: TensorProto_DataType, shape: number[]): TensorProto {
  const tensor = src.initializers.get(name);
  if (!tensor) {
    const of = name === spec.name ? '' : ` (the storage of parameter '${spec.name}')`;
    throw new FmnistOnnxError(
      'E_MISSING_WEIGHTS',
      `ONNX model '${src.modelName}' (quantization ${src.quantization}) has no initializer '${name}'${of}, ${typeName(dataType)} [${shape.join(', ')}]; ${FIX}.`,
    );
  }
  const dims = tensor.dims.map(Number);
  if (dims.length !== shape.length || dims.some((d, i) => d !== shape[i])) {
    throw new FmnistOnnxError(
      'E_SHAPE_MISMATCH',
      `Initializer '${name}' of ONNX model '${src.modelName}' has dims [${dims.join(', ')}] where its config needs [${shape.join(', ')}]; ${FIX}.`,
    );
  }
  if (tensor.dataType !== dataType) {
    throw new FmnistOnnxError(
      'E_SHAPE_MISMATCH',
      `Initializer '${name}' of ONNX model '${src.modelName}' is ${typeName(tensor.dataType)} where quantization ${src.quantization} stores ${typeName(dataType)}; ${FIX}.`,
    );
  }
  if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw new FmnistOnnxError(
      'E_MISSING_WEIGHTS',
      `Initializer '${name}' of ONNX model '${src.modelName}' keeps its values in an external file, which readOnnxWeights cannot open; ${FIX}, which writes one self-contained file.`,
    );
  }
  return tensor;
}

/** `E_SHAPE_MISMATCH` for a tensor whose stored values do not fill its dims (`got`: e.g. `10 bytes of raw_data`). */
function wrongCount(src: Source, tensor: TensorProto, got: string, expected: number): FmnistOnnxError {
  return new FmnistOnnxError(
    'E_SHAPE_MISMATCH',
    `Initializer '${tensor.name}' of ONNX model '${src.modelName}' holds ${got} where its dims [${tensor.dims.join(', ')}] need ${expected} values; ${FIX}.`,
  );
}

/** A copy of little-endian `raw_data` in host byte order, aligned for a typed array of `width`-byte elements. */
function hostOrder(raw: Uint8Array, width: number): ArrayBuffer {
  const bytes = new Uint8Array(raw); // a copy: the decoded bytes are a view into the file, at any offset (and a Buffer's slice() is a view too)
  if (!LITTLE_ENDIAN && width > 1) for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  return bytes.buffer;
}

/**
 * The values of a FLOAT initializer: `raw_data` (little-endian, copied bit for bit) or `float_data`. As the ONNX spec
 * says, a tensor stores its values in `raw_data` when that is set, else in the field of its type.
 */
function float32Values(src: Source, tensor: TensorProto, n: number): Float32Array {
  if (tensor.rawData.length > 0) {
    if (tensor.rawData.length !== n * 4) throw wrongCount(src, tensor, `${tensor.rawData.length} bytes of raw_data`, n);
    return new Float32Array(hostOrder(tensor.rawData, 4));
  }
  if (tensor.floatData.length !== n) throw wrongCount(src, tensor, `${tensor.floatData.length} values in float_data`, n);
  return Float32Array.from(tensor.floatData);
}

/** The values of a FLOAT16 initializer as float32: `raw_data` (binary16, little-endian) or `int32_data` (one per value). */
function float16Values(src: Source, tensor: TensorProto, n: number): Float32Array {
  let bits: ArrayLike<number>;
  if (tensor.rawData.length > 0) {
    if (tensor.rawData.length !== n * 2) throw wrongCount(src, tensor, `${tensor.rawData.length} bytes of raw_data`, n);
    bits = new Uint16Array(hostOrder(tensor.rawData, 2));
  } else {
    if (tensor.int32Data.length !== n) throw wrongCount(src, tensor, `${tensor.int32Data.length} values in int32_data`, n);
    bits = tensor.int32Data;
  }
  const out = new Float32Array(n);
  // Every binary16 value is exact in float32: this equals onnxruntime's Cast to float.
  for (let i = 0; i < n; i++) out[i] = fromHalfBits((bits[i] as number) & 0xffff);
  return out;
}

/** The values of an INT8 initializer: `raw_data` (one byte each) or `int32_data` (one per value). */
function int8Values(src: Source, tensor: TensorProto, n: number): Int8Array {
  if (tensor.rawData.length > 0) {
    if (tensor.rawData.length !== n) throw wrongCount(src, tensor, `${tensor.rawData.length} bytes of raw_data`, n);
    return new Int8Array(hostOrder(tensor.rawData, 1));
  }
  if (tensor.int32Data.length !== n) throw wrongCount(src, tensor, `${tensor.int32Data.length} values in int32_data`, n);
  return Int8Array.from(tensor.int32Data);
}

/** One parameter as float32, from the initializers its quantization wrote. */
function readParam(src: Source, spec: ParamSpec): Float32Array {
  const n = count(spec.shape);
  const { name, shape } = spec;
  if (src.quantization === 'fp16') {
    const tensor = find(src, `${name}_fp16`, spec, TensorProto_DataType.FLOAT16, shape);
    return float16Values(src, tensor, n);
  }
  if (src.quantization === 'int8' && spec.kind === 'weight') {
    // DequantizeLinear with axis 1: value[i, j] = (q[i, j] - zeroPoint[j]) * scale[j], in float32.
    const [rows, cols] = shape as [number, number];
    const q = int8Values(src, find(src, `${name}_quantized`, spec, TensorProto_DataType.INT8, shape), n);
    const scale = float32Values(src, find(src, `${name}_scale`, spec, TensorProto_DataType.FLOAT, [cols]), cols);
    // The exporter writes an all-zero zero point; ONNX treats an absent one as zero too.
    const zeroName = `${name}_zero_point`;
    const zero = src.initializers.has(zeroName)
      ? int8Values(src, find(src, zeroName, spec, TensorProto_DataType.INT8, [cols]), cols)
      : new Int8Array(cols);
    const out = new Float32Array(n);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        // (q - zero) has at most 9 bits and scale 24, so the double product is exact and fround gives onnxruntime's
        // float32 product.
        out[i * cols + j] = Math.fround(((q[i * cols + j] as number) - (zero[j] as number)) * (scale[j] as number));
      }
    }
    return out;
  }
  return float32Values(src, find(src, name, spec, TensorProto_DataType.FLOAT, shape), n);
}

/**
 * Reads the config and parameters back from an ONNX file written by {@link exportOnnx}, as float32 tensors named and
 * laid out as in a checkpoint. Use it to fine-tune, evaluate or re-export a model when only its `.onnx` file is at
 * hand. Works in the browser (only the protobuf is decoded, nothing is run).
 *
 * - `quantize: 'none'`: the float32 initializers, bit for bit the exported parameters.
 * - `'fp16'`: each float16 initializer widened to float32, as the graph's `Cast` does.
 * - `'int8'`: each Linear weight dequantized per output column, `q · scale[col]` in float32, as the graph's
 *   `DequantizeLinear` does (so the weights are not the original ones, but exactly those the ONNX model computes
 *   with); biases and LayerNorm parameters are float32 and exact.
 *
 * @param bytes - the contents of an `.onnx` file written by `@fmnist/onnx` (`exportOnnx`, `fmnist export`, `fmnist train`)
 * @returns the config, the parameters (one Float32Array per `paramSpecs(config)` entry), the quantization and the
 *   metadata
 * @throws FmnistOnnxError `E_NOT_ONNX` for bytes that are not an ONNX model, `E_NO_METADATA` for one not exported by
 *   this package (or with an invalid config), `E_MISSING_WEIGHTS` naming an initializer the config needs that the file
 *   lacks, `E_SHAPE_MISMATCH` naming an initializer whose dims, data type or value count differ from the config's
 *
 * @example
 * ```ts
 * import { createModel, modelFromParams } from '@fmnist/model/core';
 *
 * const { config, params, quantization } = readOnnxWeights(exportOnnx(createModel('patch-mlp'), { quantize: 'int8' }));
 * quantization; // 'int8'
 * modelFromParams(config, params).countParameters(); // 49211
 * ```
 */
export function readOnnxWeights(bytes: Uint8Array): OnnxWeights {
  const model = decodeModel(bytes);
  const metadata = metadataFromModel(model);
  const { config, quantization } = metadata; // metadataFromModel has validated the config
  const graph = model.graph; // decodeModel guarantees a graph
  const src: Source = {
    initializers: new Map((graph?.initializer ?? []).map((t) => [t.name, t])),
    modelName: graph?.name || metadata.preset || 'unnamed',
    quantization,
  };
  const params: ParamSet = {};
  for (const spec of paramSpecs(config)) params[spec.name] = readParam(src, spec);
  return { config, params, quantization, metadata };
}
