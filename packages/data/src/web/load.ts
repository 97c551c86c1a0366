import { DEFAULT_MIRRORS, FASHION_MNIST_FILES, type FashionMnistFileKey, maxDownloadBytes } from '../dataset';
import { describeCause, FmnistDataError, throwIfAborted } from '../errors';
import { concat } from '../idx';
import {
  type AllSplits,
  type ContentHasher,
  type DataSource,
  joinUrl,
  type LoadProgress,
  type LoadResult,
  loadAll,
  type OpenedFile,
  resolveSplits,
  SPLIT_FILES,
  type SplitName,
} from '../load-core';
import { webGunzip } from './gunzip';

/** Anything the browser loader can read one file from. */
export type ByteSource = string | URL | ArrayBuffer | ArrayBufferView | Blob | Response | ReadableStream<Uint8Array>;

/** Options of {@link loadFromSources} (the browser entry's `loadFashionMnist`). */
export interface LoadFromSourcesOptions {
  /**
   * Which splits to load: only their files are fetched and verified, and the result holds only them (`['test']`:
   * 4.4 MB instead of 30 MB). @defaultValue the splits whose two files `files` gives when it gives only whole splits
   * (e.g. just the two test files → `['test']`), else `['train', 'test']`
   */
  splits?: readonly SplitName[];
  /**
   * Directory URL holding the four files under their official names (`.gz` or raw). Relative URLs resolve against the
   * page. Takes precedence over `mirrors`.
   */
  baseUrl?: string | URL;
  /** Base URLs tried in order when `baseUrl` is not set. @defaultValue {@link DEFAULT_MIRRORS} */
  mirrors?: readonly (string | URL)[];
  /**
   * Per-file sources (URL, `ArrayBuffer`, `Blob`, `Response`, stream) that override the URLs. Giving only the two
   * files of one split (and no `splits`) loads only that split.
   */
  files?: Partial<Record<FashionMnistFileKey, ByteSource>>;
  /** Check every file's SHA-256 against the official one (or `checksums`). @defaultValue false */
  verify?: boolean;
  /** Expected SHA-256 of the decompressed content per file, replacing the official ones. */
  checksums?: Partial<Record<FashionMnistFileKey, string>>;
  /** Cancels the load; the promise rejects with `E_ABORTED`. */
  signal?: AbortSignal;
  /** Called as bytes arrive. */
  onProgress?: (progress: LoadProgress) => void;
  /** The `fetch` to use. @defaultValue `globalThis.fetch` */
  fetch?: typeof fetch;
}

async function* streamChunks(
  stream: ReadableStream<Uint8Array>,
  onBytes?: (n: number) => void,
  limit?: { max: number; name: string },
): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  let total = 0;
  let done = false;
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (err) {
        if (err instanceof FmnistDataError) throw err;
        const where = limit?.name ?? 'the stream';
        throw new FmnistDataError('E_TRUNCATED', `${where}: the body broke off after ${total} bytes (${describeCause(err)}).`, {
          file: limit?.name,
          cause: err,
        });
      }
      if (result.done) {
        done = true;
        return;
      }
      total += result.value.length;
      if (limit && total > limit.max) {
        throw new FmnistDataError(
          'E_TOO_LARGE',
          `${limit.name}: the body goes on past ${limit.max} bytes, more than the file can be; stopped reading.`,
          { file: limit.name },
        );
      }
      onBytes?.(result.value.length);
      yield result.value;
    }
  } finally {
    // Stopped early (an error, a refused header): cancel, so the connection does not keep streaming.
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** A hasher that collects the chunks and digests them with WebCrypto at the end. */
function subtleHasher(): ContentHasher {
  const chunks: Uint8Array[] = [];
  return {
    update: (c) => {
      chunks.push(c.slice());
    },
    async digest() {
      const subtle = globalThis.crypto?.subtle;
      if (!subtle) {
        throw new FmnistDataError(
          'E_CHECKSUM',
          'WebCrypto (crypto.subtle) is not available, so checksums cannot be verified; serve the page over https or localhost, or pass verify: false.',
        );
      }
      const digest = await subtle.digest('SHA-256', concat(chunks) as Uint8Array<ArrayBuffer>);
      return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
    },
  };
}

async function openUrl(url: string, key: FashionMnistFileKey, options: LoadFromSourcesOptions): Promise<OpenedFile> {
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(url, { signal: options.signal });
  } catch (err) {
    throwIfAborted(options.signal, `Fetching ${url}`);
    throw new FmnistDataError(
      'E_DOWNLOAD',
      `${url}: the request failed (${describeCause(err)}). Check the URL and that the server allows CORS.`,
      {
        file: url,
        cause: err,
      },
    );
  }
  return openResponse(response, url, key, options);
}

function openResponse(response: Response, url: string, key: FashionMnistFileKey, options: LoadFromSourcesOptions): OpenedFile {
  if (!response.ok) {
    throw new FmnistDataError(
      response.status === 404 || response.status === 410 ? 'E_NOT_FOUND' : 'E_DOWNLOAD',
      `${url}: HTTP ${response.status} ${response.statusText}. Check that the file is served at that URL.`,
      { file: url },
    );
  }
  if (!response.body) throw new FmnistDataError('E_DOWNLOAD', `${url}: the response has no body.`, { file: url });
  const totalHeader = response.headers.get('content-length');
  const total = totalHeader ? Number(totalHeader) : undefined;
  const max = maxDownloadBytes(key);
  if (total !== undefined && total > max) {
    response.body.cancel().catch(() => {});
    throw new FmnistDataError(
      'E_TOO_LARGE',
      `${url}: Content-Length ${total} is larger than ${FASHION_MNIST_FILES[key].name} can be (at most ${max} bytes). Check that the URL serves the Fashion-MNIST file.`,
      { file: url },
    );
  }
  let loaded = 0;
  return {
    location: url,
    chunks: streamChunks(
      response.body,
      (n) => {
        loaded += n;
        options.onProgress?.({ file: key, phase: 'download', loaded, total });
      },
      { max, name: url },
    ),
  };
}

async function openSource(source: ByteSource, key: FashionMnistFileKey, options: LoadFromSourcesOptions): Promise<OpenedFile> {
  const location = `memory:${FASHION_MNIST_FILES[key].name}`;
  if (typeof source === 'string' || source instanceof URL) return openUrl(String(source), key, options);
  if (typeof Response !== 'undefined' && source instanceof Response) return openResponse(source, source.url || location, key, options);
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { location, chunks: streamChunks(source.stream() as ReadableStream<Uint8Array>) };
  }
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) return { location, chunks: streamChunks(source) };
  if (source instanceof ArrayBuffer) return { location, chunks: single(new Uint8Array(source)) };
  if (ArrayBuffer.isView(source)) {
    return { location, chunks: single(new Uint8Array(source.buffer, source.byteOffset, source.byteLength)) };
  }
  throw new TypeError(`'files.${key}' must be a URL, ArrayBuffer, typed array, Blob, Response or ReadableStream, got ${typeof source}.`);
}

type TrainKey = 'trainImages' | 'trainLabels';
type TestKey = 'testImages' | 'testLabels';

/**
 * The splits `files` implies when `splits` is not given: only the split(s) it gives both files of, when it gives
 * nothing of the other; otherwise both.
 */
export type SplitsImpliedByFiles<F> = [keyof F] extends [never]
  ? AllSplits
  : [Extract<keyof F, TrainKey>] extends [never]
    ? [TestKey] extends [keyof F]
      ? readonly ['test']
      : AllSplits
    : [Extract<keyof F, TestKey>] extends [never]
      ? [TrainKey] extends [keyof F]
        ? readonly ['train']
        : AllSplits
      : AllSplits;

/** The runtime twin of {@link SplitsImpliedByFiles}. */
function splitsImpliedByFiles(files: Partial<Record<FashionMnistFileKey, ByteSource>>): SplitName[] | undefined {
  const given = (s: SplitName) => SPLIT_FILES[s].filter((k) => files[k] !== undefined).length;
  if (given('train') === 0 && given('test') === 2) return ['test'];
  if (given('test') === 0 && given('train') === 2) return ['train'];
  return undefined;
}

/**
 * Loads Fashion-MNIST in the browser (or any runtime with `fetch` and `DecompressionStream`): from a base URL you host,
 * from public mirrors, or from buffers you already have. Gzip is detected from the bytes, so `.gz` and raw files both
 * work, and a server that already decompressed them (Content-Encoding) is fine too. With `splits` (or `files` giving
 * the two files of one split), only those files are fetched and the result holds only those splits, typed so.
 *
 * @param options - see {@link LoadFromSourcesOptions}
 * @returns the splits (both by default) and where they came from
 * @throws FmnistDataError with a code from {@link FmnistDataErrorCode}
 *
 * @example
 * ```ts
 * import { loadFromSources } from '@fmnist/data';
 * const { train, test } = await loadFromSources({ baseUrl: '/data/' });
 * console.log(train.count, test.count); // 60000 10000
 *
 * const { test: only } = await loadFromSources({ baseUrl: '/data/', splits: ['test'] }); // fetches the 2 test files
 * ```
 */
export async function loadFromSources<
  const S extends readonly SplitName[] | undefined = undefined,
  const F extends Partial<Record<FashionMnistFileKey, ByteSource>> = Record<never, never>,
>(
  options: Omit<LoadFromSourcesOptions, 'splits' | 'files'> & { splits?: S; files?: F } = {},
): Promise<LoadResult<S extends readonly SplitName[] ? S : SplitsImpliedByFiles<F>>> {
  return (await loadAny(options)) as LoadResult<S extends readonly SplitName[] ? S : SplitsImpliedByFiles<F>>;
}

async function loadAny(options: LoadFromSourcesOptions): Promise<LoadResult<readonly SplitName[]>> {
  const platform = { gunzip: webGunzip, createHasher: subtleHasher };
  const verify = options.verify ?? false;
  const files = options.files ?? {};
  const { splits, keys } = resolveSplits(options.splits ?? splitsImpliedByFiles(files));
  const onlyMemory = keys.every((k) => files[k] !== undefined && typeof files[k] !== 'string' && !(files[k] instanceof URL));
  const bases = options.baseUrl !== undefined ? [options.baseUrl] : (options.mirrors ?? DEFAULT_MIRRORS);
  if (bases.length === 0) throw new TypeError(`'mirrors' must list at least one base URL.`);
  const causes: FmnistDataError[] = [];
  for (const base of onlyMemory ? ['memory'] : bases) {
    try {
      const source: DataSource = onlyMemory ? 'memory' : 'url';
      return await loadAll(
        (key) => {
          const given = files[key];
          if (given !== undefined) return openSource(given, key, options);
          return openUrl(joinUrl(base, FASHION_MNIST_FILES[key].name), key, options);
        },
        platform,
        { splits, verify, checksums: options.checksums, signal: options.signal, source, location: String(base) },
      );
    } catch (err) {
      throwIfAborted(options.signal, 'Loading Fashion-MNIST');
      // Network trouble and bad content (an HTML page, a wrong checksum or shape) both move on to the next mirror.
      if (!(err instanceof FmnistDataError) || onlyMemory || bases.length === 1) throw err;
      causes.push(err);
    }
  }
  const codes = new Set(causes.map((c) => c.code));
  throw new FmnistDataError(
    codes.size === 1 ? (causes[0] as FmnistDataError).code : 'E_DOWNLOAD',
    `Could not load Fashion-MNIST from any mirror:\n${causes.map((c) => `  - [${c.code}] ${c.message}`).join('\n')}\nHost the files yourself and pass { baseUrl }.`,
    { cause: causes[causes.length - 1] },
  );
}
