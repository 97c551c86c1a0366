/**
 * The one conversion of a picture into what the model expects, shared by `createClassifier`, `fmnist predict` and the
 * web app's Upload and Draw views: transparency flattened onto the background, grayscale, optionally cropped to the
 * garment, fitted into 28×28 keeping the aspect ratio (padded with the background, Lanczos-3 resampling, as sharp's
 * `fit: 'contain'`), optionally inverted so the garment is light on a dark background (Fashion-MNIST's convention),
 * bytes 0–255. The model then takes the bytes / 255 ({@link toModelInput}).
 *
 * Pure functions on RGBA / grayscale arrays: no DOM, no Node built-ins, so they run (and are tested) everywhere.
 */
import { IMAGE_PIXELS, normalize } from '@fmnist/data';
import { FmnistClassifyError } from './errors';

/** Side of the model's input image, in pixels. */
export const IMAGE_SIZE = 28;

/** Above this mean border value (0–255) a picture counts as having a light background, and `invert: 'auto'` inverts. */
export const AUTO_INVERT_THRESHOLD = 127;

/** Pixels that differ from the background by more than this (0–255) count as content for {@link cropToContent}. */
export const DEFAULT_CONTENT_THRESHOLD = 32;

/**
 * Most pixels one picture may have: 16,383 × 16,383 (about 268 megapixels), sharp's default `limitInputPixels`. The
 * model sees 28 × 28, so anything larger is refused rather than allocated.
 */
export const MAX_IMAGE_PIXELS = 0x3fff * 0x3fff;

/** An RGBA picture, 4 bytes per pixel, row-major (what `CanvasRenderingContext2D.getImageData` returns). */
export interface RgbaImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/** A one-channel picture with values in [0, 255] (floats keep precision between resampling passes). */
export interface GrayImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** How to invert: always, never, or `'auto'` (when the picture's border is light: a dark garment on a light background). */
export type InvertMode = boolean | 'auto';

/** Options of {@link prepareImage}. */
export interface PrepareOptions {
  /**
   * Invert (dark garment on a light background → light on dark). `'auto'` decides from the mean of the picture's own
   * outermost ring of pixels (transparency counted as white): above {@link AUTO_INVERT_THRESHOLD} it inverts.
   * @defaultValue 'auto'
   */
  invert?: InvertMode;
  /**
   * Crop to the garment (the pixels differing from the picture's background, its border colour, by more than
   * {@link DEFAULT_CONTENT_THRESHOLD}) before fitting into 28×28, so a garment photographed on a table or a small
   * drawing fills the frame as the dataset's garments do.
   * @defaultValue true
   */
  crop?: boolean;
}

/** What {@link prepareImage} returns. */
export interface PreparedImage {
  /** 784 bytes, row-major, light garment on dark. */
  pixels: Uint8Array;
  /** Whether the picture was inverted (by request, or by `'auto'`). */
  inverted: boolean;
  /** Whether it was cropped to its content (false when `crop` is off or nothing but background was found). */
  cropped: boolean;
  /** True when cropping found nothing but background (nothing drawn yet, a blank photo). */
  empty: boolean;
}

/**
 * Checks a picture's size and data length: positive integer sides, at most {@link MAX_IMAGE_PIXELS} pixels, exactly
 * `width × height × channels` values.
 *
 * @param width - width in pixels
 * @param height - height in pixels
 * @param length - number of values in its data
 * @param channels - values per pixel
 * @param what - the argument's name for the message
 * @throws FmnistClassifyError `E_IMAGE_SIZE` for a bad size, `E_IMAGE_DATA` for a data length that does not match
 * @internal
 */
export function checkImageSize(width: number, height: number, length: number, channels: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new FmnistClassifyError(
      'E_IMAGE_SIZE',
      `'${what}' must have a positive integer width and height, got ${String(width)}×${String(height)}. Pass the picture's real size in pixels.`,
    );
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new FmnistClassifyError(
      'E_IMAGE_SIZE',
      `'${what}' is ${width}×${height} pixels (${((width * height) / 1e6).toFixed(0)} megapixels), more than the ${(MAX_IMAGE_PIXELS / 1e6).toFixed(0)} megapixels (16,383 × 16,383) accepted. Scale it down first (the model sees 28×28).`,
    );
  }
  if (length !== width * height * channels) {
    throw new FmnistClassifyError(
      'E_IMAGE_DATA',
      `'${what}.data' must hold ${width}×${height}×${channels} = ${width * height * channels} values, got ${length}. Pass the data and the size of the same picture.`,
    );
  }
}

// sRGB ↔ linear light, as libvips does for sRGB → B_W (sharp's `.grayscale()`).
const SRGB_TO_LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

function linearToSrgb(y: number): number {
  const c = y <= 0.0031308 ? y * 12.92 : 1.055 * y ** (1 / 2.4) - 0.055;
  return Math.round(Math.min(1, Math.max(0, c)) * 255);
}

/**
 * Flattens transparency onto a gray background and converts to grayscale: the luminance (Rec. 709 weights in linear
 * light, back to sRGB), rounded to whole values like sharp's `.flatten().grayscale()`.
 *
 * @param image - RGBA pixels
 * @param background - gray value (0–255) that transparent pixels are blended onto
 * @returns a grayscale image of the same size
 * @throws FmnistClassifyError `E_IMAGE_SIZE` / `E_IMAGE_DATA` when the size and the data disagree
 *
 * @example
 * ```ts
 * toGrayscale({ data: new Uint8Array([255, 0, 0, 255]), width: 1, height: 1 }, 0).data; // Float32Array [127]
 * ```
 */
export function toGrayscale(image: RgbaImage, background: number): GrayImage {
  const { data, width, height } = image;
  checkImageSize(width, height, data.length, 4, 'image');
  const out = new Float32Array(width * height);
  // Gray inputs (R = G = B) map to themselves exactly.
  for (let i = 0, p = 0; i < out.length; i++, p += 4) {
    const alpha = (data[p + 3] as number) / 255;
    let r = data[p] as number;
    let g = data[p + 1] as number;
    let b = data[p + 2] as number;
    if (alpha < 1) {
      r = Math.round(r * alpha + background * (1 - alpha));
      g = Math.round(g * alpha + background * (1 - alpha));
      b = Math.round(b * alpha + background * (1 - alpha));
    }
    out[i] =
      r === g && g === b
        ? r
        : linearToSrgb(
            0.2126 * (SRGB_TO_LINEAR[r] as number) + 0.7152 * (SRGB_TO_LINEAR[g] as number) + 0.0722 * (SRGB_TO_LINEAR[b] as number),
          );
  }
  return { data: out, width, height };
}

/**
 * The bounding box of the pixels that differ from `background` by more than `threshold`, or null when there are none.
 *
 * @param image - grayscale image
 * @param background - the background value (0–255)
 * @param threshold - minimum difference that counts as content @defaultValue {@link DEFAULT_CONTENT_THRESHOLD}
 * @returns `{ x, y, width, height }` in pixels, or null for an empty picture
 *
 * @example
 * ```ts
 * contentBounds({ data: new Float32Array([0, 0, 0, 255]), width: 2, height: 2 }, 0); // { x: 1, y: 1, width: 1, height: 1 }
 * ```
 */
export function contentBounds(
  image: GrayImage,
  background: number,
  threshold = DEFAULT_CONTENT_THRESHOLD,
): { x: number; y: number; width: number; height: number } | null {
  const { data, width, height } = image;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (Math.abs((data[y * width + x] as number) - background) > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/**
 * Crops a grayscale image to its content ({@link contentBounds}).
 *
 * @param image - grayscale image
 * @param background - the background value (0–255)
 * @param threshold - minimum difference that counts as content @defaultValue {@link DEFAULT_CONTENT_THRESHOLD}
 * @returns the cropped image, or null when the image is only background
 *
 * @example
 * ```ts
 * cropToContent({ data: new Float32Array([0, 0, 0, 255]), width: 2, height: 2 }, 0); // { data: [255], width: 1, height: 1 }
 * ```
 */
export function cropToContent(image: GrayImage, background: number, threshold = DEFAULT_CONTENT_THRESHOLD): GrayImage | null {
  const box = contentBounds(image, background, threshold);
  if (!box) return null;
  const out = new Float32Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    const from = (box.y + y) * image.width + box.x;
    out.set(image.data.subarray(from, from + box.width), y * box.width);
  }
  return { data: out, width: box.width, height: box.height };
}

function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

/** Per output pixel: the first source index and the normalised Lanczos-3 weights (edges replicated). */
function lanczosWeights(srcSize: number, dstSize: number, scale: number): { index: Int32Array[]; weight: Float32Array[] } {
  const stretch = Math.max(1, scale); // widen the kernel when shrinking (anti-aliasing)
  const support = 3 * stretch;
  const index: Int32Array[] = [];
  const weight: Float32Array[] = [];
  for (let x = 0; x < dstSize; x++) {
    const centre = (x + 0.5) * scale - 0.5;
    const first = Math.floor(centre - support) + 1;
    const last = Math.ceil(centre + support) - 1;
    const n = last - first + 1;
    const idx = new Int32Array(n);
    const w = new Float32Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const i = first + k;
      idx[k] = Math.min(srcSize - 1, Math.max(0, i));
      w[k] = lanczos3((i - centre) / stretch);
      sum += w[k] as number;
    }
    for (let k = 0; k < n; k++) w[k] = (w[k] as number) / sum;
    index.push(idx);
    weight.push(w);
  }
  return { index, weight };
}

/**
 * Resizes a grayscale image with a separable Lanczos-3 filter (widened when shrinking, edges replicated), like libvips'
 * `reduce`. Values are not rounded.
 *
 * @param image - grayscale image
 * @param width - target width
 * @param height - target height
 * @param step - source pixels per target pixel on both axes (the sampling step); by default each axis' own ratio
 * @returns the resized image
 * @throws RangeError for a non-positive target size
 *
 * @example
 * ```ts
 * resizeLanczos({ data: new Float32Array(16).fill(9), width: 4, height: 4 }, 2, 2).data; // Float32Array [9, 9, 9, 9]
 * ```
 */
export function resizeLanczos(image: GrayImage, width: number, height: number, step?: number): GrayImage {
  checkImageSize(image.width, image.height, image.data.length, 1, 'image');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`the target size must be positive integers, got ${width}×${height}.`);
  }
  const { data: src, width: sw, height: sh } = image;
  // Horizontal pass: sh rows × width.
  const h = lanczosWeights(sw, width, step ?? sw / width);
  const tmp = new Float32Array(width * sh);
  for (let y = 0; y < sh; y++) {
    const row = y * sw;
    for (let x = 0; x < width; x++) {
      const idx = h.index[x] as Int32Array;
      const w = h.weight[x] as Float32Array;
      let acc = 0;
      for (let k = 0; k < idx.length; k++) acc += (src[row + (idx[k] as number)] as number) * (w[k] as number);
      tmp[y * width + x] = acc;
    }
  }
  // Vertical pass.
  const v = lanczosWeights(sh, height, step ?? sh / height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const idx = v.index[y] as Int32Array;
    const w = v.weight[y] as Float32Array;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = 0; k < idx.length; k++) acc += (tmp[(idx[k] as number) * width + x] as number) * (w[k] as number);
      out[y * width + x] = acc;
    }
  }
  return { data: out, width, height };
}

/**
 * Shrinks by whole factors, averaging each block (libvips' `shrink`, which `resize` uses before Lanczos for big
 * reductions). Blocks that overhang the edge replicate the last row/column.
 *
 * @param image - grayscale image
 * @param factorX - horizontal factor, an integer ≥ 1
 * @param factorY - vertical factor, an integer ≥ 1
 * @returns the shrunk image (`round(width / factorX)` × `round(height / factorY)`, at least 1×1)
 *
 * @example
 * ```ts
 * shrinkBox({ data: new Float32Array([0, 2, 4, 6]), width: 2, height: 2 }, 2, 2).data; // Float32Array [3]
 * ```
 */
export function shrinkBox(image: GrayImage, factorX: number, factorY: number): GrayImage {
  if (factorX === 1 && factorY === 1) return image;
  const { data, width, height } = image;
  const ow = Math.max(1, Math.round(width / factorX));
  const oh = Math.max(1, Math.round(height / factorY));
  const out = new Float32Array(ow * oh);
  const area = factorX * factorY;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      let acc = 0;
      for (let dy = 0; dy < factorY; dy++) {
        const y = Math.min(height - 1, oy * factorY + dy);
        for (let dx = 0; dx < factorX; dx++) acc += data[y * width + Math.min(width - 1, ox * factorX + dx)] as number;
      }
      out[oy * ow + ox] = acc / area;
    }
  }
  return { data: out, width: ow, height: oh };
}

/**
 * Fits a grayscale image into `size`×`size` keeping its aspect ratio (sharp's `fit: 'contain'` with Lanczos-3): a box
 * shrink by whole factors leaving at least 2× for the Lanczos pass (libvips' default reduction gap), centred, padded
 * with `background`, rounded to bytes.
 *
 * @param image - grayscale image
 * @param background - padding value (0–255)
 * @param size - side of the output @defaultValue {@link IMAGE_SIZE}
 * @returns `size × size` bytes, row-major
 *
 * @example
 * ```ts
 * fitToSquare({ data: new Float32Array(56 * 28).fill(200), width: 56, height: 28 }, 0).slice(0, 28); // rows 0–6 are padding: 0
 * ```
 */
export function fitToSquare(image: GrayImage, background: number, size = IMAGE_SIZE): Uint8Array {
  checkImageSize(image.width, image.height, image.data.length, 1, 'image');
  const scale = Math.min(size / image.width, size / image.height);
  const width = Math.min(size, Math.max(1, Math.round(image.width * scale)));
  const height = Math.min(size, Math.max(1, Math.round(image.height * scale)));
  const shrinkX = Math.max(1, Math.floor(image.width / width / 2));
  const shrinkY = Math.max(1, Math.floor(image.height / height / 2));
  const resized = resizeLanczos(shrinkBox(image, shrinkX, shrinkY), width, height);
  const out = new Uint8Array(size * size).fill(Math.round(background));
  const left = Math.floor((size - width) / 2);
  const top = Math.floor((size - height) / 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = Math.round(resized.data[y * width + x] as number);
      out[(top + y) * size + left + x] = Math.min(255, Math.max(0, v));
    }
  }
  return out;
}

/**
 * Mean of the outermost ring of pixels of a grayscale image (each border pixel counted once): the picture's background
 * colour, as `invert: 'auto'` and cropping see it.
 *
 * @param image - grayscale image
 * @returns the mean, 0–255
 *
 * @example
 * ```ts
 * borderMean({ data: new Float32Array(784).fill(255), width: 28, height: 28 }); // 255
 * ```
 */
export function borderMean(image: GrayImage): number {
  const { data, width, height } = image;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < height; y++) {
    const edge = y === 0 || y === height - 1;
    for (let x = 0; x < width; x += edge || width === 1 ? 1 : width - 1) {
      sum += data[y * width + x] as number;
      n++;
    }
  }
  return sum / n;
}

/**
 * Inverts bytes in place (`255 - v`).
 *
 * @param pixels - bytes to invert
 * @returns the same array
 *
 * @example
 * ```ts
 * invertPixels(new Uint8Array([0, 200])); // Uint8Array [255, 55]
 * ```
 */
export function invertPixels(pixels: Uint8Array): Uint8Array {
  for (let i = 0; i < pixels.length; i++) pixels[i] = 255 - (pixels[i] as number);
  return pixels;
}

/**
 * The whole conversion: flatten + grayscale, crop to the garment, fit into 28×28 (padded with black, or white when
 * inverting), invert. With `invert: 'auto'` it inverts when the mean of the picture's own border ring (transparency
 * flattened onto white) is above {@link AUTO_INVERT_THRESHOLD}: a light background, so a dark garment on it.
 * Cropping keeps the pixels that differ from that border colour by more than {@link DEFAULT_CONTENT_THRESHOLD}.
 *
 * @param image - RGBA bytes (`width × height × 4`), grey bytes (`width × height`) or a grayscale image (floats 0–255)
 * @param options - `invert` (`'auto'`), `crop` (true)
 * @returns 784 bytes and what was done
 * @throws FmnistClassifyError `E_IMAGE_SIZE` / `E_IMAGE_DATA` when the size and the data disagree
 *
 * @example
 * ```ts
 * const page = { data: new Uint8ClampedArray(60 * 40 * 4).fill(255), width: 60, height: 40 }; // a blank white page
 * prepareImage(page); // { inverted: true, cropped: false, empty: true, pixels: 784 zeros }
 * const { data, width, height } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
 * const { pixels } = prepareImage({ data, width, height }, { invert: false }); // white strokes on a black pad
 * ```
 */
export function prepareImage(image: RgbaImage | GrayImage, options: PrepareOptions = {}): PreparedImage {
  const invert = options.invert ?? 'auto';
  const crop = options.crop ?? true;
  if (invert !== true && invert !== false && invert !== 'auto') {
    throw new TypeError(`'invert' must be true, false or 'auto', got ${JSON.stringify(invert)}.`);
  }
  // One grey channel: floats 0–255 (a GrayImage), or bytes when there is one value per pixel; else RGBA bytes.
  const isGray = image.data instanceof Float32Array || image.data.length === image.width * image.height;
  if (isGray) checkImageSize(image.width, image.height, image.data.length, 1, 'image');
  const grayImage: GrayImage | undefined = !isGray
    ? undefined
    : image.data instanceof Float32Array
      ? (image as GrayImage)
      : { data: Float32Array.from(image.data), width: image.width, height: image.height };
  const grayOn = (background: number): GrayImage => grayImage ?? toGrayscale(image as RgbaImage, background);
  // The background as the picture shows it (transparency counted as white, as on a page).
  const onWhite = grayOn(255);
  const border = borderMean(onWhite);
  const inverted = invert === 'auto' ? border > AUTO_INVERT_THRESHOLD : invert;
  const pad = inverted ? 255 : 0;
  let gray = inverted ? onWhite : grayOn(0);
  let cropped = false;
  let empty = false;
  if (crop) {
    // The background's colour in the flattening used: the border of the picture itself.
    const found = cropToContent(gray, inverted ? border : borderMean(gray));
    if (found) {
      cropped = found.width !== gray.width || found.height !== gray.height;
      gray = found;
    } else {
      empty = true;
      gray = { data: new Float32Array([pad]), width: 1, height: 1 };
    }
  }
  const pixels = fitToSquare(gray, pad);
  return { pixels: inverted ? invertPixels(pixels) : pixels, inverted, cropped, empty };
}

/**
 * Scales bytes to the model's input: pixels / 255 in [0, 1] (`normalization: 'unit'`), written into `out` at image
 * `index` when given (to fill a reused batch buffer without allocating).
 *
 * @param pixels - 784 bytes per image (one or several images)
 * @param out - optional batch buffer to write into
 * @param index - image slot in `out` @defaultValue 0
 * @returns the float input (`out` when given)
 *
 * @example
 * ```ts
 * toModelInput(new Uint8Array(784).fill(255))[0]; // 1
 * ```
 */
export function toModelInput(pixels: Uint8Array, out?: Float32Array, index = 0): Float32Array {
  if (pixels.length % IMAGE_PIXELS !== 0) {
    throw new RangeError(`'pixels' must hold whole 28×28 images (a multiple of ${IMAGE_PIXELS} bytes), got ${pixels.length}.`);
  }
  if (!out) return normalize(pixels, 'unit');
  const start = index * IMAGE_PIXELS;
  if (start + pixels.length > out.length) {
    throw new RangeError(
      `'out' holds ${out.length / IMAGE_PIXELS} images; image ${index} (+${pixels.length / IMAGE_PIXELS}) does not fit.`,
    );
  }
  normalize(pixels, 'unit', out.subarray(start, start + pixels.length));
  return out;
}
