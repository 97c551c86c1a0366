/**
 * The browser inputs with the DOM APIs stubbed (Node has none): canvases, `ImageBitmap` drawn onto an
 * `OffscreenCanvas`, `Blob`s through `createImageBitmap`, and the errors where an API is missing or fails.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FmnistClassifyError } from './errors';
import { createClassifier } from './index';
import { fixtureModel } from './test-fixtures';

/** A fake 2D canvas whose pixels are `fill(x, y)` grey, opaque. */
function fakeCanvas(width: number, height: number, fill: (x: number, y: number) => number, drawn: unknown[] = []) {
  return {
    width,
    height,
    getContext: (kind: string) =>
      kind === '2d'
        ? {
            drawImage: (image: unknown) => drawn.push(image),
            getImageData: (_x: number, _y: number, w: number, h: number) => {
              const data = new Uint8ClampedArray(w * h * 4);
              for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([fill(x, y), fill(x, y), fill(x, y), 255], (y * w + x) * 4);
              return { data, width: w, height: h };
            },
          }
        : null,
  };
}

class FakeBitmap {
  closed = false;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {}
  close() {
    this.closed = true;
  }
}

const stripe = (x: number) => (x >= 10 && x < 18 ? 255 : 0);

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('browser inputs', () => {
  it('reads a canvas through its 2D context; refuses one without and an empty one', async () => {
    const c = await createClassifier({ model: fixtureModel() });
    const fromCanvas = await c.prepare(fakeCanvas(28, 28, stripe), { crop: false });
    expect(fromCanvas.pixels[5 * 28 + 12]).toBe(255);
    expect(fromCanvas.pixels[5 * 28 + 2]).toBe(0);
    const webgl = { width: 28, height: 28, getContext: () => null };
    await expect(c.classify(webgl)).rejects.toMatchObject({ code: 'E_IMAGE_UNSUPPORTED', message: expect.stringMatching(/2D context/) });
    await expect(c.classify(fakeCanvas(0, 0, stripe))).rejects.toMatchObject({ code: 'E_IMAGE_SIZE' });
  });

  it('draws an ImageBitmap onto an OffscreenCanvas', async () => {
    const drawn: unknown[] = [];
    vi.stubGlobal('ImageBitmap', FakeBitmap);
    vi.stubGlobal(
      'OffscreenCanvas',
      class {
        constructor(w: number, h: number) {
          // biome-ignore lint/correctness/noConstructorReturn: a stub returning the fake canvas
          return fakeCanvas(w, h, stripe, drawn);
        }
      },
    );
    const c = await createClassifier({ model: fixtureModel() });
    const bitmap = new FakeBitmap(56, 28);
    const prepared = await c.prepare(bitmap as never, { crop: false });
    expect(drawn).toEqual([bitmap]);
    expect(prepared).toMatchObject({ width: 56, height: 28 });
  });

  it('decodes a Blob with createImageBitmap and closes the bitmap; a decode failure is E_IMAGE_DECODE', async () => {
    const bitmaps: FakeBitmap[] = [];
    vi.stubGlobal('ImageBitmap', FakeBitmap);
    vi.stubGlobal(
      'OffscreenCanvas',
      class {
        constructor(w: number, h: number) {
          // biome-ignore lint/correctness/noConstructorReturn: a stub returning the fake canvas
          return fakeCanvas(w, h, stripe);
        }
      },
    );
    vi.stubGlobal('createImageBitmap', async (blob: Blob) => {
      if (blob.size < 4) throw new Error('The source image could not be decoded.');
      const b = new FakeBitmap(28, 28);
      bitmaps.push(b);
      return b;
    });
    const c = await createClassifier({ model: fixtureModel() });
    expect(await c.classify(new Blob([new Uint8Array(16)]), { topK: 2 })).toHaveLength(2);
    expect(await c.classify(new Uint8Array(16), { topK: 2 })).toHaveLength(2);
    expect(bitmaps.map((b) => b.closed)).toEqual([true, true]);
    let error: unknown;
    try {
      await c.classify(new Blob([new Uint8Array(2)]));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FmnistClassifyError);
    expect(error).toMatchObject({
      code: 'E_IMAGE_DECODE',
      message: 'Blob: cannot decode it as an image (The source image could not be decoded.). Pass a PNG, JPEG, WebP or GIF file.',
    });
  });
});
