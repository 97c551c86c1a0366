import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_MIRRORS, FASHION_MNIST_FILES, type FashionMnistFileKey, maxDownloadBytes } from '../dataset';
import { FmnistDataError, throwIfAborted } from '../errors';
import {
  type AllSplits,
  assembleSplits,
  type ContentHasher,
  type DataSource,
  decodeFile,
  type LoaderPlatform,
  type LoadProgress,
  type LoadResult,
  loadAll,
  type OpenedFile,
  resolveSplits,
  type SplitName,
} from '../load-core';
import {
  commitFile,
  DEFAULT_DEADLINE_MS,
  type DownloadOptions,
  downloadFile,
  ensureCacheDir,
  removeTemp,
  sweepStaleParts,
} from './download';
import { gunzipFile, nodeGunzip } from './gunzip';

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const SYSTEM_DATA_DIR = '/usr/share/datasets/fashion-mnist';

/** Read chunk size for local files. */
const READ_CHUNK_BYTES = 1 << 20;

/** Options of the Node `loadFashionMnist`. */
export interface LoadFashionMnistOptions {
  /**
   * Which splits to load: only their files are looked for, read, downloaded and verified, and the result holds only
   * them (`['test']`: the two test files, 4.4 MB of downloads instead of 30 MB). @defaultValue `['train', 'test']`
   */
  splits?: readonly SplitName[];
  /** Directory holding the files (`.gz` or raw). When set, nothing else is searched. */
  dir?: string;
  /** Cache directory for downloads. @defaultValue `$XDG_CACHE_HOME/fmnist` or `~/.cache/fmnist` */
  cacheDir?: string;
  /**
   * The system-wide copy to look in after the cache, or `false` to skip it.
   * @defaultValue `$FMNIST_SYSTEM_DIR` (empty or `none`: skip), else {@link SYSTEM_DATA_DIR}
   */
  systemDir?: string | false;
  /** Download the files when no local copy is found. @defaultValue true */
  download?: boolean;
  /** Base URL to download from, tried before `mirrors`. */
  baseUrl?: string;
  /** Base URLs to download from, in order. @defaultValue `$FMNIST_MIRRORS` (space- or comma-separated), else {@link DEFAULT_MIRRORS} */
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
  /** Give up on an attempt after this long without receiving a byte (idle timeout). @defaultValue 30000 */
  timeoutMs?: number;
  /**
   * Give up on one attempt at one file after this long in total, however steadily bytes trickle in; the next mirror
   * is tried then. @defaultValue 600000 (10 minutes)
   */
  deadlineMs?: number;
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

/** Status of one candidate path: absent, a regular file, or something that must not be read (a FIFO, a directory…). */
async function probe(path: string): Promise<'absent' | 'file' | string> {
  try {
    const st = await stat(path);
    if (st.isFile()) return 'file';
    return st.isDirectory()
      ? 'a directory'
      : st.isFIFO()
        ? 'a FIFO (named pipe)'
        : st.isSocket()
          ? 'a socket'
          : st.isCharacterDevice() || st.isBlockDevice()
            ? 'a device'
            : 'not a regular file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'absent';
    throw new FmnistDataError(
      'E_NOT_FOUND',
      `${path}: cannot be inspected (${code ?? (err as Error).message}). Check the path and its permissions.`,
      {
        file: path,
        cause: err,
      },
    );
  }
}

function notFileError(path: string, what: string): FmnistDataError {
  return new FmnistDataError(
    'E_NOT_FILE',
    `${path}: is ${what}, not a regular file; refused without reading it. Put the real dataset file there (or remove it) and load again.`,
    { file: path },
  );
}

/**
 * Finds the dataset files in `dir` (all four, or those of `splits`): each as `name.gz` or raw `name`. Returns the
 * paths, or the missing names. A candidate that exists but is not a regular file (a directory, FIFO, socket or device)
 * is refused with `E_NOT_FILE`, never read.
 *
 * @param dir - the folder to look in
 * @param splits - only look for the files of these splits @defaultValue `['train', 'test']`
 * @returns `{ paths }` of the files looked for, or `{ missing }` names
 * @throws FmnistDataError `E_NOT_FILE` for a special file under one of the names
 *
 * @example
 * ```ts
 * const found = await findDatasetFiles('/usr/share/datasets/fashion-mnist');
 * if ('paths' in found) console.log(found.paths.testLabels); // '/usr/share/…/t10k-labels-idx1-ubyte.gz'
 * ```
 */
export async function findDatasetFiles(
  dir: string,
  splits?: readonly SplitName[],
): Promise<{ paths: Record<FashionMnistFileKey, string> } | { missing: string[] }> {
  const paths: Partial<Record<FashionMnistFileKey, string>> = {};
  const missing: string[] = [];
  for (const key of resolveSplits(splits).keys) {
    const gz = FASHION_MNIST_FILES[key].name;
    const candidates = [gz, gz.replace(/\.gz$/, ''), gz.replace(/\.gz$/, '').replace(/-idx/, '.idx')];
    let found: string | undefined;
    for (const c of candidates) {
      const p = join(dir, c);
      const status = await probe(p);
      if (status === 'absent') continue;
      if (status !== 'file') throw notFileError(p, status);
      found = p;
      break;
    }
    if (found) paths[key] = found;
    else missing.push(gz);
  }
  return missing.length > 0 ? { missing } : { paths: paths as Record<FashionMnistFileKey, string> };
}

/**
 * Opens a data file for reading without ever blocking: `O_NONBLOCK` (a FIFO swapped in after the check opens at once
 * instead of waiting for a writer), then `fstat` of the opened file must say a regular file, not empty (pseudo-files
 * of /proc and /sys report size 0) and not larger than the file can be.
 */
async function openRegular(path: string, key: FashionMnistFileKey): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new FmnistDataError('E_NOT_FOUND', `${path}: cannot be opened (${e.code ?? e.message}). Check the path and its permissions.`, {
      file: path,
      cause: err,
    });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notFileError(path, st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO (named pipe)' : 'a special file');
    if (st.size === 0) {
      throw new FmnistDataError(
        'E_EMPTY',
        `${path}: the file is empty (0 bytes, or a pseudo-file such as /proc's). Delete it and fetch it again, or point 'dir' at the real files.`,
        { file: path },
      );
    }
    const max = maxDownloadBytes(key);
    if (st.size > max) {
      throw new FmnistDataError(
        'E_TOO_LARGE',
        `${path}: ${st.size} bytes, more than ${FASHION_MNIST_FILES[key].name} can be (at most ${max}); refused without reading it. It is not the Fashion-MNIST file its name says.`,
        { file: path },
      );
    }
    return { handle, size: st.size };
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}

/**
 * The uncompressed size a gzip file declares in its trailer (ISIZE, mod 2^32), or undefined for other files. Only a
 * hint for buffer sizing: a wrong value costs a copy, never correctness. A hint larger than the file can inflate to
 * (a hostile trailer) is ignored, so it can never make zlib allocate more than the official size.
 */
async function gzipSizeHint(handle: FileHandle, size: number, key: FashionMnistFileKey): Promise<number | undefined> {
  if (size < 18) return undefined;
  const head = new Uint8Array(2);
  await handle.read(head, 0, 2, 0);
  if (head[0] !== 0x1f || head[1] !== 0x8b) return undefined;
  const tail = new Uint8Array(4);
  await handle.read(tail, 0, 4, size - 4);
  const hint = new DataView(tail.buffer).getUint32(0, true);
  return hint <= FASHION_MNIST_FILES[key].bytes ? hint : undefined;
}

async function* readChunks(
  handle: FileHandle,
  path: string,
  key: FashionMnistFileKey,
  onProgress?: (p: LoadProgress) => void,
): AsyncIterable<Uint8Array> {
  let loaded = 0;
  try {
    for (;;) {
      const buf = new Uint8Array(READ_CHUNK_BYTES);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buf, 0, buf.length, loaded));
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new FmnistDataError('E_NOT_FOUND', `${path}: cannot be read (${e.code ?? e.message}). Check the path and its permissions.`, {
          file: path,
          cause: err,
        });
      }
      if (bytesRead === 0) return;
      loaded += bytesRead;
      onProgress?.({ file: key, phase: 'read', loaded });
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Opens a local file: gzip files are inflated straight from disk into one buffer, others are read in chunks. */
async function openLocal(path: string, key: FashionMnistFileKey, onProgress?: (p: LoadProgress) => void): Promise<OpenedFile> {
  const { handle, size } = await openRegular(path, key);
  let sizeHint: number | undefined;
  try {
    sizeHint = await gzipSizeHint(handle, size, key);
  } catch (err) {
    await handle.close().catch(() => {});
    const e = err as NodeJS.ErrnoException;
    throw new FmnistDataError('E_NOT_FOUND', `${path}: cannot be read (${e.code ?? e.message}). Check the path and its permissions.`, {
      file: path,
      cause: err,
    });
  }
  if (sizeHint === undefined) return { location: path, chunks: readChunks(handle, path, key, onProgress) };
  return {
    location: path,
    owned: true,
    chunks: gunzipFile(
      handle,
      path,
      sizeHint,
      (loaded) => onProgress?.({ file: key, phase: 'read', loaded }),
      FASHION_MNIST_FILES[key].bytes,
    ),
  };
}

function loadDir(
  dir: string,
  paths: Record<FashionMnistFileKey, string>,
  source: DataSource,
  options: LoadFashionMnistOptions,
): Promise<LoadResult<readonly SplitName[]>> {
  return loadAll((key) => openLocal(paths[key], key, options.onProgress), platform, {
    splits: resolveSplits(options.splits).splits,
    verify: options.verify ?? false,
    checksums: options.checksums,
    signal: options.signal,
    source,
    location: dir,
  });
}

/**
 * Loads Fashion-MNIST in Node. Looks, in order, in: `dir` → `$FMNIST_DATA_DIR` → the cache (`cacheDir`) → Debian's
 * system copy (`/usr/share/datasets/fashion-mnist`) → downloads the official files into the cache, verifying each
 * file's SHA-256 and writing it atomically (temp file + rename), so an interrupted download never leaves a file that
 * later loads. The result says which source was used. With `splits`, only the files of those splits are looked for,
 * read and downloaded, and the result holds only those splits (typed so: `{ splits: ['test'] }` has no `train`).
 *
 * @param options - see {@link LoadFashionMnistOptions}
 * @returns the splits (both by default), the `source`, its `location` and per-file details
 * @throws FmnistDataError `E_NOT_FOUND` (nothing found and `download: false`), `E_DOWNLOAD`, `E_CHECKSUM`, or a
 *   format error naming the bad file
 *
 * @example
 * ```ts
 * import { loadFashionMnist } from '@fmnist/data';
 * const { train, test, source } = await loadFashionMnist();
 * console.log(train.count, test.count, source); // 60000 10000 'system'
 *
 * const { test: only } = await loadFashionMnist({ splits: ['test'] }); // reads the two test files only
 * ```
 */
export async function loadFashionMnist<const S extends readonly SplitName[] = AllSplits>(
  options: Omit<LoadFashionMnistOptions, 'splits'> & { splits?: S } = {},
): Promise<LoadResult<S>> {
  return (await loadAny(options)) as LoadResult<S>;
}

async function loadAny(options: LoadFashionMnistOptions): Promise<LoadResult<readonly SplitName[]>> {
  throwIfAborted(options.signal, 'Loading Fashion-MNIST');
  const { splits } = resolveSplits(options.splits);
  const explicit: [DataSource, string, string][] = [];
  if (options.dir !== undefined) explicit.push(['dir', resolve(options.dir), `'dir' option`]);
  else if (process.env.FMNIST_DATA_DIR) explicit.push(['env', resolve(process.env.FMNIST_DATA_DIR), 'FMNIST_DATA_DIR']);
  for (const [source, dir, what] of explicit) {
    const kind = await probe(dir);
    if (kind !== 'absent' && kind !== 'a directory') {
      throw new FmnistDataError(
        'E_NOT_FOUND',
        `${dir} (from the ${what}) is ${kind === 'file' ? 'a file' : kind}, not a directory. Point it at the folder holding the four Fashion-MNIST files.`,
        { file: dir },
      );
    }
    const found = await findDatasetFiles(dir, splits);
    if ('missing' in found) {
      throw new FmnistDataError(
        'E_NOT_FOUND',
        `${dir} (from the ${what}) lacks ${found.missing.join(', ')}. Put the Fashion-MNIST files there (.gz or raw), or remove the ${what} to use the cache, the system copy or a download.`,
        { file: dir },
      );
    }
    return loadDir(dir, found.paths, source, options);
  }

  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir());
  const tried: string[] = [];
  try {
    const cached = await findDatasetFiles(cacheDir, splits);
    if ('paths' in cached) return await loadDir(cacheDir, cached.paths, 'cache', options);
    tried.push(`${cacheDir}: missing ${cached.missing.join(', ')}`);
  } catch (err) {
    // A damaged cache heals by downloading again (when allowed); otherwise say what to delete.
    if (!(err instanceof FmnistDataError) || err.code === 'E_ABORTED' || options.download === false) throw err;
    tried.push(`${cacheDir}: ${err.message}`);
  }

  const systemDir = options.systemDir ?? systemDirFromEnv();
  if (systemDir !== false) {
    const system = await findDatasetFiles(systemDir, splits);
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

/** `$FMNIST_SYSTEM_DIR` (empty or `none` turns the system copy off), else {@link SYSTEM_DATA_DIR}. */
function systemDirFromEnv(): string | false {
  const env = process.env.FMNIST_SYSTEM_DIR;
  if (env === undefined) return SYSTEM_DATA_DIR;
  return env.trim() === '' || env.trim().toLowerCase() === 'none' ? false : resolve(env);
}

/** The mirrors to try: `baseUrl`, then `mirrors` (else `$FMNIST_MIRRORS`, else the defaults). */
function mirrorList(options: LoadFashionMnistOptions): string[] {
  const env = process.env.FMNIST_MIRRORS?.split(/[\s,]+/).filter((m) => m.length > 0);
  const fromEnv = options.mirrors === undefined && env !== undefined && env.length > 0;
  const list = options.mirrors ?? (fromEnv ? (env as string[]) : DEFAULT_MIRRORS);
  const all = [...(options.baseUrl ? [options.baseUrl] : []), ...list];
  // Only http(s) is downloaded from: anything else (file:, javascript:, a bare path) would fail every retry unnamed.
  for (const m of all) {
    let protocol: string | undefined;
    try {
      protocol = new URL(m).protocol;
    } catch {}
    if (protocol === 'http:' || protocol === 'https:') continue;
    const shown = JSON.stringify(m.length > 80 ? `${m.slice(0, 80)}…` : m);
    const why = `${shown} is not an http:// or https:// URL; list base URLs such as ${DEFAULT_MIRRORS[0]}`;
    if (fromEnv && m !== options.baseUrl) {
      throw new FmnistDataError('E_DOWNLOAD', `FMNIST_MIRRORS: ${why} (separated by spaces or commas), or unset it to use the defaults.`);
    }
    throw new TypeError(`'${m === options.baseUrl ? 'baseUrl' : 'mirrors'}': ${why}.`);
  }
  return all;
}

function checkOptions(options: LoadFashionMnistOptions): Omit<DownloadOptions, 'signal'> {
  const mirrors = mirrorList(options);
  const retries = options.retries ?? 3;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const retryDelayMs = options.retryDelayMs ?? 500;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`'retries' must be a non-negative integer, got ${retries}.`);
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`'timeoutMs' must be a finite number > 0, got ${timeoutMs}.`);
  if (!(deadlineMs > 0) || !Number.isFinite(deadlineMs))
    throw new RangeError(`'deadlineMs' must be a finite number > 0, got ${deadlineMs}.`);
  if (!(retryDelayMs >= 0) || !Number.isFinite(retryDelayMs))
    throw new RangeError(`'retryDelayMs' must be a finite number ≥ 0, got ${retryDelayMs}.`);
  if (mirrors.length === 0) throw new TypeError(`'mirrors' must list at least one base URL.`);
  return {
    mirrors,
    retries,
    timeoutMs,
    deadlineMs,
    retryDelayMs,
    onProgress: options.onProgress,
    fetch: options.fetch ?? globalThis.fetch,
  };
}

type Decoded = { key: FashionMnistFileKey; tempPath: string; result: Awaited<ReturnType<typeof decodeFile>> };

async function downloadAll(cacheDir: string, options: LoadFashionMnistOptions): Promise<LoadResult<readonly SplitName[]>> {
  const base = checkOptions(options);
  const { splits, keys } = resolveSplits(options.splits);
  await ensureCacheDir(cacheDir);
  await sweepStaleParts(cacheDir);
  // One failing file stops the others, so no download outlives this call. (Linked by hand: nothing stays attached
  // to the caller's long-lived signal.)
  const inner = new AbortController();
  const onOuterAbort = () => inner.abort(options.signal?.reason);
  if (options.signal?.aborted) inner.abort(options.signal.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = inner.signal;
  const downloadOptions: DownloadOptions = { ...base, signal };
  const temps: string[] = [];
  try {
    let firstError: unknown;
    const settled = await Promise.allSettled(
      keys.map(async (key): Promise<Decoded> => {
        try {
          // Each mirror's file is verified as it arrives (checksum, shape); bad content moves on to the next mirror.
          const got = await downloadFile(key, cacheDir, downloadOptions, async (tempPath, url) =>
            decodeFile(key, { ...(await openLocal(tempPath, key)), location: url }, platform, {
              verify: true,
              expectedSha256: options.checksums?.[key],
              signal,
            }),
          );
          temps.push(got.tempPath);
          return { key, tempPath: got.tempPath, result: got.value };
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
    const decoded = settled.map((s) => (s as PromiseFulfilledResult<Decoded>).value);
    const byKey = Object.fromEntries(decoded.map((d) => [d.key, d.result])) as Record<FashionMnistFileKey, Decoded['result']>;
    // Shapes, counts and labels are checked too before anything reaches the cache.
    const loaded = assembleSplits(splits, byKey);
    throwIfAborted(options.signal, 'Loading Fashion-MNIST');
    // Every file is verified: only now do they take their final names.
    const finalPaths = {} as Record<FashionMnistFileKey, string>;
    for (const { key, tempPath } of decoded) {
      finalPaths[key] = join(cacheDir, FASHION_MNIST_FILES[key].name);
      await commitFile(tempPath, finalPaths[key]);
    }
    return {
      ...loaded,
      source: 'download',
      location: cacheDir,
      files: keys.map((key) => ({ ...byKey[key].info, location: finalPaths[key] })),
    };
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    await Promise.all(temps.map((t) => removeTemp(t)));
  }
}
