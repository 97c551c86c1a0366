import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, type FileHandle, open, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSplit, DEFAULT_MIRRORS, FASHION_MNIST_FILES, type FashionMnistFileKey, FILE_KEYS } from '../dataset';
import { FmnistDataError, throwIfAborted } from '../errors';
import {
  type ContentHasher,
  type DataSource,
  decodeFile,
  type LoaderPlatform,
  type LoadProgress,
  type LoadResult,
  loadAll,
  type OpenedFile,
} from '../load-core';
import { commitFile, downloadToTemp } from './download';
import { gunzipFile, nodeGunzip } from './gunzip';

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const SYSTEM_DATA_DIR = '/usr/share/datasets/fashion-mnist';

/** Read chunk size for local files. */
const READ_CHUNK_BYTES = 1 << 20;

/** Options of the Node `loadFashionMnist`. */
export interface LoadFashionMnistOptions {
  /** Directory holding the four files (`.gz` or raw). When set, nothing else is searched. */
  dir?: string;
  /** Cache directory for downloads. @defaultValue `$XDG_CACHE_HOME/fmnist` or `~/.cache/fmnist` */
  cacheDir?: string;
  /**
   * The system-wide copy to look in after the cache, or `false` to skip it.
   * @defaultValue {@link SYSTEM_DATA_DIR}
   */
  systemDir?: string | false;
  /** Download the files when no local copy is found. @defaultValue true */
  download?: boolean;
  /** Base URL to download from, tried before `mirrors`. */
  baseUrl?: string;
  /** Base URLs to download from, in order. @defaultValue {@link DEFAULT_MIRRORS} */
  mirrors?: readonly string[];
  /**
   * Check every local file's SHA-256 against the official one (downloads are always checked).
   * @defaultValue false
   */
  verify?: boolean;
  /** Expected SHA-256 of each file's decompressed content, replacing the official ones (for custom mirrors). */
  checksums?: Partial<Record<FashionMnistFileKey, string>>;
  /** Attempts per mirror beyond the first. @defaultValue 3 */
  retries?: number;
  /** Give up on an attempt after this long without receiving a byte. @defaultValue 30000 */
  timeoutMs?: number;
  /** First retry delay; doubles each retry (with jitter). @defaultValue 500 */
  retryDelayMs?: number;
  /** Cancels the load; rejects with `E_ABORTED` and leaves no partial file behind. */
  signal?: AbortSignal;
  /** Called as bytes are read or downloaded. */
  onProgress?: (progress: LoadProgress) => void;
  /** The `fetch` used for downloads. @defaultValue `globalThis.fetch` */
  fetch?: typeof fetch;
}

/**
 * The default cache directory: `$XDG_CACHE_HOME/fmnist`, else `~/.cache/fmnist`.
 *
 * @returns an absolute path (it may not exist yet)
 *
 * @example
 * ```ts
 * defaultCacheDir(); // '/home/me/.cache/fmnist'
 * ```
 */
export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.cache'), 'fmnist');
}

const nodeHasher = (): ContentHasher => {
  const hash = createHash('sha256');
  return {
    update: (c) => {
      hash.update(c);
    },
    digest: async () => hash.digest('hex'),
  };
};

const platform: LoaderPlatform = { gunzip: nodeGunzip, createHasher: nodeHasher };

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Finds the four files in `dir`: each as `name.gz` or raw `name`. Returns the paths, or the missing names. */
export async function findDatasetFiles(dir: string): Promise<{ paths: Record<FashionMnistFileKey, string> } | { missing: string[] }> {
  const paths: Partial<Record<FashionMnistFileKey, string>> = {};
  const missing: string[] = [];
  for (const key of FILE_KEYS) {
    const gz = FASHION_MNIST_FILES[key].name;
    const candidates = [gz, gz.replace(/\.gz$/, ''), gz.replace(/\.gz$/, '').replace(/-idx/, '.idx')];
    let found: string | undefined;
    for (const c of candidates) {
      const p = join(dir, c);
      if (await exists(p)) {
        found = p;
        break;
      }
    }
    if (found) paths[key] = found;
    else missing.push(gz);
  }
  return missing.length > 0 ? { missing } : { paths: paths as Record<FashionMnistFileKey, string> };
}

/**
 * The uncompressed size a gzip file declares in its trailer (ISIZE, mod 2^32), or undefined for other files. Only a
 * hint for buffer sizing: a wrong value costs a copy, never correctness.
 */
async function gzipSizeHint(path: string): Promise<number | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    if (size < 18) return undefined;
    const head = new Uint8Array(2);
    await handle.read(head, 0, 2, 0);
    if (head[0] !== 0x1f || head[1] !== 0x8b) return undefined;
    const tail = new Uint8Array(4);
    await handle.read(tail, 0, 4, size - 4);
    return new DataView(tail.buffer).getUint32(0, true);
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

async function* readChunks(path: string, key: FashionMnistFileKey, onProgress?: (p: LoadProgress) => void): AsyncIterable<Uint8Array> {
  let loaded = 0;
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  try {
    for await (const chunk of stream) {
      loaded += (chunk as Buffer).length;
      onProgress?.({ file: key, phase: 'read', loaded });
      yield chunk as Uint8Array;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new FmnistDataError('E_NOT_FOUND', `${path}: cannot be read (${e.code ?? e.message}). Check the path and its permissions.`, {
      file: path,
      cause: err,
    });
  } finally {
    stream.destroy();
  }
}

/** Opens a local file: gzip files are inflated straight from disk into one buffer, others are read in chunks. */
async function openLocal(path: string, key: FashionMnistFileKey, onProgress?: (p: LoadProgress) => void): Promise<OpenedFile> {
  const sizeHint = await gzipSizeHint(path);
  if (sizeHint === undefined) return { location: path, chunks: readChunks(path, key, onProgress) };
  return {
    location: path,
    owned: true,
    chunks: gunzipFile(path, sizeHint, (loaded) => onProgress?.({ file: key, phase: 'read', loaded })),
  };
}

function loadDir(
  dir: string,
  paths: Record<FashionMnistFileKey, string>,
  source: DataSource,
  options: LoadFashionMnistOptions,
): Promise<LoadResult> {
  return loadAll((key) => openLocal(paths[key], key, options.onProgress), platform, {
    verify: options.verify ?? false,
    checksums: options.checksums,
    signal: options.signal,
    source,
    location: dir,
  });
}

/**
 * Loads Fashion-MNIST in Node. Looks, in order, in: `dir` → `$FMNIST_DATA_DIR` → the cache (`cacheDir`) → Debian's
 * system copy (`/usr/share/datasets/fashion-mnist`) → downloads the four official files into the cache, verifying each
 * file's SHA-256 and writing it atomically (temp file + rename), so an interrupted download never leaves a file that
 * later loads. The result says which source was used.
 *
 * @param options - see {@link LoadFashionMnistOptions}
 * @returns both splits, the `source`, its `location` and per-file details
 * @throws FmnistDataError `E_NOT_FOUND` (nothing found and `download: false`), `E_DOWNLOAD`, `E_CHECKSUM`, or a
 *   format error naming the bad file
 *
 * @example
 * ```ts
 * import { loadFashionMnist } from '@fmnist/data';
 * const { train, test, source } = await loadFashionMnist();
 * console.log(train.count, test.count, source); // 60000 10000 'system'
 * ```
 */
export async function loadFashionMnist(options: LoadFashionMnistOptions = {}): Promise<LoadResult> {
  throwIfAborted(options.signal, 'Loading Fashion-MNIST');
  const explicit: [DataSource, string, string][] = [];
  if (options.dir !== undefined) explicit.push(['dir', resolve(options.dir), `'dir' option`]);
  else if (process.env.FMNIST_DATA_DIR) explicit.push(['env', resolve(process.env.FMNIST_DATA_DIR), 'FMNIST_DATA_DIR']);
  for (const [source, dir, what] of explicit) {
    const found = await findDatasetFiles(dir);
    if ('missing' in found) {
      throw new FmnistDataError(
        'E_NOT_FOUND',
        `${dir} (from the ${what}) lacks ${found.missing.join(', ')}. Put the four Fashion-MNIST files there (.gz or raw), or remove the ${what} to use the cache, the system copy or a download.`,
        { file: dir },
      );
    }
    return loadDir(dir, found.paths, source, options);
  }

  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir());
  const tried: string[] = [];
  const cached = await findDatasetFiles(cacheDir);
  if ('paths' in cached) {
    try {
      return await loadDir(cacheDir, cached.paths, 'cache', options);
    } catch (err) {
      // A damaged cache heals by downloading again (when allowed); otherwise say what to delete.
      if (!(err instanceof FmnistDataError) || err.code === 'E_ABORTED' || options.download === false) throw err;
      tried.push(`${cacheDir}: ${err.message}`);
    }
  } else {
    tried.push(`${cacheDir}: missing ${cached.missing.join(', ')}`);
  }

  const systemDir = options.systemDir ?? SYSTEM_DATA_DIR;
  if (systemDir !== false) {
    const system = await findDatasetFiles(systemDir);
    if ('paths' in system) return loadDir(systemDir, system.paths, 'system', options);
    tried.push(`${systemDir}: missing ${system.missing.join(', ')}`);
  }

  if (options.download === false) {
    throw new FmnistDataError(
      'E_NOT_FOUND',
      `Fashion-MNIST was not found and download is off. Looked in:\n${tried.map((t) => `  - ${t}`).join('\n')}\nPass { dir } or set FMNIST_DATA_DIR to a folder with the four files, install Debian's dataset-fashion-mnist, or allow the download.`,
    );
  }
  return downloadAll(cacheDir, options);
}

async function downloadAll(cacheDir: string, options: LoadFashionMnistOptions): Promise<LoadResult> {
  const mirrors = [...(options.baseUrl ? [options.baseUrl] : []), ...(options.mirrors ?? DEFAULT_MIRRORS)];
  const retries = options.retries ?? 3;
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`'retries' must be a non-negative integer, got ${retries}.`);
  if (!(timeoutMs > 0)) throw new RangeError(`'timeoutMs' must be > 0, got ${timeoutMs}.`);
  if (mirrors.length === 0) throw new TypeError(`'mirrors' must list at least one base URL.`);
  // One failing file stops the others, so no download outlives this call.
  const inner = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, inner.signal]) : inner.signal;
  const downloadOptions = {
    mirrors,
    retries,
    timeoutMs,
    retryDelayMs: options.retryDelayMs ?? 500,
    signal,
    onProgress: options.onProgress,
    fetch: options.fetch ?? globalThis.fetch,
  };
  const temps: string[] = [];
  try {
    let firstError: unknown;
    const settled = await Promise.allSettled(
      FILE_KEYS.map(async (key) => {
        try {
          // A file that downloads whole but fails verification is fetched again (up to the retry budget).
          let lastError: unknown;
          for (let attempt = 0; attempt <= retries; attempt++) {
            const { tempPath, url } = await downloadToTemp(key, cacheDir, downloadOptions);
            temps.push(tempPath);
            try {
              const result = await decodeFile(key, { ...(await openLocal(tempPath, key)), location: url }, platform, {
                verify: true,
                expectedSha256: options.checksums?.[key],
                signal,
              });
              return { key, tempPath, result };
            } catch (err) {
              await rm(tempPath, { force: true });
              if (!(err instanceof FmnistDataError) || err.code === 'E_ABORTED') throw err;
              lastError = err;
            }
          }
          throw lastError;
        } catch (err) {
          firstError ??= err;
          inner.abort(err);
          throw err;
        }
      }),
    );
    if (firstError !== undefined) {
      throwIfAborted(options.signal, 'Loading Fashion-MNIST');
      throw firstError;
    }
    const decoded = settled.map(
      (s) =>
        (s as PromiseFulfilledResult<{ key: FashionMnistFileKey; tempPath: string; result: Awaited<ReturnType<typeof decodeFile>> }>).value,
    );
    const byKey = Object.fromEntries(decoded.map((d) => [d.key, d.result])) as Record<FashionMnistFileKey, (typeof decoded)[0]['result']>;
    const splitOf = (images: FashionMnistFileKey, labels: FashionMnistFileKey) =>
      createSplit(byKey[images].idx, byKey[labels].idx, { images: byKey[images].info.location, labels: byKey[labels].info.location });
    // Shapes, counts and labels are checked too before anything reaches the cache.
    const train = splitOf('trainImages', 'trainLabels');
    const test = splitOf('testImages', 'testLabels');
    throwIfAborted(options.signal, 'Loading Fashion-MNIST');
    // Every file is verified: only now do they take their final names.
    const finalPaths = {} as Record<FashionMnistFileKey, string>;
    for (const { key, tempPath } of decoded) {
      finalPaths[key] = join(cacheDir, FASHION_MNIST_FILES[key].name);
      await commitFile(tempPath, finalPaths[key]);
    }
    return {
      train,
      test,
      source: 'download',
      location: cacheDir,
      files: FILE_KEYS.map((key) => ({ ...byKey[key].info, location: finalPaths[key] })),
    };
  } finally {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
  }
}
