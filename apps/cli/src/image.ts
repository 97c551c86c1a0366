/**
 * Turning any picture into what the model expects: 28×28 grayscale, light object on a dark background (Fashion-MNIST's
 * convention), bytes 0–255. Decoding, EXIF rotation, flattening of transparency and resizing are done by sharp.
 */
import { ExitError } from './errors';
import { checkInputPath } from './files';

/** Options of {@link loadImageAs28}. */
export interface ImageOptions {
  /** Invert (dark object on a light background → light on dark). */
  invert?: boolean;
  /** Invert when the border is lighter than mid-grey (a light background). */
  autoInvert?: boolean;
}

/** The converted image and what was done to it. */
export interface PreparedImage {
  pixels: Uint8Array;
  /** Original size. */
  width: number;
  height: number;
  format: string;
  inverted: boolean;
}

/** Mean of the outermost ring of pixels of a 28×28 image. */
export function borderMean(pixels: Uint8Array, size = 28): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < size; i++) {
    for (const [r, c] of [
      [0, i],
      [size - 1, i],
      [i, 0],
      [i, size - 1],
    ] as const) {
      sum += pixels[r * size + c] as number;
      n++;
    }
  }
  return sum / n;
}

/**
 * Reads an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF, SVG) and converts it: EXIF rotation, transparency flattened
 * onto the background, grayscale, fitted into 28×28 keeping its aspect ratio (padded with the background), optionally
 * inverted.
 *
 * @param file - the image path
 * @param options - `invert`, `autoInvert`
 * @returns 784 bytes, row-major
 * @throws ExitError when the file is missing, not a regular file, too large, corrupt or not an image
 */
export async function loadImageAs28(file: string, options: ImageOptions = {}): Promise<PreparedImage> {
  checkInputPath(file, { expected: 'an image file (PNG, JPEG, WebP, GIF or TIFF)' });
  const { default: sharp } = await import('sharp');
  const open = () => sharp(file, { limitInputPixels: MAX_INPUT_PIXELS });
  // The header only: no pixel limit here, so a too-large picture is refused below with its size.
  const meta = await decoding(file, () => sharp(file, { limitInputPixels: false }).metadata());
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > MAX_INPUT_PIXELS) throw tooLarge(file, meta.width ?? 0, meta.height ?? 0);
  const converted = await decoding(file, () => convertAs28(open, options));
  return {
    pixels: converted.pixels,
    width: meta.width ?? 0,
    height: meta.height ?? 0,
    format: meta.format ?? 'unknown',
    inverted: converted.inverted,
  };
}

/** Most pixels fmnist decodes from one picture: sharp's default limit, 16,383 × 16,383 (about 268 megapixels). */
export const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

const tooLarge = (file: string, width: number, height: number) =>
  new ExitError(
    `${file}: ${width} × ${height} pixels (${((width * height) / 1e6).toFixed(0)} megapixels) is more than the ${(MAX_INPUT_PIXELS / 1e6).toFixed(0)} megapixels (16,383 × 16,383) fmnist decodes. Scale it down first (the model sees 28 × 28)`,
  );

/**
 * Runs a sharp step on `file`, turning its decode errors (a corrupt or truncated file, a format sharp lacks, too many
 * pixels) into one {@link ExitError} that names the file.
 */
async function decoding<T>(file: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof ExitError) throw err;
    const msg = ((err as Error).message ?? String(err)).split('\n')[0]?.trim();
    const limit = /pixel limit/i.exec(msg ?? '');
    if (limit)
      throw new ExitError(
        `${file}: more than the ${(MAX_INPUT_PIXELS / 1e6).toFixed(0)} megapixels (16,383 × 16,383) fmnist decodes. Scale it down first (the model sees 28 × 28).`,
        1,
        { cause: err },
      );
    throw new ExitError(`${file}: cannot decode it as an image (${msg}). Pass an intact PNG, JPEG, WebP, GIF or TIFF file.`, 1, {
      cause: err,
    });
  }
}

/**
 * The conversion itself, on any picture sharp can open: EXIF rotation, transparency flattened onto the background,
 * grayscale, fitted into 28×28 keeping its aspect ratio (Lanczos-3, padded with the background), optionally inverted.
 * Also the reference the web app's own pipeline is tested against.
 *
 * @param open - returns a fresh sharp pipeline on the picture (called once or twice)
 * @param options - `invert`, `autoInvert`
 * @returns 784 bytes, row-major, and whether they were inverted
 */
export async function convertAs28(
  open: () => import('sharp').Sharp,
  options: ImageOptions = {},
): Promise<{ pixels: Uint8Array; inverted: boolean }> {
  // Fashion-MNIST is light-on-dark: pad/flatten with black, unless the picture is going to be inverted.
  const convert = async (background: number) => {
    const bg = { r: background, g: background, b: background, alpha: 1 };
    const { data, info } = await open()
      .rotate()
      .flatten({ background: bg })
      .grayscale()
      .resize(28, 28, { fit: 'contain', background: bg, kernel: 'lanczos3' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const out = new Uint8Array(784);
    for (let i = 0; i < 784; i++) out[i] = data[i * info.channels] as number;
    return out;
  };
  let invert = Boolean(options.invert);
  let pixels: Uint8Array;
  if (invert) pixels = await convert(255);
  else {
    pixels = await convert(0);
    if (options.autoInvert) {
      // Decide from the picture's own border (before padding): convert once with a white pad and look at the ring.
      const probe = await convert(255);
      if (borderMean(probe) > 127) {
        invert = true;
        pixels = probe;
      }
    }
  }
  if (invert) for (let i = 0; i < 784; i++) pixels[i] = 255 - (pixels[i] as number);
  return { pixels, inverted: invert };
}
