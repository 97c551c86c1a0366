/**
 * Turning any picture into what the model expects: 28×28 grayscale, light object on a dark background (Fashion-MNIST's
 * convention), bytes 0–255. Decoding, EXIF rotation, flattening of transparency and resizing are done by sharp.
 */
import { open, stat } from 'node:fs/promises';
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

/** Raster formats `predict` reads, by their magic bytes. None of them can make the decoder open another file. */
const RASTER_FORMATS: { name: string; test: (b: Uint8Array) => boolean }[] = [
  { name: 'PNG', test: (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v) },
  { name: 'JPEG', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { name: 'GIF', test: (b) => ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a' },
  { name: 'WebP', test: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP' },
  { name: 'TIFF', test: (b) => ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*' },
  { name: 'AVIF', test: (b) => ascii(b, 4, 8) === 'ftyp' && /^(avif|avis|heic|heix|mif1|msf1)$/.test(ascii(b, 8, 12)) },
];

const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/**
 * The raster format of a file's first bytes, or null for anything else (SVG, PDF, HTML, …).
 *
 * @param head - the first bytes of the file (16 are enough)
 * @returns `PNG`, `JPEG`, `GIF`, `WebP`, `TIFF`, `AVIF` or null
 *
 * @example
 * ```ts
 * sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])); // 'JPEG'
 * ```
 */
export function sniffImageFormat(head: Uint8Array): string | null {
  return RASTER_FORMATS.find((f) => f.test(head))?.name ?? null;
}

/**
 * Refuses a file that is not one of the raster formats, before sharp sees it: SVG (librsvg follows
 * `<image href="file:…">` and would pull local files into the picture), PDF, HTML and the other formats libvips can
 * open. Non-regular or unreadable files are left to the checks that follow.
 */
async function assertRasterImage(file: string): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) return;
  } catch {
    return;
  }
  const head = new Uint8Array(64);
  let length = 0;
  try {
    const handle = await open(file, 'r');
    try {
      ({ bytesRead: length } = await handle.read(head, 0, head.length, 0));
    } finally {
      await handle.close();
    }
  } catch {
    return;
  }
  const bytes = head.subarray(0, length);
  if (sniffImageFormat(bytes)) return;
  const text = new TextDecoder()
    .decode(bytes)
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (text.startsWith('<')) {
    throw new ExitError(
      `${file}: SVG and other XML/HTML images are refused: they can make the decoder read other files (<image href="file:…">). Convert it to a PNG first.`,
    );
  }
  throw new ExitError(
    `${file}: not an image fmnist reads (its first bytes are not those of a PNG, JPEG, WebP, GIF, TIFF or AVIF file). Use one of those formats.`,
  );
}

/**
 * Reads an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF; recognised by its first bytes, so SVG and formats that can
 * reference other files are refused before decoding) and converts it: EXIF rotation, transparency flattened
 * onto the background, grayscale, fitted into 28×28 keeping its aspect ratio (padded with the background), optionally
 * inverted.
 *
 * @param file - the image path
 * @param options - `invert`, `autoInvert`
 * @returns 784 bytes, row-major
 * @throws ExitError when the file is missing, not a regular file, too large, corrupt, not an image, or SVG or another
 *   format that is not a plain raster
 */
export async function loadImageAs28(file: string, options: ImageOptions = {}): Promise<PreparedImage> {
  checkInputPath(file, { expected: 'an image file (PNG, JPEG, WebP, GIF, TIFF or AVIF)' });
  await assertRasterImage(file);
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
