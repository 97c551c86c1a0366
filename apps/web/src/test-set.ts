/**
 * Loading Fashion-MNIST in the page (the test set) and in the trainer worker (the training set) from the gz files the
 * app serves (`public/data/`, copied there by `scripts/prepare-data.mjs`), with `@fmnist/data`'s browser loader: gunzip
 * through `DecompressionStream`, the official shapes checked from the header, every file's size bounded while it is
 * read, and its SHA-256 checked against the official one. This module only sums the progress over a split's two files
 * and adds the app's fix to a missing file's message.
 */
import { type FashionMnistSplit, FmnistDataError, loadFashionMnist } from '@fmnist/data/browser';

/** Base URL of the data files, relative to the page. */
export const DEFAULT_DATA_URL = './data/';

/** Options of {@link loadSplit} and {@link loadTestSet}. */
export interface LoadTestSetOptions {
  /** Directory URL holding the split's two files (absolute in a worker). @defaultValue {@link DEFAULT_DATA_URL} */
  baseUrl?: string;
  /** Called as compressed bytes arrive: `loaded` and `total` over both files (total when the server says). */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Cancels the download. */
  signal?: AbortSignal;
  /** The fetch to use. @defaultValue `globalThis.fetch` */
  fetch?: typeof fetch;
}

/** Which split: the 60,000 training images (26 MB of gzip, fetched only to train) or the 10,000 test images (4.4 MB). */
export type SplitName = 'train' | 'test';

/**
 * Downloads, checks and decodes one split's images and labels from the app's data directory.
 *
 * @param split - `train` or `test`
 * @param options - `baseUrl`, `onProgress`, `signal`, `fetch`
 * @returns the split
 * @throws FmnistDataError: `E_NOT_FOUND` (with the app's fix), `E_TOO_LARGE`, `E_SHAPE`, `E_CHECKSUM`, `E_DOWNLOAD`, …
 *
 * @example
 * ```ts
 * const train = await loadSplit('train', { onProgress: (loaded, total) => console.log(loaded, total) });
 * train.count; // 60000
 * ```
 */
export async function loadSplit(split: SplitName, options: LoadTestSetOptions = {}): Promise<FashionMnistSplit> {
  const loaded = new Map<string, { loaded: number; total: number | undefined }>();
  try {
    const result = await loadFashionMnist({
      baseUrl: options.baseUrl ?? DEFAULT_DATA_URL,
      splits: [split],
      verify: true,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      onProgress: (p) => {
        if (p.phase !== 'download' || !options.onProgress) return;
        loaded.set(p.file, { loaded: p.loaded, total: p.total });
        const files = [...loaded.values()];
        const total =
          files.length === 2 && files.every((f) => f.total !== undefined) ? files.reduce((a, f) => a + (f.total as number), 0) : undefined;
        options.onProgress(
          files.reduce((a, f) => a + f.loaded, 0),
          total,
        );
      },
    });
    return (result as unknown as Record<SplitName, FashionMnistSplit>)[split];
  } catch (err) {
    if (err instanceof FmnistDataError && err.code === 'E_NOT_FOUND') {
      throw new FmnistDataError(
        'E_NOT_FOUND',
        `${err.message} The app serves the dataset from public/data/; run: pnpm --filter @fmnist/web prepare-data, and rebuild.`,
        { cause: err, ...(err.file !== undefined ? { file: err.file } : {}) },
      );
    }
    throw err;
  }
}

/**
 * Downloads, checks and decodes the 10,000 test images and labels.
 *
 * @param options - `baseUrl`, `onProgress`, `signal`, `fetch`
 * @returns the test split (`images`: 10,000 × 784 bytes, `labels`: 10,000 classes)
 * @throws FmnistDataError for missing, corrupt or foreign files
 *
 * @example
 * ```ts
 * const test = await loadTestSet({ baseUrl: './data/' });
 * test.count; // 10000
 * ```
 */
export function loadTestSet(options: LoadTestSetOptions = {}): Promise<FashionMnistSplit> {
  return loadSplit('test', options);
}
