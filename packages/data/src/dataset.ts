import { FmnistDataError } from './errors';
import type { IdxArray } from './idx';

/** The 10 Fashion-MNIST classes, indexed by label. */
export const CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** One of {@link CLASS_NAMES}. */
export type ClassName = (typeof CLASS_NAMES)[number];

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * Whether a text holds a character no class name has: a C0 or C1 control (newline, tab, escape, carriage return, …),
 * DEL, a bidirectional mark, override or isolate, or a line or paragraph separator. A class name read from a model
 * file that has one could forge lines or reorder text wherever it is shown (a terminal, a table, a CSV cell), so
 * `@fmnist/onnx` and `@fmnist/classify` treat such metadata as damaged.
 *
 * @param text - a class name, or any label read from a file
 * @returns true when the text holds such a character
 *
 * @example
 * ```ts
 * hasControlCharacters('Ankle boot'); // false
 * hasControlCharacters('Bag\nshoe.png: Sandal 99%'); // true
 * ```
 */
export function hasControlCharacters(text: string): boolean {
  return CONTROL_CHARACTERS.test(text);
}

/** Number of classes (10). */
export const NUM_CLASSES = 10;
/** Image height in pixels (28). */
export const IMAGE_ROWS = 28;
/** Image width in pixels (28). */
export const IMAGE_COLS = 28;
/** Pixels per image (784). */
export const IMAGE_PIXELS = IMAGE_ROWS * IMAGE_COLS;

/** Keys of the four dataset files. */
export type FashionMnistFileKey = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

/** What is known about one official dataset file. */
export interface FashionMnistFileInfo {
  /** Official file name, e.g. `train-images-idx3-ubyte.gz`. */
  name: string;
  /** SHA-256 of the decompressed IDX content (independent of how the file was gzipped). */
  sha256: string;
  /** MD5 of the official `.gz` file as published by the Fashion-MNIST project. */
  gzMd5: string;
  /** Size of the decompressed IDX file in bytes. */
  bytes: number;
  /** Dimensions its IDX header declares: `[count, 28, 28]` for images, `[count]` for labels. */
  dims: readonly number[];
}

/**
 * The four official Fashion-MNIST files. `sha256` is over the decompressed IDX bytes, so it holds for the official
 * download and for repackaged copies (Debian's `dataset-fashion-mnist` re-gzips the same content).
 */
export const FASHION_MNIST_FILES: Readonly<Record<FashionMnistFileKey, FashionMnistFileInfo>> = Object.freeze({
  trainImages: {
    name: 'train-images-idx3-ubyte.gz',
    sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    gzMd5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    bytes: 47040016,
    dims: [60000, 28, 28],
  },
  trainLabels: {
    name: 'train-labels-idx1-ubyte.gz',
    sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    gzMd5: '25c81989df183df01b3e8a0aad5dffbe',
    bytes: 60008,
    dims: [60000],
  },
  testImages: {
    name: 't10k-images-idx3-ubyte.gz',
    sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    gzMd5: 'bef4ecab320f06d8554ea6380940ec79',
    bytes: 7840016,
    dims: [10000, 28, 28],
  },
  testLabels: {
    name: 't10k-labels-idx1-ubyte.gz',
    sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    gzMd5: 'bb300cfdad3c16e7a12a480ee83cd310',
    bytes: 10008,
    dims: [10000],
  },
});

/** The order files are loaded and reported in. */
export const FILE_KEYS: readonly FashionMnistFileKey[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

/**
 * Public mirrors of the official files, tried in order. The first is the Fashion-MNIST project's own download
 * location; the second is the project's repository, which also serves CORS headers for browsers.
 */
export const DEFAULT_MIRRORS: readonly string[] = [
  'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
];

/**
 * One split of the dataset (train or test): `count` images of `rows × cols` bytes (0 = background, 255 = ink),
 * row-major, and their labels.
 */
export interface FashionMnistSplit {
  /** `count * rows * cols` pixel bytes, image after image, each row-major. */
  images: Uint8Array;
  /** `count` labels in 0–9; see {@link CLASS_NAMES}. */
  labels: Uint8Array;
  /** Number of examples. */
  count: number;
  /** Image height (28). */
  rows: 28;
  /** Image width (28). */
  cols: 28;
}

/** The two official splits. */
export interface FashionMnist {
  /** 60,000 training examples. */
  train: FashionMnistSplit;
  /** 10,000 test examples. */
  test: FashionMnistSplit;
}

/**
 * Builds a split from decoded IDX image and label arrays, checking they fit together.
 *
 * @param images - decoded images file: uint8, dims `[n, 28, 28]`
 * @param labels - decoded labels file: uint8, dims `[n]`, values 0–9
 * @param names - file names for error messages
 * @returns the split, sharing the arrays' memory
 * @throws FmnistDataError `E_SHAPE`, `E_COUNT_MISMATCH`, `E_LABEL_RANGE`
 *
 * @example
 * ```ts
 * const split = createSplit(
 *   { dtype: 'uint8', dims: [1, 28, 28], data: new Uint8Array(784) },
 *   { dtype: 'uint8', dims: [1], data: new Uint8Array([9]) },
 * );
 * split.count; // 1
 * ```
 */
export function createSplit(images: IdxArray, labels: IdxArray, names: { images?: string; labels?: string } = {}): FashionMnistSplit {
  const imagesName = names.images ?? 'images';
  const labelsName = names.labels ?? 'labels';
  const fix = 'Use the official Fashion-MNIST files (train-/t10k-images-idx3-ubyte, train-/t10k-labels-idx1-ubyte).';
  if (images.dtype !== 'uint8' || images.dims.length !== 3 || images.dims[1] !== IMAGE_ROWS || images.dims[2] !== IMAGE_COLS) {
    throw new FmnistDataError(
      'E_SHAPE',
      `${imagesName}: expected uint8 images of shape [n, 28, 28], got ${images.dtype} [${images.dims.join(', ')}]. ${fix}`,
      { file: imagesName },
    );
  }
  if (labels.dtype !== 'uint8' || labels.dims.length !== 1) {
    throw new FmnistDataError(
      'E_SHAPE',
      `${labelsName}: expected uint8 labels of shape [n], got ${labels.dtype} [${labels.dims.join(', ')}]. Is this an images file passed as labels? ${fix}`,
      { file: labelsName },
    );
  }
  const count = images.dims[0] as number;
  if (labels.dims[0] !== count) {
    throw new FmnistDataError(
      'E_COUNT_MISMATCH',
      `${imagesName} holds ${count} images but ${labelsName} holds ${labels.dims[0]} labels; they must come from the same split (train with train, t10k with t10k).`,
      { file: labelsName },
    );
  }
  const labelData = labels.data as Uint8Array;
  for (let i = 0; i < labelData.length; i++) {
    if ((labelData[i] as number) > 9) {
      throw new FmnistDataError(
        'E_LABEL_RANGE',
        `${labelsName}: label ${labelData[i]} at index ${i} is outside 0–9; the file is corrupt or is not a Fashion-MNIST labels file. ${fix}`,
        { file: labelsName },
      );
    }
  }
  return { images: images.data as Uint8Array, labels: labelData, count, rows: IMAGE_ROWS, cols: IMAGE_COLS };
}

/**
 * The pixels of image `index` of a split, as a view (no copy).
 *
 * @param split - a train or test split
 * @param index - 0-based example index
 * @returns `rows * cols` bytes, row-major
 * @throws RangeError when `index` is out of range
 *
 * @example
 * ```ts
 * const first = getImage(test, 0); // Uint8Array(784)
 * ```
 */
export function getImage(split: FashionMnistSplit, index: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= split.count) {
    throw new RangeError(`'index' must be an integer in [0, ${split.count - 1}], got ${index}.`);
  }
  const size = split.rows * split.cols;
  return split.images.subarray(index * size, (index + 1) * size);
}

/**
 * Number of examples of each class in a split.
 *
 * @param split - a train or test split
 * @returns 10 counts, indexed by label
 *
 * @example
 * ```ts
 * classCounts(train); // [6000, 6000, …]
 * ```
 */
export function classCounts(split: Pick<FashionMnistSplit, 'labels'>): number[] {
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  for (let i = 0; i < split.labels.length; i++) counts[split.labels[i] as number]++;
  return counts;
}

/**
 * Checks the IDX header of one Fashion-MNIST file before any element is read or inflated, so a hostile or wrong file
 * cannot make the loader allocate more than the official file needs. `exact`: the counts must be the official ones
 * (60,000 / 10,000); otherwise (custom data, with its own `checksums`) any count from 1 up to the official one.
 *
 * @param key - which of the four files
 * @param header - the element type and dimensions the header declares
 * @param name - the file's path or URL, for the message
 * @param exact - require the official count
 * @throws FmnistDataError `E_SHAPE` naming the file, the declared and the expected dimensions
 *
 * @example
 * ```ts
 * checkFashionMnistHeader('testLabels', { dtype: 'uint8', dims: [10000] }, 't10k-labels-idx1-ubyte.gz', true); // ok
 * ```
 */
export function checkFashionMnistHeader(
  key: FashionMnistFileKey,
  header: { dtype: string; dims: readonly number[] },
  name: string,
  exact: boolean,
): void {
  const official = FASHION_MNIST_FILES[key].dims;
  const count = header.dims[0] ?? 0;
  const shapeOk =
    header.dtype === 'uint8' &&
    header.dims.length === official.length &&
    header.dims.every((d, i) => i === 0 || d === official[i]) &&
    (exact ? count === official[0] : count >= 1 && count <= (official[0] as number));
  if (shapeOk) return;
  const expected = exact
    ? `uint8 [${official.join(', ')}]`
    : `uint8 [n${official.length > 1 ? ', 28, 28' : ''}] with 1 ≤ n ≤ ${official[0]} (custom 'checksums' given)`;
  throw new FmnistDataError(
    'E_SHAPE',
    `${name}: its IDX header declares ${header.dtype} [${header.dims.join(', ')}], but ${FASHION_MNIST_FILES[key].name} of Fashion-MNIST is ${expected}; refused before reading the data. The file is corrupt or not the one its name says: delete it and fetch it again, or pass the official files with 'dir'.`,
    { file: name },
  );
}

/**
 * Largest body accepted for a file: its decompressed size (a server may send it raw, or decode `Content-Encoding`)
 * plus 1 % and 64 KiB, more than gzip can ever add.
 * @internal
 */
export function maxDownloadBytes(key: FashionMnistFileKey): number {
  return Math.ceil(FASHION_MNIST_FILES[key].bytes * 1.01) + 65_536;
}
