import { getImage, loadFashionMnist, normalize } from '@fmnist/data/node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { FmnistClassifyError } from './errors';
import {
  borderMean,
  contentBounds,
  cropToContent,
  fitToSquare,
  type GrayImage,
  invertPixels,
  prepareImage,
  type RgbaImage,
  resizeLanczos,
  shrinkBox,
  toGrayscale,
  toModelInput,
} from './preprocess';

/** RGBA image filled by a function of (x, y). */
function rgba(width: number, height: number, fill: (x: number, y: number) => [number, number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(fill(x, y), (y * width + x) * 4);
  }
  return { data, width, height };
}

function gray(width: number, height: number, fill: (x: number, y: number) => number): GrayImage {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = fill(x, y);
  return { data, width, height };
}

/** A 28×28 byte image as RGBA, scaled up `k` times by pixel replication (a "photo" of a test image). */
function upscale(pixels: Uint8Array, k: number, tint: (v: number) => [number, number, number] = (v) => [v, v, v]): RgbaImage {
  return rgba(28 * k, 28 * k, (x, y) => [...tint(pixels[Math.floor(y / k) * 28 + Math.floor(x / k)] as number), 255]);
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('toGrayscale', () => {
  it('keeps gray values and takes the linear-light luminance of colours (like libvips)', () => {
    const img = rgba(
      4,
      1,
      (x) => [[0, 0, 0, 255] as const, [200, 200, 200, 255] as const, [255, 0, 0, 255] as const, [0, 255, 0, 255] as const][x] as never,
    );
    expect(Array.from(toGrayscale(img, 0).data)).toEqual([0, 200, 127, 220]);
  });

  it('flattens transparency onto the background', () => {
    const img = rgba(2, 1, (x) => (x === 0 ? [255, 255, 255, 0] : [255, 255, 255, 128]));
    expect(Array.from(toGrayscale(img, 0).data)).toEqual([0, 128]);
    expect(Array.from(toGrayscale(img, 255).data)).toEqual([255, 255]);
  });

  it('rejects data that does not match the size, and zero or huge sizes, with coded errors', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(FmnistClassifyError);
        return [(err as FmnistClassifyError).code, (err as Error).message];
      }
      return expect.unreachable();
    };
    expect(code(() => toGrayscale({ data: new Uint8Array(12), width: 2, height: 2 }, 0))).toEqual([
      'E_IMAGE_DATA',
      "'image.data' must hold 2×2×4 = 16 values, got 12. Pass the data and the size of the same picture.",
    ]);
    expect(code(() => toGrayscale({ data: new Uint8Array(0), width: 0, height: 0 }, 0))[0]).toBe('E_IMAGE_SIZE');
    expect(code(() => toGrayscale({ data: new Uint8Array(4), width: 0.5, height: 2 }, 0))[1]).toMatch(
      /positive integer width and height, got 0.5×2/,
    );
    expect(code(() => toGrayscale({ data: new Uint8Array(4), width: 20_000, height: 20_000 }, 0))[1]).toMatch(
      /20000×20000 pixels \(400 megapixels\), more than the 268 megapixels/,
    );
    expect(code(() => prepareImage({ data: new Float32Array(3), width: 2, height: 2 }))[0]).toBe('E_IMAGE_DATA');
  });
});

describe('resizing', () => {
  it('keeps a constant image constant and is the identity at the same size', () => {
    const flat = resizeLanczos(
      gray(57, 31, () => 77),
      28,
      15,
    );
    for (const v of flat.data) expect(v).toBeCloseTo(77, 4);
    const ramp = gray(28, 28, (x, y) => (x * 9 + y * 3) % 256);
    const same = resizeLanczos(ramp, 28, 28);
    for (let i = 0; i < ramp.data.length; i++) expect(same.data[i]).toBeCloseTo(ramp.data[i] as number, 4);
  });

  it('box-shrinks by averaging whole blocks', () => {
    const img = gray(4, 2, (x, y) => x + 10 * y);
    expect(Array.from(shrinkBox(img, 2, 2).data)).toEqual([5.5, 7.5]);
    expect(shrinkBox(img, 1, 1)).toBe(img);
  });

  it('fits a wide picture into 28×28, centred and padded with the background', () => {
    const out = fitToSquare(
      gray(56, 28, () => 200),
      0,
    );
    expect(out.length).toBe(784);
    for (let y = 0; y < 28; y++) {
      const inside = y >= 7 && y < 21;
      expect(out[y * 28 + 14], `row ${y}`).toBe(inside ? 200 : 0);
    }
    const tall = fitToSquare(
      gray(10, 40, () => 255),
      30,
    );
    expect(tall[14 * 28]).toBe(30); // left padding
    expect(tall[14 * 28 + 14]).toBe(255);
  });

  it('returns a 28×28 input unchanged', () => {
    const img = gray(28, 28, (x, y) => (x * 31 + y * 17) % 256);
    expect(Array.from(fitToSquare(img, 0))).toEqual(Array.from(img.data));
  });
});

describe('content, border and inversion', () => {
  it('finds the bounding box of what differs from the background', () => {
    const img = gray(10, 8, (x, y) => (x >= 3 && x <= 5 && y >= 2 && y <= 6 ? 255 : 0));
    expect(contentBounds(img, 0)).toEqual({ x: 3, y: 2, width: 3, height: 5 });
    expect(cropToContent(img, 0)?.data.every((v) => v === 255)).toBe(true);
    expect(
      contentBounds(
        gray(5, 5, () => 10),
        0,
      ),
    ).toBeNull();
    expect(
      cropToContent(
        gray(5, 5, () => 10),
        0,
      ),
    ).toBeNull();
  });

  it('measures the border ring (each pixel once) and inverts bytes', () => {
    const img = gray(28, 10, (_, y) => (y === 0 ? 255 : 0)); // top row white
    // The ring: 28 + 28 + 2 × 8 = 72 pixels, 28 of them white.
    expect(borderMean(img)).toBeCloseTo((28 * 255) / 72, 6);
    expect(borderMean(gray(1, 3, (_, y) => y))).toBe(1);
    expect(borderMean(gray(5, 1, (x) => x))).toBe(2);
    expect(Array.from(invertPixels(Uint8Array.of(0, 55, 255)))).toEqual([255, 200, 0]);
  });
});

describe('prepareImage', () => {
  // A dark square on a white page: a photo of a dark garment on a light table.
  const darkOnLight = rgba(84, 84, (x, y) => (x >= 21 && x < 63 && y >= 21 && y < 63 ? [30, 30, 30, 255] : [250, 250, 250, 255]));

  it('inverts on request, and automatically when the border is light', () => {
    const inverted = prepareImage(darkOnLight, { invert: true, crop: false });
    expect(inverted.inverted).toBe(true);
    expect(inverted.pixels[0]).toBe(5); // background → dark
    expect(inverted.pixels[14 * 28 + 14]).toBe(225); // garment → light
    const auto = prepareImage(darkOnLight, { invert: 'auto', crop: false });
    expect(auto).toEqual(prepareImage(darkOnLight, { invert: true, crop: false }));
    expect(auto.inverted).toBe(true);
    const plain = prepareImage(darkOnLight, { invert: false, crop: false });
    expect(plain.inverted).toBe(false);
    expect(plain.pixels[0]).toBe(250);
  });

  it('takes grey bytes (one value per pixel) as well as RGBA and float grey images', () => {
    const bytes = Uint8Array.from({ length: 784 }, (_, i) => (i * 11) % 256);
    const fromBytes = prepareImage({ data: bytes, width: 28, height: 28 }, { invert: false, crop: false });
    expect(Array.from(fromBytes.pixels)).toEqual(Array.from(bytes));
    expect(prepareImage({ data: Float32Array.from(bytes), width: 28, height: 28 }, { invert: false, crop: false })).toEqual(fromBytes);
    const rgbaOf = rgba(28, 28, (x, y) => {
      const v = bytes[y * 28 + x] as number;
      return [v, v, v, 255];
    });
    expect(prepareImage(rgbaOf, { invert: false, crop: false })).toEqual(fromBytes);
  });

  it('does not auto-invert a light garment on a dark background', () => {
    const lightOnDark = rgba(84, 84, (x, y) => (x >= 21 && x < 63 && y >= 21 && y < 63 ? [240, 240, 240, 255] : [0, 0, 0, 255]));
    const auto = prepareImage(lightOnDark, { invert: 'auto', crop: false });
    expect(auto.inverted).toBe(false);
    expect(auto.pixels[14 * 28 + 14]).toBe(240);
  });

  it('decides auto-inversion from the picture itself, not from the padding of a wide picture', () => {
    // A dark 600×200 photo: fitted into 28×28 it gets black padding above and below either way; still not inverted.
    const wide = rgba(600, 200, (x, y) => (x > 250 && x < 350 && y > 50 && y < 150 ? [230, 230, 230, 255] : [20, 20, 20, 255]));
    expect(prepareImage(wide).inverted).toBe(false);
    // Transparency counts as white (a cut-out on a page): a dark garment on a transparent background is inverted.
    const cutOut = rgba(40, 40, (x, y) => (x > 10 && x < 30 && y > 5 && y < 35 ? [10, 10, 10, 255] : [0, 0, 0, 0]));
    const prepared = prepareImage(cutOut);
    expect(prepared.inverted).toBe(true);
    expect(prepared.cropped).toBe(true);
    expect(prepared.pixels[14 * 28 + 14]).toBe(245); // the garment, light
    expect(prepared.pixels[14 * 28 + 1]).toBe(0); // the padding, black
  });

  it('crops a garment photographed on a light background so it fills the frame (defaults: auto-invert, crop)', () => {
    // A 100×60 dark garment on a 600×400 off-white page: without cropping it covers a sixth of the frame.
    const photo = rgba(600, 400, (x, y) => (x >= 250 && x < 350 && y >= 170 && y < 230 ? [40, 40, 40, 255] : [235, 235, 235, 255]));
    const out = prepareImage(photo);
    expect(out).toMatchObject({ inverted: true, cropped: true, empty: false });
    // 100×60 → 28×17, centred: rows 6–22 hold the garment (light), the rows above and below are black padding.
    expect(out.pixels[14 * 28 + 0]).toBe(215);
    expect(out.pixels[14 * 28 + 27]).toBe(215);
    expect(out.pixels[2 * 28 + 14]).toBe(0);
    const uncropped = prepareImage(photo, { crop: false });
    expect(uncropped.cropped).toBe(false);
    expect(uncropped.pixels[14 * 28 + 0]).toBe(20); // the page, inverted: dark
    expect(() => prepareImage(photo, { invert: 'yes' as never })).toThrow(TypeError);
  });

  it('crops a small drawing so it fills the frame, and reports an empty pad', () => {
    const pad = rgba(280, 280, (x, y) => (x >= 20 && x < 60 && y >= 20 && y < 100 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
    const cropped = prepareImage(pad, { crop: true });
    expect(cropped).toMatchObject({ empty: false, cropped: true, inverted: false });
    // 40×80 → 14×28, centred: columns 7–20 are white over the full height.
    expect(cropped.pixels[0 * 28 + 14]).toBe(255);
    expect(cropped.pixels[27 * 28 + 14]).toBe(255);
    expect(cropped.pixels[14 * 28 + 2]).toBe(0);
    const uncropped = prepareImage(pad, { crop: false });
    expect(uncropped.pixels[27 * 28 + 14]).toBe(0);
    const blank = prepareImage(
      rgba(280, 280, () => [0, 0, 0, 255]),
      { crop: true },
    );
    expect(blank.empty).toBe(true);
    expect(blank.pixels.every((v) => v === 0)).toBe(true);
  });
});

describe('toModelInput', () => {
  it('scales by 1/255 exactly as @fmnist/data (and so the CLI) does', () => {
    const px = Uint8Array.from({ length: 784 }, (_, i) => i % 256);
    expect(toModelInput(px)).toEqual(normalize(px));
    const batch = new Float32Array(3 * 784);
    toModelInput(px, batch, 2);
    expect(batch.subarray(2 * 784)).toEqual(normalize(px));
    expect(batch[0]).toBe(0);
  });

  it('rejects partial images and slots out of range', () => {
    expect(() => toModelInput(new Uint8Array(100))).toThrow(RangeError);
    expect(() => toModelInput(new Uint8Array(784), new Float32Array(784), 1)).toThrow(/does not fit/);
  });
});

/**
 * The reference: sharp's own pipeline on raw RGBA (what `fmnist predict` ran before it shared this module) — flatten
 * onto the background, grayscale, `fit: 'contain'` with Lanczos-3, invert.
 */
async function sharpAs28(image: RgbaImage, options: { invert?: boolean } = {}): Promise<Uint8Array> {
  const background = options.invert ? 255 : 0;
  const bg = { r: background, g: background, b: background, alpha: 1 };
  const { data, info } = await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 4 } })
    .flatten({ background: bg })
    .grayscale()
    .resize(28, 28, { fit: 'contain', background: bg, kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(784);
  for (let i = 0; i < 784; i++) out[i] = data[i * info.channels] as number;
  if (options.invert) for (let i = 0; i < 784; i++) out[i] = 255 - (out[i] as number);
  return out;
}

// sharp on 7 images × 4 variants: well under a second on an idle machine, many seconds on a loaded CI runner.
describe('parity with the CLI (sharp) on real test images', { timeout: 60_000 }, () => {
  let images: Uint8Array[] = [];
  beforeAll(async () => {
    const { test } = await loadFashionMnist({ splits: ['test'], download: false });
    images = [0, 1, 2, 17, 123, 4567, 9999].map((i) => getImage(test, i));
  }, 60_000);

  it('gives nearly the same 28×28 bytes for upscaled photos of test images', async () => {
    for (const px of images) {
      for (const k of [2, 4, 10]) {
        const photo = upscale(px, k);
        const ours = prepareImage(photo, { invert: false, crop: false }).pixels;
        const theirs = await sharpAs28(photo);
        expect(meanAbsDiff(ours, theirs), `×${k}`).toBeLessThan(1.5);
        expect(maxAbsDiff(ours, theirs), `×${k}`).toBeLessThanOrEqual(24);
      }
    }
  });

  it('matches for tinted, non-square, inverted and auto-inverted pictures', async () => {
    for (const px of images) {
      // A brownish dark-on-light photo, 3:2.
      const brown = (v: number): [number, number, number] => [255 - v * 0.8, 245 - v * 0.85, 235 - v * 0.9];
      const base = upscale(px, 6, brown);
      const wide = rgba(252, 168, (x, y) => {
        const sx = Math.min(167, Math.max(0, x - 42));
        return x < 42 || x >= 210
          ? [250, 246, 240, 255]
          : (Array.from(base.data.subarray((y * 168 + sx) * 4, (y * 168 + sx) * 4 + 4)) as never);
      });
      for (const mode of [true, 'auto'] as const) {
        const ours = prepareImage(wide, { invert: mode, crop: false });
        const theirs = await sharpAs28(wide, { invert: true });
        expect(ours.inverted).toBe(true);
        // libvips samples non-square reductions slightly differently: a few pixels on sharp edges differ more.
        expect(meanAbsDiff(ours.pixels, theirs)).toBeLessThan(1.5);
        expect(maxAbsDiff(ours.pixels, theirs)).toBeLessThanOrEqual(40);
      }
    }
  });
});
