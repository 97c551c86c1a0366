/**
 * Test fixtures: ONNX files edited at the protobuf level (no schema needed), to make models that are valid ONNX but not
 * fmnist models, or fmnist models with a contract the app cannot feed. Used by the unit and end-to-end tests only.
 * @internal
 */

const PRODUCER_NAME_FIELD = 2;
const GRAPH_FIELD = 7;
const METADATA_PROPS_FIELD = 14;

function readVarint(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let shift = 1;
  for (;;) {
    const b = bytes[pos++] as number;
    value += (b & 0x7f) * shift;
    if (b < 0x80) return [value, pos];
    shift *= 128;
  }
}

function writeVarint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

interface Field {
  field: number;
  wire: number;
  /** The whole encoded field (tag included). */
  raw: Uint8Array;
  /** Payload of a length-delimited field. */
  payload?: Uint8Array;
}

function splitFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(bytes, pos);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    pos = afterTag;
    let payload: Uint8Array | undefined;
    if (wire === 0) pos = readVarint(bytes, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, afterLen] = readVarint(bytes, pos);
      payload = bytes.subarray(afterLen, afterLen + len);
      pos = afterLen + len;
    } else throw new Error(`unsupported protobuf wire type ${wire} at byte ${start}`);
    fields.push({ field, wire, raw: bytes.subarray(start, pos), payload });
  }
  return fields;
}

function lengthDelimited(field: number, payload: Uint8Array): Uint8Array {
  return concat([Uint8Array.from([...writeVarint(field * 8 + 2), ...writeVarint(payload.length)]), payload]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Options of {@link rewriteOnnx}. */
export interface RewriteOnnxOptions {
  /** Replace `producer_name`. */
  producerName?: string;
  /** Edit the `metadata_props` (key → value); return the new entries. */
  metadata?: (entries: Map<string, string>) => Map<string, string>;
  /** Replace the encoded `GraphProto` (e.g. with an empty one: a model onnxruntime cannot use). */
  graph?: Uint8Array;
}

/**
 * Rewrites an ONNX file's producer name, metadata and/or graph, keeping everything else byte for byte.
 *
 * @param bytes - an `.onnx` file
 * @param options - what to change
 * @returns the edited file
 *
 * @example
 * ```ts
 * const plain = rewriteOnnx(bytes, { producerName: 'pytorch', metadata: () => new Map() }); // valid ONNX, not fmnist
 * ```
 */
export function rewriteOnnx(bytes: Uint8Array, options: RewriteOnnxOptions): Uint8Array {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const fields = splitFields(bytes);
  const entries = new Map<string, string>();
  for (const f of fields) {
    if (f.field !== METADATA_PROPS_FIELD || !f.payload) continue;
    let key = '';
    let value = '';
    for (const sub of splitFields(f.payload)) {
      if (sub.field === 1 && sub.payload) key = decoder.decode(sub.payload);
      if (sub.field === 2 && sub.payload) value = decoder.decode(sub.payload);
    }
    entries.set(key, value);
  }
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    if (options.metadata && f.field === METADATA_PROPS_FIELD) continue;
    if (options.producerName !== undefined && f.field === PRODUCER_NAME_FIELD) continue;
    if (options.graph && f.field === GRAPH_FIELD) {
      parts.push(lengthDelimited(GRAPH_FIELD, options.graph));
      continue;
    }
    parts.push(f.raw);
  }
  if (options.producerName !== undefined) parts.push(lengthDelimited(PRODUCER_NAME_FIELD, encoder.encode(options.producerName)));
  if (options.metadata) {
    for (const [key, value] of options.metadata(entries)) {
      const entry = concat([lengthDelimited(1, encoder.encode(key)), lengthDelimited(2, encoder.encode(value))]);
      parts.push(lengthDelimited(METADATA_PROPS_FIELD, entry));
    }
  }
  return concat(parts);
}

/**
 * Deterministic pseudo-random bytes (a tiny LCG), for "not a model" fixtures.
 *
 * @param length - how many bytes
 * @param seed - the seed @defaultValue 1
 * @returns the bytes
 *
 * @example
 * ```ts
 * randomBytes(4, 7); // same 4 bytes every time
 * ```
 */
export function randomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}
