import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { borderMean } from '@fmnist/classify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageAs28 } from './image';
import { terminalArt } from './render';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-image-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A 200×100 RGB photo-like picture: a dark red object in the middle of a white background. */
async function darkOnLight(file: string): Promise<void> {
  const w = 200;
  const h = 100;
  const rgb = Buffer.alloc(w * h * 3, 255);
  for (let y = 30; y < 70; y++)
    for (let x = 70; x < 130; x++) {
      const i = (y * w + x) * 3;
      rgb[i] = 90;
      rgb[i + 1] = 10;
      rgb[i + 2] = 10;
    }
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .jpeg()
    .toFile(file);
}

describe('loadImageAs28', () => {
  it('converts any size and colour to 28×28 grayscale, keeping the aspect ratio', async () => {
    const file = join(dir, 'photo.jpg');
    await darkOnLight(file);
    const plain = await loadImageAs28(file, { invert: false, crop: false });
    expect(plain.pixels).toHaveLength(784);
    expect(plain).toMatchObject({ width: 200, height: 100, format: 'jpeg', inverted: false, cropped: false });
    // letterboxed: the top rows are the black padding, the picture's white background fills the middle band
    expect(plain.pixels[0]).toBe(0);
    expect(plain.pixels[14 * 28 + 1]).toBeGreaterThan(200);
    expect(plain.pixels[14 * 28 + 14]).toBeLessThan(80);
  });
  it('--invert makes a dark object on a light background light on dark, like Fashion-MNIST', async () => {
    const file = join(dir, 'photo.jpg');
    const inv = await loadImageAs28(file, { invert: true, crop: false });
    expect(inv.inverted).toBe(true);
    expect(borderMean({ data: Float32Array.from(inv.pixels), width: 28, height: 28 })).toBeLessThan(20);
    expect(inv.pixels[14 * 28 + 14]).toBeGreaterThan(150);
    const auto = await loadImageAs28(file, { invert: 'auto', crop: false });
    expect(auto.inverted).toBe(true);
    expect(Array.from(auto.pixels)).toEqual(Array.from(inv.pixels));
  });
  it('by default inverts automatically and crops to the garment (the shared @fmnist/classify preprocessing)', async () => {
    const file = join(dir, 'photo.jpg');
    const out = await loadImageAs28(file);
    expect(out).toMatchObject({ inverted: true, cropped: true });
    // The 60×40 object fills the width after cropping: the left and right edges of the middle row are the object.
    expect(out.pixels[14 * 28 + 0]).toBeGreaterThan(150);
    expect(out.pixels[14 * 28 + 27]).toBeGreaterThan(150);
    expect(out.pixels[0]).toBe(0); // padding above, black
  });
  it('names a missing or non-image file', async () => {
    await expect(loadImageAs28(join(dir, 'nope.png'))).rejects.toThrow(/nope\.png: no such file or directory \(ENOENT\)/);
    const bad = join(dir, 'bad.png');
    await sharp({ create: { width: 2, height: 2, channels: 3, background: '#fff' } })
      .png()
      .toFile(bad);
    // A PNG signature followed by garbage: recognised as PNG by its first bytes, then refused by the decoder.
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(bad, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not an image')])),
    );
    await expect(loadImageAs28(bad)).rejects.toMatchObject({
      code: 'E_IMAGE_DECODE',
      message: expect.stringMatching(/bad\.png: cannot decode it as an image \(/),
    });
  });
  it('states the pixel limit for a huge PNG, before decoding it', async () => {
    const { crc32, deflateSync } = await import('node:zlib');
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
      const out = Buffer.alloc(8 + data.length + 4);
      out.writeUInt32BE(data.length, 0);
      body.copy(out, 4);
      out.writeUInt32BE(crc32(body), 8 + data.length);
      return out;
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(20_000, 0);
    ihdr.writeUInt32BE(20_000, 4);
    ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grayscale
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(10))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    const huge = join(dir, 'huge.png');
    await import('node:fs/promises').then((fs) => fs.writeFile(huge, png));
    await expect(loadImageAs28(huge)).rejects.toMatchObject({
      code: 'E_IMAGE_SIZE',
      message: expect.stringMatching(
        /huge\.png: 20000 × 20000 pixels \(400 megapixels\) is more than the 268 megapixels \(16,383 × 16,383\) decoded\. Scale it down first/,
      ),
    });
  });
});

it('terminalArt draws 14 lines of 28 columns', () => {
  const px = new Uint8Array(784);
  for (let i = 0; i < 784; i++) px[i] = i % 28 < 14 ? 255 : 0;
  const ascii = terminalArt(px, false);
  expect(ascii).toHaveLength(14);
  expect(ascii[0]).toBe('@'.repeat(14));
  const color = terminalArt(px, true);
  expect(color[0]).toContain('▀');
});

describe('only raster images reach the decoder', () => {
  const refused = async (name: string, content: string | Uint8Array, message: RegExp) => {
    const file = join(dir, name);
    await writeFile(file, content);
    await expect(loadImageAs28(file)).rejects.toMatchObject({
      name: 'FmnistClassifyError',
      code: 'E_IMAGE_DECODE',
      message: expect.stringMatching(message),
    });
  };
  it('refuses an SVG that pulls in a local file', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><image href="file:///etc/passwd" width="28" height="28"/></svg>';
    await refused('leak.svg', svg, /leak\.svg: SVG and other XML\/HTML images are refused.*Convert it to a PNG/);
  });
  it('refuses SVG whatever its name, with a BOM, an XML declaration or leading blanks', async () => {
    await refused('photo.png', '<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/hostname"/></svg>', /SVG/);
    await refused('a.svg', '\uFEFF<?xml version="1.0"?>\n<svg/>', /SVG/);
    await refused('b.svg', '  \n\t<svg/>', /SVG/);
    await refused('c.html', '<!doctype html><img src="file:///etc/passwd">', /SVG and other XML\/HTML/);
  });
  it('refuses PDF, PPM and text files before decoding', async () => {
    await refused(
      'd.pdf',
      '%PDF-1.4\n',
      /d\.pdf: not an image \(its first bytes are not those of a PNG, JPEG, WebP, GIF, TIFF or AVIF file\)/,
    );
    await refused('e.ppm', 'P6\n28 28\n255\n', /not an image \(/);
    await refused('f.txt', 'hello', /not an image \(/);
  });
  it('reads every raster format it recognises', async () => {
    const px = Buffer.alloc(16 * 16 * 3, 200);
    const img = () => sharp(px, { raw: { width: 16, height: 16, channels: 3 } });
    for (const [ext, encode] of [
      ['png', () => img().png()],
      ['jpeg', () => img().jpeg()],
      ['webp', () => img().webp()],
      ['gif', () => img().gif()],
      ['tiff', () => img().tiff()],
    ] as const) {
      const file = join(dir, `ok.${ext}`);
      await encode().toFile(file);
      expect((await loadImageAs28(file)).format).toBe(ext);
    }
  });
});
