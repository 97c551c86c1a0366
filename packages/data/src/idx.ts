import { FmnistDataError } from './errors';

/** Element types the IDX format defines, by their type byte. */
export type IdxDataType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array a decoded IDX file of each {@link IdxDataType} is returned in. */
export type IdxTypedArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/**
 * A decoded IDX file: its element type, its dimensions (outermost first) and its elements in row-major order.
 */
export interface IdxArray {
  /** Element type, from the header's type byte. */
  dtype: IdxDataType;
  /** Dimension sizes, outermost first, e.g. `[60000, 28, 28]`. */
  dims: number[];
  /** The elements, row-major, converted from big-endian to the platform's typed array. */
  data: IdxTypedArray;
}

/** Options of {@link decodeIdx}, {@link parseIdx} and {@link IdxDecoder}. */
export interface IdxDecodeOptions {
  /** Name used in error messages (file name, path or URL). @defaultValue `'IDX data'` */
  name?: string;
  /** Largest element payload accepted, so a corrupt header cannot make us allocate gigabytes. @defaultValue 1 GiB */
  maxBytes?: number;
  /**
   * Called with the header's element type and dimensions as soon as the header is read, before the element buffer is
   * allocated or more data is inflated; throw to refuse the file (the Fashion-MNIST loader refuses unofficial shapes).
   */
  checkHeader?: (header: { dtype: IdxDataType; dims: readonly number[] }) => void;
}

/** Longest possible IDX header: 4 bytes plus 4 per dimension, at most 255 dimensions. */
const MAX_HEADER_BYTES = 4 + 4 * 255;

const TYPES: Record<number, { dtype: IdxDataType; size: number }> = {
  8: { dtype: 'uint8', size: 1 },
  9: { dtype: 'int8', size: 1 },
  11: { dtype: 'int16', size: 2 },
  12: { dtype: 'int32', size: 4 },
  13: { dtype: 'float32', size: 4 },
  14: { dtype: 'float64', size: 8 },
};

/** Largest payload accepted by default, in bytes. */
export const DEFAULT_MAX_IDX_BYTES = 1024 * 1024 * 1024;

const FIX_HINT =
  'Check that the path or URL points at an IDX file (e.g. train-images-idx3-ubyte.gz); if it is a download, delete it and fetch it again.';

/** True when `bytes` starts with the gzip magic number `1f 8b`. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hex(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Incremental IDX decoder: feed it the (already decompressed) bytes chunk by chunk with {@link IdxDecoder.push} and
 * call {@link IdxDecoder.finish}. The element buffer is allocated once, from the header, so a 47 MB file never exists
 * twice in memory.
 *
 * @example
 * ```ts
 * const decoder = new IdxDecoder({ name: 'labels' });
 * decoder.push(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2]));
 * decoder.push(new Uint8Array([9, 0]));
 * decoder.finish(); // { dtype: 'uint8', dims: [2], data: Uint8Array [9, 0] }
 * ```
 */
export class IdxDecoder {
  private readonly name: string;
  private readonly maxBytes: number;
  private readonly checkHeader: IdxDecodeOptions['checkHeader'];
  private header = new Uint8Array(4);
  private headerFill = 0;
  private headerLength = 4;
  private dtype: IdxDataType | undefined;
  private elementSize = 1;
  private dims: number[] | undefined;
  private body: Uint8Array | undefined;
  private bodyBytes: number | undefined;
  private bodyFill = 0;
  private adopted = false;
  private readonly zeroCopy: boolean;
  private seen = 0;

  /**
   * @param options - `name` for error messages, `maxBytes` safety limit, and `zeroCopy`: let the result share memory
   *   with the pushed chunks (only when the producer never reuses or changes a chunk it handed over)
   */
  constructor(options: IdxDecodeOptions & { zeroCopy?: boolean } = {}) {
    this.name = options.name ?? 'IDX data';
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_IDX_BYTES;
    this.checkHeader = options.checkHeader;
    this.zeroCopy = options.zeroCopy ?? false;
  }

  /** Bytes the header announces for the elements, once the header is complete. */
  get expectedBodyBytes(): number | undefined {
    return this.bodyBytes;
  }

  /** Bytes pushed so far. */
  get bytesSeen(): number {
    return this.seen;
  }

  /**
   * Feeds the next chunk of decompressed bytes.
   * @param chunk - the next bytes of the file, in order
   * @throws FmnistDataError `E_MAGIC`, `E_TYPE`, `E_DIMS`, `E_LENGTH`
   */
  push(chunk: Uint8Array): void {
    let offset = 0;
    this.seen += chunk.length;
    while (offset < chunk.length && this.bodyBytes === undefined) {
      const take = Math.min(this.headerLength - this.headerFill, chunk.length - offset);
      this.header.set(chunk.subarray(offset, offset + take), this.headerFill);
      this.headerFill += take;
      offset += take;
      if (this.headerFill === this.headerLength) this.onHeaderBytes();
    }
    if (this.body === undefined && this.bodyBytes !== undefined) {
      // Zero-copy when the chunk's underlying buffer has room for the whole body right after the header: a whole file
      // in memory, or Node's gunzip writing into one buffer sized from the gzip trailer (it hands out consecutive
      // slices of that buffer). Later chunks are then checked to be exactly the next slice of it.
      const start = chunk.byteOffset + offset;
      if (this.zeroCopy && chunk.buffer.byteLength - start >= this.bodyBytes && this.bodyBytes > 0) {
        this.body = new Uint8Array(chunk.buffer, start, this.bodyBytes);
        this.adopted = true;
      } else {
        this.body = new Uint8Array(this.bodyBytes);
      }
    }
    if (offset === chunk.length) return;
    const body = this.body as Uint8Array;
    const remaining = chunk.length - offset;
    if (this.bodyFill + remaining > body.length) {
      throw new FmnistDataError(
        'E_LENGTH',
        `${this.name}: more bytes than its header announces (dims [${this.dims?.join(', ')}] need ${this.headerLength + body.length} bytes, got at least ${this.headerLength + this.bodyFill + remaining}). The file is corrupt or not the one its name says. ${FIX_HINT}`,
        { file: this.name },
      );
    }
    if (this.adopted) {
      if (chunk.buffer === body.buffer && chunk.byteOffset + offset === body.byteOffset + this.bodyFill) {
        this.bodyFill += remaining;
        return;
      }
      // Not the next slice: fall back to an own buffer holding what we have so far.
      const own = new Uint8Array(body.length);
      own.set(body.subarray(0, this.bodyFill));
      this.body = own;
      this.adopted = false;
    }
    (this.body as Uint8Array).set(chunk.subarray(offset), this.bodyFill);
    this.bodyFill += remaining;
  }

  private onHeaderBytes(): void {
    const h = this.header;
    if (this.dtype === undefined) {
      // First 4 bytes: 0, 0, type, ndims.
      if (h[0] !== 0 || h[1] !== 0) {
        const what = isGzip(h)
          ? 'it is gzip-compressed; decompress it first (parseIdx does this for you)'
          : `it starts with bytes ${hex(h, 4)}, an IDX file starts with 00 00`;
        throw new FmnistDataError('E_MAGIC', `${this.name}: not an IDX file: ${what}. ${FIX_HINT}`, { file: this.name });
      }
      const type = TYPES[h[2] as number];
      if (!type) {
        throw new FmnistDataError(
          'E_TYPE',
          `${this.name}: unknown IDX element type byte 0x${(h[2] as number).toString(16).padStart(2, '0')} (valid: 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64). ${FIX_HINT}`,
          { file: this.name },
        );
      }
      const ndims = h[3] as number;
      if (ndims === 0) {
        throw new FmnistDataError('E_DIMS', `${this.name}: the IDX header declares 0 dimensions; at least 1 is required. ${FIX_HINT}`, {
          file: this.name,
        });
      }
      this.dtype = type.dtype;
      this.elementSize = type.size;
      this.headerLength = 4 + 4 * ndims;
      const grown = new Uint8Array(this.headerLength);
      grown.set(h);
      this.header = grown;
      if (this.headerFill < this.headerLength) return;
    }
    const view = new DataView(this.header.buffer, this.header.byteOffset, this.header.byteLength);
    const dims: number[] = [];
    let count = 1;
    for (let i = 4; i < this.headerLength; i += 4) {
      const d = view.getUint32(i, false);
      dims.push(d);
      count *= d;
    }
    const bytes = count * this.elementSize;
    this.checkHeader?.({ dtype: this.dtype, dims });
    if (!Number.isSafeInteger(bytes) || bytes > this.maxBytes) {
      throw new FmnistDataError(
        'E_DIMS',
        `${this.name}: the IDX header declares dims [${dims.join(', ')}] (${bytes} bytes), more than the ${this.maxBytes}-byte limit; the header is corrupt. ${FIX_HINT}`,
        { file: this.name },
      );
    }
    this.dims = dims;
    this.bodyBytes = bytes;
  }

  /**
   * Ends the input and returns the decoded array.
   * @returns the decoded {@link IdxArray}
   * @throws FmnistDataError `E_EMPTY` or `E_TRUNCATED` when input is missing
   */
  finish(): IdxArray {
    if (this.seen === 0) {
      throw new FmnistDataError('E_EMPTY', `${this.name}: the file is empty (0 bytes). ${FIX_HINT}`, { file: this.name });
    }
    if (this.bodyBytes === 0 && this.body === undefined) this.body = new Uint8Array(0);
    if (this.body === undefined && this.bodyBytes !== undefined) {
      throw new FmnistDataError(
        'E_TRUNCATED',
        `${this.name}: the file ends right after its IDX header: dims [${this.dims?.join(', ')}] need ${this.headerLength + this.bodyBytes} bytes, got ${this.headerLength}. ${FIX_HINT}`,
        { file: this.name },
      );
    }
    if (this.body === undefined || this.dims === undefined || this.dtype === undefined) {
      throw new FmnistDataError(
        'E_TRUNCATED',
        `${this.name}: the file ends inside its IDX header (${this.seen} bytes, the header alone needs ${this.headerLength}). ${FIX_HINT}`,
        { file: this.name },
      );
    }
    if (this.bodyFill < this.body.length) {
      throw new FmnistDataError(
        'E_TRUNCATED',
        `${this.name}: the file is cut short: dims [${this.dims.join(', ')}] need ${this.headerLength + this.body.length} bytes, got ${this.headerLength + this.bodyFill}. ${FIX_HINT}`,
        { file: this.name },
      );
    }
    return { dtype: this.dtype, dims: this.dims, data: toTyped(this.body, this.dtype) };
  }
}

/** Converts big-endian element bytes to a platform typed array (zero-copy for bytes). */
function toTyped(body: Uint8Array, dtype: IdxDataType): IdxTypedArray {
  switch (dtype) {
    case 'uint8':
      return body;
    case 'int8':
      return new Int8Array(body.buffer, body.byteOffset, body.length);
    default: {
      // Multi-byte elements are big-endian in the file: read them into a new array (never swap the input in place).
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      if (dtype === 'int16') return Int16Array.from({ length: body.length / 2 }, (_, i) => view.getInt16(i * 2, false));
      if (dtype === 'int32') return Int32Array.from({ length: body.length / 4 }, (_, i) => view.getInt32(i * 4, false));
      if (dtype === 'float32') return Float32Array.from({ length: body.length / 4 }, (_, i) => view.getFloat32(i * 4, false));
      return Float64Array.from({ length: body.length / 8 }, (_, i) => view.getFloat64(i * 8, false));
    }
  }
}

/**
 * Decodes an uncompressed IDX file held in memory. For `uint8` files the returned `data` is a view on `bytes`
 * (no copy).
 *
 * @param bytes - the whole raw (not gzip) IDX file
 * @param options - `name` used in error messages
 * @returns dims, element type and elements
 * @throws FmnistDataError `E_EMPTY`, `E_MAGIC`, `E_TYPE`, `E_DIMS`, `E_TRUNCATED`, `E_LENGTH`
 *
 * @example
 * ```ts
 * const { dims, data } = decodeIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]));
 * // dims = [3], data = Uint8Array [7, 8, 9]
 * ```
 */
export function decodeIdx(bytes: Uint8Array, options: IdxDecodeOptions = {}): IdxArray {
  const name = options.name ?? 'IDX data';
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `${name}: 'bytes' must be a Uint8Array (wrap an ArrayBuffer with new Uint8Array(buffer)), got ${bytes === null ? 'null' : Array.isArray(bytes) ? 'an array' : typeof bytes === 'object' ? ((bytes as object).constructor?.name ?? 'an object') : typeof bytes}.`,
    );
  }
  // The fast path for byte data skips the decoder, so only when no option asks for the decoder's checks.
  const plain = options.checkHeader === undefined && options.maxBytes === undefined;
  if (plain && bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x08) {
    // Fast path for byte data: validate the header, then return a view.
    const ndims = bytes[3] as number;
    const headerLength = 4 + 4 * ndims;
    if (ndims > 0 && bytes.length >= headerLength) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, headerLength);
      const dims: number[] = [];
      let count = 1;
      for (let i = 4; i < headerLength; i += 4) {
        const d = view.getUint32(i, false);
        dims.push(d);
        count *= d;
      }
      if (bytes.length === headerLength + count) {
        return { dtype: 'uint8', dims, data: bytes.subarray(headerLength) };
      }
    }
  }
  const decoder = new IdxDecoder({ ...options, name });
  decoder.push(bytes);
  return decoder.finish();
}

/** A streaming gunzip: compressed chunks in, decompressed chunks out. @internal */
export type GunzipStream = (
  compressed: AsyncIterable<Uint8Array>,
  name: string,
  sizeHint?: number,
  maxOutputBytes?: number,
) => AsyncIterable<Uint8Array>;

/**
 * Stops an inflation that outgrows `max` bytes (a gzip bomb): the IDX decoder refuses it too, this bounds the work.
 * @internal
 */
export function outputLimitError(name: string, max: number): FmnistDataError {
  return new FmnistDataError(
    'E_LENGTH',
    `${name}: the gzip data inflates to more than ${max} bytes, more than its IDX header allows; stopped inflating. ${FIX_HINT}`,
    { file: name },
  );
}

/**
 * Decodes a stream of IDX bytes that may be gzip-compressed (detected from the first two bytes, whatever the name
 * says). Decompressed chunks go straight into the element buffer.
 * @internal
 */
export async function decodeIdxStream(
  chunks: AsyncIterable<Uint8Array>,
  gunzip: GunzipStream,
  options: IdxDecodeOptions & { onChunk?: (decompressed: Uint8Array) => void; sizeHint?: number; zeroCopy?: boolean } = {},
): Promise<IdxArray> {
  const name = options.name ?? 'IDX data';
  const decoder = new IdxDecoder({ ...options, name, zeroCopy: options.zeroCopy ?? false });
  const iterator = chunks[Symbol.asyncIterator]();
  // Peek until we have 2 bytes to sniff the format.
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const next = await iterator.next();
    if (next.done) break;
    if (next.value.length === 0) continue;
    head.push(next.value);
    headBytes += next.value.length;
  }
  const first = head.length === 1 ? (head[0] as Uint8Array) : concat(head);
  const replay: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      try {
        for (const c of head) yield c;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value;
        }
      } finally {
        // Stopping early (a decode error) must close the source too: files, sockets, zlib.
        await iterator.return?.();
      }
    },
  };
  if (isGzip(first)) {
    // Gunzip output chunks are fresh buffers nobody else holds, so the decoder may keep them.
    const gzDecoder = new IdxDecoder({ ...options, name, zeroCopy: true });
    const maxOutput = (options.maxBytes ?? DEFAULT_MAX_IDX_BYTES) + MAX_HEADER_BYTES;
    for await (const out of gunzip(replay, name, options.sizeHint, maxOutput)) {
      options.onChunk?.(out);
      gzDecoder.push(out);
    }
    return gzDecoder.finish();
  }
  if (headBytes > 0 && /\.gz$/i.test(name) && !(first[0] === 0 && first[1] === 0)) {
    throw new FmnistDataError(
      'E_NOT_GZIP',
      `${name}: named .gz but holds neither gzip nor IDX data (it starts with bytes ${hex(first, 4)}). It may be an HTML error page saved by a proxy or a partial download. ${FIX_HINT}`,
      { file: name },
    );
  }
  for await (const c of replay) {
    options.onChunk?.(c);
    decoder.push(c);
  }
  return decoder.finish();
}

/** Concatenates byte chunks into one array. @internal */
export function concat(chunks: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Wraps a whole in-memory buffer as a one-chunk async stream. @internal */
export async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
