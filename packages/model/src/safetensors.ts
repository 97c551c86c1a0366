/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets }, __metadata__: { … } }`, then the raw little-endian tensor bytes.
 *
 * Written by hand: there is no maintained safetensors package on npm, and the format is a few lines of code. `F32`
 * (checkpoints) and `F16` (compact inference weights, e.g. `@fmnist/classify`'s bundled model) tensors are read, both
 * widened to float32; writing is `F32` unless `{ dtype: 'F16' }` is asked for.
 */
import { FmnistModelError } from './errors';
import { checkSchema, formatViolation, type Schema, s, showValue } from './schema';

/** Most dimensions and tensors a safetensors file may declare (fmnist's have ≤ 2 and ≤ 64). */
const MAX_DIMS = 8;
const MAX_TENSORS = 10_000;

/** One tensor entry of the header. */
const TENSOR_ENTRY: Schema = s.obj({
  dtype: s.str({ values: ['F32', 'F16'], maxLength: 16 }),
  shape: s.arr(s.int(0, 2 ** 31), 0, MAX_DIMS),
  data_offsets: s.arr(s.int(0, Number.MAX_SAFE_INTEGER), 2, 2, {
    refine: ([begin, end]: [number, number]) => (end < begin ? `must not end (${end}) before it begins (${begin})` : undefined),
  }),
});

/** The schema of a safetensors header (F32 or F16 tensors; string metadata). Checked by {@link decodeSafetensors}. @internal */
export const SAFETENSORS_HEADER_SCHEMA: Schema = s.record(s.any({ nullable: true }), MAX_TENSORS + 1, {
  refine: (header: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(header)) {
      const violation =
        key === '__metadata__'
          ? checkSchema(s.record(s.str({ maxLength: 1_000_000 }), MAX_TENSORS), value)
          : checkSchema(TENSOR_ENTRY, value);
      if (violation) {
        return formatViolation({ ...violation, path: violation.path === '(root)' ? key : `${key}.${violation.path}` });
      }
    }
    return undefined;
  },
});

/** A tensor to store: its shape and float32 data. */
export interface SafeTensor {
  shape: number[];
  data: Float32Array;
}

/** Tensor element types {@link encodeSafetensors} writes and {@link decodeSafetensors} reads. */
export type SafetensorsDtype = 'F32' | 'F16';

/** Options of {@link encodeSafetensors}. */
export interface EncodeSafetensorsOptions {
  /**
   * Element type of every tensor: `F32`, or `F16` (IEEE half precision, rounded to nearest even; values beyond
   * ±65504 become ±Infinity, so check the result with `checkFinite` when that matters). @defaultValue 'F32'
   */
  dtype?: SafetensorsDtype;
}

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F32: 4, F16: 2 };

/**
 * Rounds a float to IEEE 754 half precision (round to nearest, ties to even) and returns its 16 bits.
 *
 * @param value - any number
 * @returns the half-precision bit pattern
 * @internal
 */
export function toFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Infinity, NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Infinity
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000; // subnormal half: shift the implicit 1 in
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry into the exponent is still correct (up to Infinity)
  return sign | half;
}

/**
 * Widens IEEE 754 half-precision bits to a number (exact).
 *
 * @param bits - a 16-bit pattern
 * @returns its value
 * @internal
 */
export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Encodes tensors (in the given order) and string metadata as a safetensors file.
 *
 * @param tensors - name → tensor
 * @param metadata - string key/values stored under `__metadata__`
 * @param options - `dtype` (`'F32'` by default, or `'F16'` for half the size)
 * @returns the file bytes
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } }, { format: 'pt' });
 * const half = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } }, {}, { dtype: 'F16' });
 * ```
 */
export function encodeSafetensors(
  tensors: Record<string, SafeTensor>,
  metadata: Record<string, string> = {},
  options: EncodeSafetensorsOptions = {},
): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  if (dtype !== 'F32' && dtype !== 'F16') throw new RangeError(`'dtype' must be 'F32' or 'F16', got ${showValue(dtype)}.`);
  const size = BYTES_PER_ELEMENT[dtype];
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string')
      throw new TypeError(`Metadata '${k}' must be a string (safetensors stores strings only), got ${showValue(v)}.`);
  }
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    // What decodeSafetensors reads back: a Float32Array of values, dims that are non-negative integers, string metadata.
    if (!(t?.data instanceof Float32Array)) {
      throw new TypeError(`Tensor '${name}': 'data' must be a Float32Array, got ${showValue(t?.data)}.`);
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new RangeError(`Tensor '${name}': 'shape' must be an array of non-negative integers, got ${showValue(t.shape)}.`);
    }
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new RangeError(`Tensor '${name}' has ${t.data.length} values but shape [${t.shape}] needs ${n}.`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + n * size] };
    offset += n * size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (const t of Object.values(tensors)) {
    if (dtype === 'F16') {
      for (let i = 0; i < t.data.length; i++) view.setUint16(pos + i * 2, toFloat16Bits(t.data[i] as number), true);
      pos += t.data.length * 2;
      continue;
    }
    if (littleEndian) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    } else {
      for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + i * 4, t.data[i] as number, true);
    }
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Decodes a safetensors file of `F32` or `F16` tensors; both come back as float32 (`F16` widened exactly).
 *
 * @param bytes - the file
 * @param name - file name for error messages
 * @returns tensors (copied, aligned) and metadata
 * @throws FmnistModelError `E_CHECKPOINT_CORRUPT` for a truncated file, a bad header or an unsupported dtype
 *
 * @example
 * ```ts
 * const { tensors, metadata } = decodeSafetensors(bytes, 'model.safetensors');
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  name = 'safetensors data',
): { tensors: Record<string, SafeTensor>; metadata: Record<string, string> } {
  const corrupt = (why: string): never => {
    throw new FmnistModelError(
      'E_CHECKPOINT_CORRUPT',
      `${name}: not a valid safetensors file (${why}). Re-save the checkpoint or use another one.`,
    );
  };
  if (bytes.length < 8) corrupt(`${bytes.length} bytes, too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8 || headerLength > 100_000_000) corrupt(`header length ${headerLength} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    return corrupt(`header is not JSON: ${(err as Error).message}`);
  }
  const violation = checkSchema(SAFETENSORS_HEADER_SCHEMA, header);
  if (violation) {
    // The refinement names the tensor's field itself; a header that is not an object at all is the root's violation.
    const why = violation.expected.startsWith('field ') ? violation.expected : `header ${violation.expected}, got ${showValue(header)}`;
    corrupt(violation.path === '(root)' ? why : formatViolation(violation));
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, SafeTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') {
      metadata = value as Record<string, string>;
      continue;
    }
    const info = value as { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] };
    const size = BYTES_PER_ELEMENT[info.dtype];
    const [begin, end] = info.data_offsets;
    const n = info.shape.reduce((a, b) => a * b, 1);
    if (end > dataLength) corrupt(`tensor '${key}' lies outside the file (offsets ${begin}–${end}, data ${dataLength} bytes; truncated?)`);
    if (end - begin !== n * size) {
      corrupt(`tensor '${key}' has ${end - begin} bytes for shape [${info.shape}] of ${info.dtype} (${n * size} expected)`);
    }
    const data = new Float32Array(n);
    const src = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    if (info.dtype === 'F16') for (let i = 0; i < n; i++) data[i] = fromFloat16Bits(src.getUint16(i * 2, true));
    else for (let i = 0; i < n; i++) data[i] = src.getFloat32(i * 4, true);
    tensors[key] = { shape: info.shape, data };
  }
  return { tensors, metadata };
}
