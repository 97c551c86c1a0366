import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { FmnistDataError } from '../errors';

/** What a path that is not a regular file turned out to be. @internal */
export type SpecialFileKind = 'directory' | 'FIFO' | 'device' | 'socket' | 'other';

/**
 * What `stats` describes, for a file that is not a regular one.
 *
 * @param stats - from `stat`/`lstat`/`fstat`
 * @returns `'directory'`, `'FIFO'`, `'device'`, `'socket'` or `'other'`
 * @internal
 */
export function specialFileKind(stats: Stats): SpecialFileKind {
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device';
  if (stats.isSocket()) return 'socket';
  return 'other';
}

/**
 * A kind as a message says it: `'a directory'`, `'a FIFO (named pipe)'`, `'a device'`, `'a socket'`, `'a special file'`.
 *
 * @param kind - from {@link specialFileKind}
 * @internal
 */
export function describeFileKind(kind: SpecialFileKind): string {
  switch (kind) {
    case 'directory':
      return 'a directory';
    case 'FIFO':
      return 'a FIFO (named pipe)';
    case 'device':
      return 'a device';
    case 'socket':
      return 'a socket';
    default:
      return 'a special file';
  }
}

/**
 * The error of {@link openRegularFile} and {@link readRegularFile}: an {@link FmnistDataError} whose `code` is
 * `E_NOT_FOUND` (cannot be opened or read; `errno` and `cause` hold the system error), `E_NOT_FILE` (`kind` says what
 * the path is) or `E_TOO_LARGE` (`size` bytes, more than `maxBytes`). Callers in other packages map it to their own
 * codes and messages.
 *
 * @internal
 */
export class RegularFileError extends FmnistDataError {
  /** The errno-style code (`ENOENT`, `EACCES`, `EIO`, …) of an `E_NOT_FOUND`. */
  readonly errno: string | undefined;
  /** What the path is, for `E_NOT_FILE`. */
  readonly kind: SpecialFileKind | undefined;
  /** The size found, for `E_TOO_LARGE` (at least; reading stops once past the cap). */
  readonly size: number | undefined;
  /** The cap that was exceeded, for `E_TOO_LARGE`. */
  readonly maxBytes: number | undefined;

  /**
   * @param code - `E_NOT_FOUND`, `E_NOT_FILE` or `E_TOO_LARGE`
   * @param message - names the file, what was found and what was expected
   * @param details - the file and the structured facts callers branch on
   */
  constructor(
    code: 'E_NOT_FOUND' | 'E_NOT_FILE' | 'E_TOO_LARGE',
    message: string,
    details: { file: string; cause?: unknown; errno?: string; kind?: SpecialFileKind; size?: number; maxBytes?: number },
  ) {
    super(code, message, { file: details.file, cause: details.cause });
    this.name = 'RegularFileError';
    this.errno = details.errno;
    this.kind = details.kind;
    this.size = details.size;
    this.maxBytes = details.maxBytes;
  }
}

/** Options of {@link openRegularFile} and {@link readRegularFile}. @internal */
export interface RegularFileOptions {
  /** Largest size accepted, in bytes; a larger file is refused with `E_TOO_LARGE` before any byte is read. */
  maxBytes: number;
}

function ioError(path: string, verb: 'opened' | 'read', err: unknown): RegularFileError {
  const e = err as NodeJS.ErrnoException;
  return new RegularFileError('E_NOT_FOUND', `${path}: cannot be ${verb} (${e.code ?? e.message}). Check the path and its permissions.`, {
    file: path,
    cause: err,
    errno: e.code,
  });
}

function tooLarge(path: string, size: number, maxBytes: number): RegularFileError {
  return new RegularFileError('E_TOO_LARGE', `${path}: ${size} bytes, more than the ${maxBytes} allowed; refused without reading it.`, {
    file: path,
    size,
    maxBytes,
  });
}

/**
 * Opens a file for reading without ever blocking, and only if it is a regular file within a size cap: opened with
 * `O_NONBLOCK` (a FIFO, even one swapped in after a check, opens at once instead of waiting for a writer), then the
 * opened handle's `fstat` must say a regular file of at most `maxBytes`. Nothing is read. The caller closes the handle.
 *
 * @param path - the file
 * @param options - `maxBytes`, the largest size accepted
 * @returns the open handle and the file's size
 * @throws RegularFileError `E_NOT_FOUND` (cannot be opened: `errno` and `cause`), `E_NOT_FILE` (a directory, FIFO,
 * device or socket: `kind`), `E_TOO_LARGE` (`size` over `maxBytes`)
 * @internal
 *
 * @example
 * ```ts
 * const { handle, size } = await openRegularFile('train-labels-idx1-ubyte.gz', { maxBytes: 1 << 20 });
 * try {
 *   // read from handle …
 * } finally {
 *   await handle.close();
 * }
 * ```
 */
export async function openRegularFile(path: string, options: RegularFileOptions): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw ioError(path, 'opened', err);
  }
  try {
    let st: Stats;
    try {
      st = await handle.stat();
    } catch (err) {
      throw ioError(path, 'read', err);
    }
    if (!st.isFile()) {
      const kind = specialFileKind(st);
      throw new RegularFileError('E_NOT_FILE', `${path}: is ${describeFileKind(kind)}, not a regular file; refused without reading it.`, {
        file: path,
        kind,
      });
    }
    if (st.size > options.maxBytes) throw tooLarge(path, st.size, options.maxBytes);
    return { handle, size: st.size };
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}

/**
 * Reads a whole regular file within a size cap, without ever blocking on a FIFO or a device: {@link openRegularFile},
 * then at most `maxBytes` bytes (a file that grows past the cap while it is read is refused too).
 *
 * @param path - the file
 * @param options - `maxBytes`, the largest size accepted
 * @returns the file's bytes
 * @throws RegularFileError `E_NOT_FOUND` (cannot be opened or read: `errno` and `cause`), `E_NOT_FILE` (`kind`),
 * `E_TOO_LARGE` (`size` over `maxBytes`)
 * @internal
 *
 * @example
 * ```ts
 * const text = (await readRegularFile('runs/a/config.json', { maxBytes: 16 << 20 })).toString('utf8');
 * ```
 */
export async function readRegularFile(path: string, options: RegularFileOptions): Promise<Buffer> {
  const { maxBytes } = options;
  const { handle, size } = await openRegularFile(path, options);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // The size fstat reported in one read; more (a growing file) in 64 KiB steps, never past maxBytes + 1.
      const want = Math.max(1, Math.min(maxBytes + 1 - total, Math.max(size - total, 64 * 1024)));
      const buf = Buffer.allocUnsafe(want);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buf, 0, want, total));
      } catch (err) {
        throw ioError(path, 'read', err);
      }
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(path, total, maxBytes);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    await handle.close().catch(() => {});
  }
}
