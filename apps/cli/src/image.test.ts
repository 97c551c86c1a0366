import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { borderMean, loadImageAs28 } from './image';
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
    const plain = await loadImageAs28(file);
    expect(plain.pixels).toHaveLength(784);
    expect(plain).toMatchObject({ width: 200, height: 100, format: 'jpeg', inverted: false });
    // letterboxed: the top rows are the black padding, the picture's white background fills the middle band
    expect(plain.pixels[0]).toBe(0);
    expect(plain.pixels[14 * 28 + 1]).toBeGreaterThan(200);
    expect(plain.pixels[14 * 28 + 14]).toBeLessThan(80);
  });
  it('--invert makes a dark object on a light background light on dark, like Fashion-MNIST', async () => {
    const file = join(dir, 'photo.jpg');
    const inv = await loadImageAs28(file, { invert: true });
    expect(inv.inverted).toBe(true);
    expect(borderMean(inv.pixels)).toBeLessThan(20);
    expect(inv.pixels[14 * 28 + 14]).toBeGreaterThan(150);
    const auto = await loadImageAs28(file, { autoInvert: true });
    expect(auto.inverted).toBe(true);
    expect(Array.from(auto.pixels)).toEqual(Array.from(inv.pixels));
  });
  it('names a missing or non-image file', async () => {
    await expect(loadImageAs28(join(dir, 'nope.png'))).rejects.toThrow(/nope\.png: no such file/);
    const bad = join(dir, 'bad.png');
    await sharp({ create: { width: 2, height: 2, channels: 3, background: '#fff' } })
      .png()
      .toFile(bad);
    await import('node:fs/promises').then((fs) => fs.writeFile(bad, 'not an image'));
    await expect(loadImageAs28(bad)).rejects.toThrow(
      /bad\.png: cannot decode it as an image \(Input file contains unsupported image format\)/,
    );
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
