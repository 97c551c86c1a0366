import {
  checkFashionMnistHeader,
  createSplit,
  FASHION_MNIST_FILES,
  type FashionMnist,
  type FashionMnistFileKey,
  FILE_KEYS,
} from './dataset';
import { FmnistDataError, throwIfAborted } from './errors';
import { decodeIdxStream, type GunzipStream, type IdxArray } from './idx';

/** Where the data was found. Node: `dir`, `env`, `cache`, `system`, `download`; browser: `url`, `memory`. */
export type DataSource = 'dir' | 'env' | 'cache' | 'system' | 'download' | 'url' | 'memory';

/** What was loaded from one file. */
export interface LoadedFileInfo {
  /** Which of the four files. */
  key: FashionMnistFileKey;
  /** Path, URL, or `memory:<key>`. */
  location: string;
  /** Size of the decompressed IDX content in bytes. */
  bytes: number;
  /** SHA-256 of the decompressed IDX content, when it was computed (`verify`, or any download). */
  sha256?: string;
  /** True when `sha256` was compared with the expected value and matched. */
  verified: boolean;
}

/** Result of `loadFashionMnist`: both splits plus where they came from. */
export interface LoadResult extends FashionMnist {
  /** How the data was found, see {@link DataSource}. */
  source: DataSource;
  /** The directory or base URL the files came from (`memory` for in-memory buffers). */
  location: string;
  /** Per-file details, in the order train images, train labels, test images, test labels. */
  files: LoadedFileInfo[];
}

/** Progress of a load, reported per file. */
export interface LoadProgress {
  /** Which file. */
  file: FashionMnistFileKey;
  /** `download` while bytes arrive from the network, `read` while a local file or buffer is decoded. */
  phase: 'download' | 'read';
  /** Bytes done so far (compressed bytes for downloads). */
  loaded: number;
  /** Total bytes when known. */
  total?: number;
}

/** Incremental SHA-256 of decompressed content. @internal */
export interface ContentHasher {
  update(chunk: Uint8Array): void;
  digest(): Promise<string>;
}

/** Opens one file as a byte stream. @internal */
export interface OpenedFile {
  chunks: AsyncIterable<Uint8Array>;
  location: string;
  /** Decompressed size, when known in advance (lets the gunzip write one buffer). */
  sizeHint?: number;
  /** The chunks are fresh buffers nobody else keeps or changes: the result may share their memory. */
  owned?: boolean;
}

/** Platform services the shared loader needs. @internal */
export interface LoaderPlatform {
  gunzip: GunzipStream;
  createHasher?: () => ContentHasher;
}

/**
 * Decodes one file, optionally hashing its decompressed content and checking the hash.
 * @internal
 */
export async function decodeFile(
  key: FashionMnistFileKey,
  opened: OpenedFile,
  platform: LoaderPlatform,
  options: { verify: boolean; expectedSha256?: string; hash?: boolean; signal?: AbortSignal },
): Promise<{ idx: IdxArray; info: LoadedFileInfo }> {
  const hasher = options.verify || options.hash ? platform.createHasher?.() : undefined;
  let bytes = 0;
  const idx = await decodeIdxStream(opened.chunks, platform.gunzip, {
    name: opened.location,
    // The header is checked before anything is allocated or inflated, with or without verify: official counts, or
    // (custom data with its own checksum) at most the official size. So memory never exceeds the official file's.
    checkHeader: (header) => checkFashionMnistHeader(key, header, opened.location, options.expectedSha256 === undefined),
    maxBytes: FASHION_MNIST_FILES[key].bytes,
    sizeHint: opened.sizeHint,
    zeroCopy: opened.owned,
    onChunk: (c) => {
      bytes += c.length;
      hasher?.update(c);
    },
  });
  throwIfAborted(options.signal, `Loading ${opened.location}`);
  const info: LoadedFileInfo = { key, location: opened.location, bytes, verified: false };
  if (hasher) {
    info.sha256 = await hasher.digest();
    if (options.verify) {
      const expected = options.expectedSha256 ?? FASHION_MNIST_FILES[key].sha256;
      if (info.sha256 !== expected) {
        throw new FmnistDataError(
          'E_CHECKSUM',
          `${opened.location}: SHA-256 of the decompressed content is ${info.sha256}, expected ${expected}. The file is corrupt or is not the official ${FASHION_MNIST_FILES[key].name}; delete it and load again to re-download, or pass a good copy with 'dir'.`,
          { file: opened.location },
        );
      }
      info.verified = true;
    }
  }
  return { idx, info };
}

/**
 * Loads all four files concurrently through `open` and assembles the two splits.
 * @internal
 */
export async function loadAll(
  open: (key: FashionMnistFileKey) => Promise<OpenedFile>,
  platform: LoaderPlatform,
  options: {
    verify: boolean;
    hash?: boolean;
    checksums?: Partial<Record<FashionMnistFileKey, string>>;
    signal?: AbortSignal;
    source: DataSource;
    location: string;
  },
): Promise<LoadResult> {
  const decoded = await Promise.all(
    FILE_KEYS.map(async (key) => {
      throwIfAborted(options.signal, 'Loading Fashion-MNIST');
      const opened = await open(key);
      return decodeFile(key, opened, platform, {
        verify: options.verify,
        hash: options.hash,
        expectedSha256: options.checksums?.[key],
        signal: options.signal,
      });
    }),
  );
  const [trainImages, trainLabels, testImages, testLabels] = decoded as [
    (typeof decoded)[0],
    (typeof decoded)[0],
    (typeof decoded)[0],
    (typeof decoded)[0],
  ];
  const train = createSplit(trainImages.idx, trainLabels.idx, {
    images: trainImages.info.location,
    labels: trainLabels.info.location,
  });
  const test = createSplit(testImages.idx, testLabels.idx, {
    images: testImages.info.location,
    labels: testLabels.info.location,
  });
  return {
    train,
    test,
    source: options.source,
    location: options.location,
    files: decoded.map((d) => d.info),
  };
}

/** Joins a base URL (with or without trailing slash) and a file name. @internal */
export function joinUrl(base: string | URL, name: string): string {
  const b = String(base);
  return b.endsWith('/') ? b + name : `${b}/${name}`;
}
