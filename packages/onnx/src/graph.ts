/**
 * A small builder for ONNX graphs on top of the generated `onnx.proto` messages: initializers (raw little-endian
 * bytes), nodes with typed attributes, and unique value names. @internal
 */
import { create } from '@bufbuild/protobuf';
import {
  type AttributeProto,
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  type TensorProto,
  TensorProto_DataType,
  TensorProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from './gen/onnx_pb';

/** An attribute value: an integer, a float, a list of integers, or a string. */
export type AttributeValue = { int: number } | { float: number } | { ints: number[] } | { string: string };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a typed array in little-endian order (a copy). */
function littleEndianBytes(data: Float32Array | Uint16Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (!LITTLE_ENDIAN) {
    const width = data.BYTES_PER_ELEMENT;
    for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  }
  return bytes;
}

/** Builds the nodes and initializers of one graph. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly opCounts = new Map<string, number>();

  /** A fresh value name derived from `base`. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  private tensor(name: string, dataType: TensorProto_DataType, dims: number[], rawData: Uint8Array): string {
    const unique = this.unique(name);
    this.initializers.push(create(TensorProtoSchema, { name: unique, dataType, dims: dims.map(BigInt), rawData }));
    return unique;
  }

  /** A float32 initializer. */
  float(name: string, dims: number[], data: Float32Array): string {
    return this.tensor(name, TensorProto_DataType.FLOAT, dims, littleEndianBytes(data));
  }

  /** A float16 initializer from binary16 bit patterns. */
  half(name: string, dims: number[], bits: Uint16Array): string {
    return this.tensor(name, TensorProto_DataType.FLOAT16, dims, littleEndianBytes(bits));
  }

  /** An int8 initializer. */
  int8(name: string, dims: number[], data: Int8Array): string {
    return this.tensor(name, TensorProto_DataType.INT8, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
  }

  /** A 1-D int64 initializer (shapes, axes). */
  int64(name: string, values: number[]): string {
    return this.tensor(name, TensorProto_DataType.INT64, [values.length], littleEndianBytes(BigInt64Array.from(values.map(BigInt))));
  }

  /**
   * Appends a node.
   * @param opType - ONNX operator, e.g. `MatMul`
   * @param inputs - input value names (`''` for an omitted optional input)
   * @param output - the output value name to create (made unique)
   * @param attributes - attributes by name
   * @param scope - a prefix for the node's name, e.g. `blocks.0.token_mlp.fc1`
   * @returns the output value name
   */
  op(opType: string, inputs: string[], output: string, attributes: Record<string, AttributeValue> = {}, scope = ''): string {
    const out = this.unique(output);
    const count = this.opCounts.get(`${scope}/${opType}`) ?? 0;
    this.opCounts.set(`${scope}/${opType}`, count + 1);
    this.nodes.push(
      create(NodeProtoSchema, {
        name: `${scope ? `${scope}/` : ''}${opType}${count ? `_${count}` : ''}`,
        opType,
        input: inputs,
        output: [out],
        attribute: Object.entries(attributes).map(([name, v]) => attribute(name, v)),
      }),
    );
    return out;
  }
}

function attribute(name: string, v: AttributeValue): AttributeProto {
  if ('int' in v) return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(v.int) });
  if ('float' in v) return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: v.float });
  if ('ints' in v) return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: v.ints.map(BigInt) });
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(v.string) });
}

/** A float tensor's value info with named (symbolic) or fixed dimensions. */
export function tensorInfo(name: string, dims: (number | string)[], docString = ''): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    docString,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: TensorProto_DataType.FLOAT,
          shape: {
            dim: dims.map((d) =>
              typeof d === 'number'
                ? { value: { case: 'dimValue' as const, value: BigInt(d) } }
                : { value: { case: 'dimParam' as const, value: d } },
            ),
          },
        },
      },
    },
  });
}
