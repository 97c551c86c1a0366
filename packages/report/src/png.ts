/**
 * Grayscale images as PNG, in pure TypeScript (browser and Node alike): the deflate stream comes from `fflate`, the PNG
 * container around it (signature, IHDR, IDAT, IEND, each chunk with its CRC-32) is written here. 8-bit grey, no
 * interlacing, filter type 0 (none) on every row — for 28×28 images the other filters save nothing worth the code.
 */
import { zlibSync } from 'fflate';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The CRC-32 table of PNG (ISO 3309, polynomial 0xEDB88320, reflected). */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of `bytes` (as PNG chunks, zip and gzip use it). */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length, type, data, CRC-32 of type + data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes one grayscale image (row-major bytes, one per pixel) as an 8-bit grey PNG file.
 *
 * @param pixels - exactly `width * height` bytes, 0 = black
 * @param width - pixels per row @defaultValue 28
 * @param height - rows @defaultValue 28
 * @returns the PNG file's bytes
 * @throws TypeError when `pixels` is not a `Uint8Array`; RangeError when `width`/`height` are not positive integers
 *   (at most 16,384) or `pixels` does not hold `width * height` bytes
 *
 * @example
 * ```ts
 * const png = grayToPng(new Uint8Array(28 * 28).fill(255)); // a white 28×28 image
 * png.subarray(1, 4); // 'PNG' in ASCII
 * ```
 */
export function grayToPng(pixels: Uint8Array, width = 28, height = 28): Uint8Array {
  if (!(pixels instanceof Uint8Array)) throw new TypeError(`grayToPng: 'pixels' must be a Uint8Array of grey bytes, got ${typeof pixels}.`);
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 16_384)
      throw new RangeError(`grayToPng: '${name}' must be an integer from 1 to 16384, got ${String(v)}.`);
  }
  if (pixels.length !== width * height)
    throw new RangeError(
      `grayToPng: 'pixels' must hold width × height = ${width * height} bytes, got ${pixels.length}; pass the image's own width and height.`,
    );
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: greyscale; compression, filter and interlace methods stay 0
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1); // filter byte 0
  const parts = [
    Uint8Array.from(SIGNATURE),
    chunk('IHDR', header),
    chunk('IDAT', zlibSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Base64 of bytes, without Node's `Buffer` (so it runs in a page): `btoa` over chunks of the bytes as Latin-1.
 *
 * @param bytes - any bytes
 * @returns standard base64 with padding
 *
 * @example
 * ```ts
 * bytesToBase64(new Uint8Array([104, 105])); // 'aGk='
 * ```
 */
export function bytesToBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/**
 * A grayscale image as a `data:image/png;base64,…` URL, the only kind of image URL the report's `html` template
 * lets into a `src`.
 *
 * @param pixels - `width * height` grey bytes
 * @param width - @defaultValue 28
 * @param height - @defaultValue 28
 * @returns the data URL
 *
 * @example
 * ```ts
 * grayPngDataUrl(new Uint8Array(784)).startsWith('data:image/png;base64,iVBORw0KGgo'); // true
 * ```
 */
export function grayPngDataUrl(pixels: Uint8Array, width = 28, height = 28): string {
  return `data:image/png;base64,${bytesToBase64(grayToPng(pixels, width, height))}`;
}
