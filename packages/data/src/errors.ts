/**
 * Stable error codes thrown by `@fmnist/data`. They never change meaning between releases, so callers can branch on
 * them (`if (err.code === 'E_NOT_FOUND') …`).
 *
 * | code | meaning |
 * | --- | --- |
 * | `E_EMPTY` | the file has no bytes at all |
 * | `E_MAGIC` | the first bytes are neither an IDX header nor gzip |
 * | `E_NOT_GZIP` | the file is named `.gz` but holds neither gzip nor IDX data |
 * | `E_GZIP` | gzip data that fails to decompress (corrupt or cut short) |
 * | `E_TYPE` | unknown IDX element type byte |
 * | `E_DIMS` | a dimension count or dimension size the IDX format does not allow |
 * | `E_TRUNCATED` | fewer bytes than the header's dimensions require |
 * | `E_LENGTH` | more bytes than the header's dimensions require |
 * | `E_SHAPE` | valid IDX but not Fashion-MNIST shaped (images `[n, 28, 28]` of bytes, labels `[n]`) |
 * | `E_LABEL_RANGE` | a label outside 0–9 |
 * | `E_COUNT_MISMATCH` | image and label files disagree on the number of examples |
 * | `E_CHECKSUM` | the content's SHA-256 differs from the expected one |
 * | `E_NOT_FOUND` | no complete copy of the dataset where it was looked for, and downloading was off or impossible; or every mirror answered 404 |
 * | `E_NOT_FILE` | a data file is not a regular file (a directory, FIFO, socket or device) |
 * | `E_DOWNLOAD` | every download attempt failed (each cause is listed, e.g. ECONNRESET, ENOTFOUND, HTTP 500, a redirect loop) |
 * | `E_TIMEOUT` | a download stalled for longer than `timeoutMs`, or took longer than `deadlineMs` |
 * | `E_TOO_LARGE` | a download is larger than the file can be (its `Content-Length` or its body) |
 * | `E_CACHE_WRITE` | the cache directory cannot be created or written (EACCES, EROFS, ENOSPC, …) |
 * | `E_ABORTED` | the caller's `AbortSignal` fired |
 */
export type FmnistDataErrorCode =
  | 'E_EMPTY'
  | 'E_MAGIC'
  | 'E_NOT_GZIP'
  | 'E_GZIP'
  | 'E_TYPE'
  | 'E_DIMS'
  | 'E_TRUNCATED'
  | 'E_LENGTH'
  | 'E_SHAPE'
  | 'E_LABEL_RANGE'
  | 'E_COUNT_MISMATCH'
  | 'E_CHECKSUM'
  | 'E_NOT_FOUND'
  | 'E_NOT_FILE'
  | 'E_DOWNLOAD'
  | 'E_TIMEOUT'
  | 'E_TOO_LARGE'
  | 'E_CACHE_WRITE'
  | 'E_ABORTED';

/**
 * Base class of every error the fmnist packages throw on purpose. `code` is a stable string; `message` names the input
 * at fault and how to fix it.
 *
 * @example
 * ```ts
 * try {
 *   await loadFashionMnist({ dir: './nope', download: false });
 * } catch (err) {
 *   if (err instanceof FmnistError) console.error(`${err.code}: ${err.message}`);
 * }
 * ```
 */
export class FmnistError extends Error {
  /** Stable machine-readable code, e.g. `E_NOT_FOUND`. */
  readonly code: string;

  /**
   * @param code - stable machine-readable code
   * @param message - what went wrong, which input, and the fix
   * @param options - `cause` of a wrapped error
   */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FmnistError';
    this.code = code;
  }
}

/**
 * An error from `@fmnist/data`: a bad or missing dataset file, a failed download, a checksum mismatch.
 *
 * @example
 * ```ts
 * try {
 *   decodeIdx(new Uint8Array([1, 2, 3]));
 * } catch (err) {
 *   if (err instanceof FmnistDataError && err.code === 'E_MAGIC') console.error(err.message);
 * }
 * ```
 */
export class FmnistDataError extends FmnistError {
  declare readonly code: FmnistDataErrorCode;
  /** The file (path, URL or name) the error is about, when there is one. */
  readonly file: string | undefined;

  /**
   * @param code - one of {@link FmnistDataErrorCode}
   * @param message - what went wrong and how to fix it
   * @param options - the `file` at fault and the `cause` of a wrapped error
   */
  constructor(code: FmnistDataErrorCode, message: string, options?: { file?: string; cause?: unknown }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FmnistDataError';
    this.file = options?.file;
  }
}

/** Throws `E_ABORTED` if `signal` has fired. @internal */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new FmnistDataError('E_ABORTED', `${what} was aborted by the caller's AbortSignal.`, {
      cause: signal.reason,
    });
  }
}

/**
 * The cause chain of an error in one line, with every errno-style code: `fetch failed ← getaddrinfo ENOTFOUND x (ENOTFOUND)`.
 * @internal
 */
export function describeCause(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    if (typeof e === 'object') {
      const { message, code } = e as { message?: unknown; code?: unknown };
      const text = typeof message === 'string' && message.length > 0 ? message : String(e);
      parts.push(typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text);
      e = (e as { cause?: unknown }).cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(' ← ');
}
