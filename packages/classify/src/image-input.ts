/**
 * Pixel inputs of the classifier, checked once: `{ data, width, height }` with one grey channel or RGBA, as bytes
 * (0–255) or floats (0–1). Everything becomes an {@link RgbaImage} or a {@link GrayImage} for {@link prepareImage}.
 */
import { FmnistClassifyError } from './errors';
import { checkImageSize, type GrayImage, type RgbaImage } from './preprocess';

/**
 * Decoded pixels: `width × height` values (grey) or `width × height × 4` (RGBA, as `ImageData`), row-major. Bytes
 * (`Uint8Array`, `Uint8ClampedArray`) are 0–255; floats (`Float32Array`, `Float64Array`) are 0–1.
 */
export interface PixelInput {
  data: Uint8Array | Uint8ClampedArray | Float32Array | Float64Array;
  width: number;
  height: number;
}

const isPixelData = (d: unknown): d is PixelInput['data'] =>
  d instanceof Uint8Array || d instanceof Uint8ClampedArray || d instanceof Float32Array || d instanceof Float64Array;

/**
 * Whether a value looks like a {@link PixelInput} (an object with `data`, `width` and `height`), as `ImageData` does.
 *
 * @param value - anything
 * @returns true for `{ data, width, height }`
 * @internal
 */
export function isPixelInput(value: unknown): value is PixelInput {
  return typeof value === 'object' && value !== null && 'data' in value && 'width' in value && 'height' in value;
}

/**
 * Checks a {@link PixelInput} and converts it for {@link prepareImage}: RGBA bytes as they are, grey or float data
 * into a grayscale image with values 0–255.
 *
 * @param input - the pixels
 * @param what - the argument's name for messages @defaultValue 'image'
 * @returns an RGBA image (bytes) or a grayscale image (floats 0–255)
 * @throws TypeError when `data` is not one of the four typed arrays; FmnistClassifyError `E_IMAGE_SIZE` for a width or
 *   height that is not a positive integer or too many pixels, `E_IMAGE_DATA` for a length that is neither
 *   `width × height` nor `width × height × 4`, or a float that is NaN or outside [0, 1]
 *
 * @example
 * ```ts
 * import { readPixels } from '@fmnist/classify';
 *
 * readPixels({ data: new Float32Array(784).fill(0.5), width: 28, height: 28 }).data[0]; // 127.5
 * ```
 */
export function readPixels(input: PixelInput, what = 'image'): RgbaImage | GrayImage {
  const { data, width, height } = input;
  if (!isPixelData(data)) {
    const got =
      data === null
        ? 'null'
        : Array.isArray(data)
          ? 'an Array'
          : typeof data === 'object'
            ? (data as object).constructor?.name
            : typeof data;
    throw new TypeError(
      `'${what}.data' must be a Uint8Array, Uint8ClampedArray (bytes 0–255), Float32Array or Float64Array (0–1), got ${got}. Wrap plain arrays, e.g. new Uint8Array(values).`,
    );
  }
  checkImageSize(width, height, width * height, 1, what); // the size alone (positive integers, pixel limit)
  const pixels = width * height;
  const channels = data.length === pixels ? 1 : data.length === pixels * 4 ? 4 : 0;
  if (channels === 0) {
    throw new FmnistClassifyError(
      'E_IMAGE_DATA',
      `'${what}.data' holds ${data.length} values, but a ${width}×${height} picture has ${pixels} (grey) or ${pixels * 4} (RGBA). Pass the data and the size of the same picture.`,
    );
  }
  const isFloat = data instanceof Float32Array || data instanceof Float64Array;
  if (isFloat) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (!(v >= 0 && v <= 1)) {
        throw new FmnistClassifyError(
          'E_IMAGE_DATA',
          `'${what}.data[${i}]' is ${v}; float pixels must be numbers in [0, 1]. Scale bytes by 1/255, or pass a Uint8Array of 0–255.`,
        );
      }
    }
  }
  if (channels === 4) {
    if (!isFloat) return { data: data as Uint8Array | Uint8ClampedArray, width, height };
    const bytes = new Uint8ClampedArray(data.length);
    for (let i = 0; i < data.length; i++) bytes[i] = Math.round((data[i] as number) * 255);
    return { data: bytes, width, height };
  }
  const gray = new Float32Array(pixels);
  const scale = isFloat ? 255 : 1;
  for (let i = 0; i < pixels; i++) gray[i] = (data[i] as number) * scale;
  return { data: gray, width, height };
}
