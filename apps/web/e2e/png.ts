/** A minimal PNG encoder (8-bit grayscale or RGB, no filtering) for test pictures. */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes pixels as a PNG file.
 *
 * @param pixels - `width × height × channels` bytes, row-major
 * @param width - width in pixels
 * @param height - height in pixels
 * @param channels - 1 (gray) or 3 (RGB)
 * @returns the PNG bytes
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 = 1): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : 2;
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) Buffer.from(pixels.subarray(y * stride, (y + 1) * stride)).copy(raw, y * (stride + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * Scales a 28×28 gray image up `k` times by pixel replication, optionally as RGB through `tint`.
 *
 * @param pixels - 784 bytes
 * @param k - factor
 * @param tint - maps a gray value to RGB; when given the result has 3 channels
 * @returns the pixels and size
 */
export function upscale(
  pixels: Uint8Array,
  k: number,
  tint?: (v: number) => [number, number, number],
): { data: Uint8Array; width: number; height: number; channels: 1 | 3 } {
  const size = 28 * k;
  const channels = tint ? 3 : 1;
  const data = new Uint8Array(size * size * channels);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = pixels[Math.floor(y / k) * 28 + Math.floor(x / k)] as number;
      if (tint) data.set(tint(v), (y * size + x) * 3);
      else data[y * size + x] = v;
    }
  }
  return { data, width: size, height: size, channels };
}
