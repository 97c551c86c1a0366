/**
 * Turning an image file into what the model expects: 28×28 grayscale, light garment on a dark background
 * (Fashion-MNIST's convention), bytes 0–255. The file's path is checked here (the CLI's messages for missing files,
 * FIFOs, devices, /proc); decoding (sharp: raster formats only, recognised by their first bytes, EXIF rotation) and
 * the conversion itself (`prepareImage`: grayscale, crop to the garment, fit, invert) are `@fmnist/classify`'s — the one
 * implementation shared with `createClassifier` and the web app.
 */
import { type InvertMode, prepareImage, readImage, readPixels } from '@fmnist/classify/node';
import { checkInputPath } from './files';

/** Options of {@link loadImageAs28}. */
export interface ImageOptions {
  /** Invert (dark garment on a light background → light on dark); `'auto'` when the picture's border is light. @defaultValue 'auto' */
  invert?: InvertMode;
  /** Crop to the garment before fitting it into 28×28. @defaultValue true */
  crop?: boolean;
}

/** The converted image and what was done to it. */
export interface PreparedImage {
  pixels: Uint8Array;
  /** Original size. */
  width: number;
  height: number;
  format: string;
  inverted: boolean;
  cropped: boolean;
  /** Nothing but background was found (a blank or one-colour picture): a prediction from it is a guess. */
  empty: boolean;
}

/**
 * Reads an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF; SVG and formats that can reference other files are refused
 * before decoding) and converts it with `@fmnist/classify`'s `prepareImage`.
 *
 * @param file - the image path
 * @param options - `invert`, `crop`
 * @returns 784 bytes, row-major, and what was done
 * @throws ExitError when the path is missing, not a regular file or unreadable; FmnistClassifyError `E_IMAGE_DECODE`
 *   (not an image, corrupt, SVG), `E_IMAGE_SIZE` (more than 16,383 × 16,383 pixels)
 */
export async function loadImageAs28(file: string, options: ImageOptions = {}): Promise<PreparedImage> {
  checkInputPath(file, { expected: 'an image file (PNG, JPEG, WebP, GIF, TIFF or AVIF)' });
  const decoded = await readImage(file);
  const prepared = prepareImage(readPixels(decoded, file), { invert: options.invert ?? 'auto', crop: options.crop ?? true });
  return {
    pixels: prepared.pixels,
    width: decoded.width,
    height: decoded.height,
    format: decoded.format,
    inverted: prepared.inverted,
    cropped: prepared.cropped,
    empty: prepared.empty,
  };
}
