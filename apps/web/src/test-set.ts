/**
 * Loading the Fashion-MNIST test set in the page from the gz files the app serves (`public/data/`, copied there by
 * `scripts/prepare-data.mjs`), with `@fmnist/data`'s browser entry (gunzip through `DecompressionStream`).
 */
import { createSplit, FASHION_MNIST_FILES, type FashionMnistSplit, parseIdx } from '@fmnist/data';

/** Base URL of the data files, relative to the page. */
export const DEFAULT_DATA_URL = './data/';

/** Options of {@link loadTestSet}. */
export interface LoadTestSetOptions {
  /** Directory URL holding `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz`. @defaultValue {@link DEFAULT_DATA_URL} */
  baseUrl?: string;
  /** Called as compressed bytes arrive: `loaded` and `total` over both files (total when the server says). */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Cancels the download. */
  signal?: AbortSignal;
  /** The fetch to use. @defaultValue `globalThis.fetch` */
  fetch?: typeof fetch;
}

/** Why a download is refused for its size: the file cannot be the Fashion-MNIST file it is named after. */
const tooLarge = (url: string, maxBytes: number, what: string) =>
  new Error(
    `${url}: ${what} more than the ${maxBytes.toLocaleString('en-US')} bytes this Fashion-MNIST file can have; the server sent something else. Serve the files prepare-data copies into public/data/.`,
  );

async function download(
  url: string,
  options: LoadTestSetOptions,
  onBytes: (n: number, total?: number) => void,
  maxBytes: number,
): Promise<Uint8Array> {
  const response = await (options.fetch ?? globalThis.fetch)(url, { signal: options.signal });
  if (!response.ok) {
    throw new Error(
      `${url}: HTTP ${response.status}. The app serves the dataset from public/data/; run: pnpm --filter @fmnist/web prepare-data, and rebuild.`,
    );
  }
  const total = Number(response.headers.get('content-length')) || undefined;
  if (total !== undefined && total > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(url, maxBytes, `announces ${total.toLocaleString('en-US')} bytes,`);
  }
  if (!response.body) {
    const whole = new Uint8Array(await response.arrayBuffer());
    if (whole.length > maxBytes) throw tooLarge(url, maxBytes, 'holds');
    return whole;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    // Stop reading (and holding) a body that outgrows the file, whatever its headers said.
    if (length > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(url, maxBytes, 'sends');
    }
    chunks.push(value);
    onBytes(value.length, total);
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

/** Which split: the 60,000 training images (26 MB of gzip, fetched only to train) or the 10,000 test images (4.4 MB). */
export type SplitName = 'train' | 'test';

const SPLIT_FILES = {
  train: [FASHION_MNIST_FILES.trainImages, FASHION_MNIST_FILES.trainLabels],
  test: [FASHION_MNIST_FILES.testImages, FASHION_MNIST_FILES.testLabels],
} as const;

/**
 * The most a served file may hold: its uncompressed size plus 1 MiB (a gzip of these files is smaller than the file;
 * the slack covers an uncompressed copy served as is).
 */
const maxDownloadBytes = (file: { bytes: number }) => file.bytes + 1024 * 1024;

/**
 * Downloads and decodes one split's images and labels from the app's data directory.
 *
 * @param split - `train` or `test`
 * @param options - `baseUrl`, `onProgress`, `signal`, `fetch`
 * @returns the split
 * @throws FmnistDataError for corrupt files, Error for HTTP failures
 *
 * @example
 * ```ts
 * const train = await loadSplit('train', { onProgress: (loaded, total) => console.log(loaded, total) });
 * train.count; // 60000
 * ```
 */
export async function loadSplit(split: SplitName, options: LoadTestSetOptions = {}): Promise<FashionMnistSplit> {
  const base = options.baseUrl ?? DEFAULT_DATA_URL;
  const files = SPLIT_FILES[split];
  const names = [files[0].name, files[1].name] as const;
  const totals: (number | undefined)[] = [undefined, undefined];
  const loaded = [0, 0];
  const report = () => {
    const total = totals.every((t) => t !== undefined) ? (totals as number[]).reduce((a, b) => a + b, 0) : undefined;
    options.onProgress?.(loaded[0]! + loaded[1]!, total);
  };
  const [imagesGz, labelsGz] = await Promise.all(
    names.map((name, k) =>
      download(
        `${base.endsWith('/') ? base : `${base}/`}${name}`,
        options,
        (n, total) => {
          loaded[k] = (loaded[k] ?? 0) + n;
          totals[k] = total;
          report();
        },
        maxDownloadBytes(files[k] as { bytes: number }),
      ),
    ),
  );
  const [images, labels] = await Promise.all([parseIdx(imagesGz!, { name: names[0] }), parseIdx(labelsGz!, { name: names[1] })]);
  return createSplit(images, labels, { images: names[0], labels: names[1] });
}

/**
 * Downloads and decodes the 10,000 test images and labels.
 *
 * @param options - `baseUrl`, `onProgress`, `signal`, `fetch`
 * @returns the test split (`images`: 10,000 × 784 bytes, `labels`: 10,000 classes)
 * @throws FmnistDataError for corrupt files, Error for HTTP failures
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
