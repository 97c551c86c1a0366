/**
 * Encoded images in Node: recognised by their first bytes (PNG, JPEG, GIF, WebP, TIFF, AVIF — SVG, PDF, HTML and the
 * other formats libvips opens are refused before decoding; SVG can make the decoder read local files through
 * `<image href="file:…">`), then decoded to RGBA with `sharp`, the optional peer dependency, imported only here.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { FmnistClassifyError } from './errors';
import type { PixelInput } from './image-input';
import { MAX_IMAGE_PIXELS } from './preprocess';

/** Largest image file read (bytes). */
export const MAX_IMAGE_FILE_BYTES = 512 * 1024 * 1024;

/** Raster formats read, by their magic bytes. None of them can make the decoder open another file. */
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
 * import { sniffImageFormat } from '@fmnist/classify/node';
 *
 * sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])); // 'JPEG'
 * ```
 */
export function sniffImageFormat(head: Uint8Array): string | null {
  return RASTER_FORMATS.find((f) => f.test(head))?.name ?? null;
}

type Sharp = typeof import('sharp').default;

let sharpModule: Promise<Sharp> | undefined;

/**
 * Imports the optional peer `sharp` once.
 * @throws FmnistClassifyError `E_SHARP_MISSING` when it is not installed or does not load
 * @internal
 */
export function importSharp(): Promise<Sharp> {
  sharpModule ??= import('sharp').then(
    (m) => (m as unknown as { default?: Sharp }).default ?? (m as unknown as Sharp),
    (err) => {
      sharpModule = undefined;
      // Not installed: ERR_MODULE_NOT_FOUND (ESM) / MODULE_NOT_FOUND (CJS), here or in a wrapped cause.
      let missing = false;
      for (
        let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
        e && depth < 5;
        e = e.cause as typeof e, depth++
      ) {
        if (
          e.code === 'ERR_MODULE_NOT_FOUND' ||
          e.code === 'MODULE_NOT_FOUND' ||
          /cannot find (package|module) 'sharp'/i.test(String(e.message))
        )
          missing = true;
      }
      throw new FmnistClassifyError(
        'E_SHARP_MISSING',
        `Decoding image files and encoded images needs the optional peer dependency sharp, which ${missing ? 'is not installed' : `did not load (${String((err as Error)?.message).split('\n')[0]})`}. Install it: npm i sharp (or pass decoded pixels { data, width, height }).`,
        { cause: err },
      );
    },
  );
  return sharpModule;
}

/** A decoded image with the format it had. */
export interface DecodedImage extends PixelInput {
  data: Uint8Array;
  /** `png`, `jpeg`, `webp`, `gif`, `tiff`, `heif`… as sharp names it. */
  format: string;
}

/**
 * Decodes an encoded image to RGBA bytes with sharp: EXIF orientation applied, at most {@link MAX_IMAGE_PIXELS} pixels.
 *
 * @param bytes - the encoded file
 * @param name - the file name (or `image bytes`) for messages
 * @returns RGBA pixels, size and format
 * @throws FmnistClassifyError `E_IMAGE_DECODE` for bytes that are not a raster image or are corrupt (SVG refused),
 *   `E_IMAGE_SIZE` for a picture of more than 16,383 × 16,383 pixels, `E_SHARP_MISSING` without sharp
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { decodeImage } from '@fmnist/classify/node';
 *
 * const { width, height, format } = await decodeImage(readFileSync('shoe.png'), 'shoe.png');
 * ```
 */
export async function decodeImage(bytes: Uint8Array, name = 'image bytes'): Promise<DecodedImage> {
  const head = bytes.subarray(0, 64);
  if (!sniffImageFormat(head)) {
    const text = new TextDecoder()
      .decode(head)
      .replace(/^\uFEFF/, '')
      .trimStart();
    if (text.startsWith('<')) {
      throw new FmnistClassifyError(
        'E_IMAGE_DECODE',
        `${name}: SVG and other XML/HTML images are refused: they can make the decoder read other files (<image href="file:…">). Convert it to a PNG first.`,
      );
    }
    throw new FmnistClassifyError(
      'E_IMAGE_DECODE',
      `${name}: not an image (${bytes.length === 0 ? 'it is empty' : 'its first bytes are not those of a PNG, JPEG, WebP, GIF, TIFF or AVIF file'}). Pass a PNG, JPEG, WebP, GIF, TIFF or AVIF image.`,
    );
  }
  const sharp = await importSharp();
  const decoding = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (err) {
      const msg = String((err as Error)?.message ?? err)
        .split('\n')[0]
        ?.trim();
      if (/pixel limit/i.test(msg ?? '')) throw tooLarge(name);
      throw new FmnistClassifyError(
        'E_IMAGE_DECODE',
        `${name}: cannot decode it as an image (${msg}). Pass an intact PNG, JPEG, WebP, GIF or TIFF file.`,
        {
          cause: err,
        },
      );
    }
  };
  // The header only: no pixel limit here, so a too-large picture is refused below with its size.
  const meta = await decoding(() => sharp(bytes, { limitInputPixels: false }).metadata());
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > MAX_IMAGE_PIXELS) throw tooLarge(name, width, height);
  const { data, info } = await decoding(() =>
    sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true }),
  );
  if (info.channels !== 4) throw new FmnistClassifyError('E_IMAGE_DECODE', `${name}: decoded to ${info.channels} channels, expected RGBA.`);
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    format: meta.format ?? 'unknown',
  };
}

const tooLarge = (name: string, width?: number, height?: number) =>
  new FmnistClassifyError(
    'E_IMAGE_SIZE',
    `${name}: ${width ? `${width} × ${height} pixels (${((width * (height ?? 0)) / 1e6).toFixed(0)} megapixels) is ` : ''}more than the ${(MAX_IMAGE_PIXELS / 1e6).toFixed(0)} megapixels (16,383 × 16,383) decoded. Scale it down first (the model sees 28 × 28).`,
  );

/**
 * Reads a whole regular file (refusing directories, FIFOs and devices without blocking, and files over `maxBytes`).
 *
 * @param path - the file
 * @param what - what the file is meant to be, for messages
 * @param maxBytes - largest size read
 * @returns its bytes
 * @throws FmnistClassifyError `E_FILE` for a missing, unreadable or non-regular file, or one that is too large
 * @internal
 */
export async function readRegularFile(path: string, what: string, maxBytes: number): Promise<Uint8Array> {
  const fail = (why: string, cause?: unknown): never => {
    throw new FmnistClassifyError('E_FILE', `${path}: ${why}. Pass the path of ${what}.`, cause === undefined ? undefined : { cause });
  };
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : `cannot be opened (${code ?? (err as Error).message})`;
    return fail(why, err);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) fail('is a directory');
    if (!info.isFile()) fail('is not a regular file (a FIFO, socket or device)');
    if (info.size > maxBytes) fail(`is ${info.size} bytes, more than the ${maxBytes} read`);
    const bytes = await handle.readFile();
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (err) {
    if (err instanceof FmnistClassifyError) throw err;
    return fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
  } finally {
    await handle.close();
  }
}
