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

/** One of the two official splits, for the loaders' `splits` option. */
export type SplitName = 'train' | 'test';

/** The loaders' default `splits`: both. */
export type AllSplits = readonly ['train', 'test'];

/** The two files of each split. */
export const SPLIT_FILES: Readonly<Record<SplitName, readonly [FashionMnistFileKey, FashionMnistFileKey]>> = Object.freeze({
  train: ['trainImages', 'trainLabels'] as const,
  test: ['testImages', 'testLabels'] as const,
});

/**
 * The splits a result of `splits: S` holds: exactly those named by a literal tuple (`['test']` → `{ test }`), both
 * optional for an array whose contents the compiler does not know (`SplitName[]`).
 */
export type LoadedSplits<S extends readonly SplitName[]> = number extends S['length']
  ? Partial<FashionMnist>
  : Pick<FashionMnist, S[number]>;

/** Where the data of a {@link LoadResult} came from. */
export interface LoadInfo {
  /** How the data was found, see {@link DataSource}. */
  source: DataSource;
  /** The directory or base URL the files came from (`memory` for in-memory buffers). */
  location: string;
  /** Per-file details of the files loaded, in the order train images, train labels, test images, test labels. */
  files: LoadedFileInfo[];
}

/**
 * Result of `loadFashionMnist`: the requested splits (by default both, `train` and `test`) plus where they came from.
 * `LoadResult<readonly ['test']>` has no `train`.
 */
export type LoadResult<S extends readonly SplitName[] = AllSplits> = LoadedSplits<S> & LoadInfo;

/**
 * Checks a `splits` option and returns the file keys to load, in {@link FILE_KEYS} order.
 * @throws TypeError for something that is not an array of `'train'` / `'test'`; RangeError for an empty array
 * @internal
 */
export function resolveSplits(splits: readonly SplitName[] | undefined): { splits: SplitName[]; keys: FashionMnistFileKey[] } {
  if (splits === undefined) return { splits: ['train', 'test'], keys: [...FILE_KEYS] };
  if (!Array.isArray(splits)) {
    throw new TypeError(`'splits' must be an array of 'train' and/or 'test', e.g. ['test'], got ${JSON.stringify(splits)}.`);
  }
  for (const s of splits) {
    if (s !== 'train' && s !== 'test') {
      throw new TypeError(`'splits' may only hold 'train' and 'test', got ${JSON.stringify(s)}. Pass e.g. { splits: ['test'] }.`);
    }
  }
  if (splits.length === 0) {
    throw new RangeError(`'splits' must name at least one split: ['train'], ['test'] or ['train', 'test'] (the default), got [].`);
  }
  const wanted = (['train', 'test'] as const).filter((s) => splits.includes(s));
  return { splits: wanted, keys: FILE_KEYS.filter((k) => wanted.some((s) => SPLIT_FILES[s].includes(k))) };
}

/** Builds the requested splits from decoded files. @internal */
export function assembleSplits(
  splits: readonly SplitName[],
  byKey: Partial<Record<FashionMnistFileKey, { idx: IdxArray; info: LoadedFileInfo }>>,
): Partial<FashionMnist> {
  const out: Partial<FashionMnist> = {};
  for (const s of splits) {
    const [imagesKey, labelsKey] = SPLIT_FILES[s];
    const images = byKey[imagesKey] as { idx: IdxArray; info: LoadedFileInfo };
    const labels = byKey[labelsKey] as { idx: IdxArray; info: LoadedFileInfo };
    out[s] = createSplit(images.idx, labels.idx, { images: images.info.location, labels: labels.info.location });
  }
  return out;
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
 * Loads the files of the requested splits concurrently through `open` (no other file is opened) and assembles them.
 * @internal
 */
export async function loadAll(
  open: (key: FashionMnistFileKey) => Promise<OpenedFile>,
  platform: LoaderPlatform,
  options: {
    splits: readonly SplitName[];
    verify: boolean;
    hash?: boolean;
    checksums?: Partial<Record<FashionMnistFileKey, string>>;
    signal?: AbortSignal;
    source: DataSource;
    location: string;
  },
): Promise<LoadResult<readonly SplitName[]>> {
  const { keys } = resolveSplits(options.splits);
  const decoded = await Promise.all(
    keys.map(async (key) => {
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
  const byKey = Object.fromEntries(decoded.map((d) => [d.info.key, d]));
  return {
    ...assembleSplits(options.splits, byKey),
    source: options.source,
    location: options.location,
    files: decoded.map((d) => d.info),
  } as LoadResult<readonly SplitName[]>;
}

/** Joins a base URL (with or without trailing slash) and a file name. @internal */
export function joinUrl(base: string | URL, name: string): string {
  const b = String(base);
  return b.endsWith('/') ? b + name : `${b}/${name}`;
}
