import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { bytesToBase64, grayPngDataUrl, grayToPng } from './png';

/** The chunks of a PNG file: type, data, and whether the stored CRC matches zlib's CRC-32 of type + data. */
function chunks(png: Uint8Array): { type: string; data: Uint8Array; crcOk: boolean }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out = [];
  for (let at = 8; at < png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    out.push({ type, data, crcOk: view.getUint32(at + 8 + length) === crc32(png.subarray(at + 4, at + 8 + length)) });
    at += 12 + length;
  }
  return out;
}

describe('grayToPng: 8-bit grey PNG without sharp', () => {
  it('decodes (with sharp/libspng, an independent decoder) to exactly the pixels given', async () => {
    for (const [width, height] of [
      [28, 28],
      [5, 3],
      [1, 1],
      [300, 2],
    ] as const) {
      const pixels = new Uint8Array(randomBytes(width * height));
      const png = grayToPng(pixels, width, height);
      expect(await sharp(png).metadata()).toMatchObject({
        format: 'png',
        width,
        height,
        channels: 1,
        depth: 'uchar',
        isProgressive: false,
      });
      const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      expect(info).toMatchObject({ width, height, channels: 1 });
      expect(new Uint8Array(data)).toEqual(pixels);
    }
  });

  it('is a signature, IHDR (width, height, depth 8, grey), IDAT, IEND, every CRC right', () => {
    const png = grayToPng(new Uint8Array(28 * 28).fill(200));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const list = chunks(png);
    expect(list.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(list.every((c) => c.crcOk)).toBe(true);
    expect([...(list[0]?.data ?? [])]).toEqual([0, 0, 0, 28, 0, 0, 0, 28, 8, 0, 0, 0, 0]);
    expect(list[2]?.data.length).toBe(0);
  });

  it('reads only the view it is given (a subarray of a larger buffer)', async () => {
    const all = new Uint8Array(3 * 784).map((_, i) => Math.floor(i / 784) * 100);
    const { data } = await sharp(grayToPng(all.subarray(784, 1568)))
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(new Set(data)).toEqual(new Set([100]));
  });

  it('refuses pixels that are not width × height bytes, bad sizes and non-bytes', () => {
    expect(() => grayToPng(new Uint8Array(783))).toThrow(
      new RangeError("grayToPng: 'pixels' must hold width × height = 784 bytes, got 783; pass the image's own width and height."),
    );
    expect(() => grayToPng(new Uint8Array(0), 0, 0)).toThrow(/'width' must be an integer from 1 to 16384, got 0/);
    expect(() => grayToPng(new Uint8Array(6), 2, 1.5 as number)).toThrow(RangeError);
    expect(() => grayToPng(new Uint8Array(4), Number.NaN, 2)).toThrow(/'width' .* got NaN/);
    expect(() => grayToPng([1, 2, 3, 4] as never, 2, 2)).toThrow(TypeError);
    expect(() => grayToPng(new Float32Array(784) as never)).toThrow(/must be a Uint8Array/);
  });
});

describe('bytesToBase64, grayPngDataUrl', () => {
  it('bytesToBase64 equals Buffer base64 for every length class, including more than one 32 KiB chunk', () => {
    for (const n of [0, 1, 2, 3, 4, 0x8000 - 1, 0x8000, 0x8000 + 1, 70_001]) {
      const bytes = new Uint8Array(randomBytes(n));
      expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });

  it('grayPngDataUrl is the PNG as a data URL', () => {
    const pixels = new Uint8Array(784).map((_, i) => i % 256);
    const url = grayPngDataUrl(pixels);
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    expect(new Uint8Array(Buffer.from(url.slice('data:image/png;base64,'.length), 'base64'))).toEqual(grayToPng(pixels));
  });
});
