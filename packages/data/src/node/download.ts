/**
 * The one download pipeline of the Node loader. Every failure ends as an {@link FmnistDataError} (never an unhandled
 * `'error'` event): the body is read with a promise-based reader and written with awaited `FileHandle.write` calls,
 * so a reset connection, a full disk or a read-only cache surfaces as a rejected promise that the attempt loop
 * classifies:
 *
 * - **retry** the same mirror with backoff: network errors (ECONNRESET, ECONNREFUSED, EAI_AGAIN…), HTTP 5xx/408/429,
 *   a body cut short, a stall longer than `timeoutMs`;
 * - **next mirror** at once: 404/410 (`E_NOT_FOUND`), other 4xx, a redirect loop, an unknown host, a body larger than
 *   the file can be (`E_TOO_LARGE`), the per-attempt `deadlineMs`, and every content failure found by `accept`
 *   (HTML with 200, wrong checksum, bad gzip, wrong IDX header);
 * - **stop**: the caller's abort (`E_ABORTED`) and a cache that cannot be written (`E_CACHE_WRITE`).
 *
 * Temp files (`.<name>.<pid>.<random>.part`) are removed on every failure, on abort, at process exit and on
 * SIGINT/SIGTERM/SIGHUP when no one else handles them; leftovers of killed processes are swept by
 * {@link sweepStaleParts}. No listener outlives its attempt.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FASHION_MNIST_FILES, type FashionMnistFileKey, maxDownloadBytes } from '../dataset';
import { describeCause, FmnistDataError, throwIfAborted } from '../errors';
import { joinUrl, type LoadProgress } from '../load-core';

/** Options of one download. @internal */
export interface DownloadOptions {
  mirrors: readonly string[];
  retries: number;
  /** Idle timeout: an attempt fails after this long without a byte. */
  timeoutMs: number;
  /** Overall limit of one attempt at one file, however steadily bytes trickle in. */
  deadlineMs: number;
  retryDelayMs: number;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  fetch: typeof fetch;
}

/** Default per-attempt deadline: 10 minutes (26 MB at 44 KB/s). */
export const DEFAULT_DEADLINE_MS = 600_000;

/** What to do after a failed attempt. */
type Verdict = 'retry' | 'next-mirror' | 'stop';
const verdicts = new WeakMap<FmnistDataError, Verdict>();

function fail(code: ConstructorParameters<typeof FmnistDataError>[0], verdict: Verdict, message: string, file: string, cause?: unknown) {
  const err = new FmnistDataError(code, message, { file, cause });
  verdicts.set(err, verdict);
  return err;
}

function verdictOf(err: FmnistDataError): Verdict {
  const known = verdicts.get(err);
  if (known) return known;
  if (err.code === 'E_ABORTED' || err.code === 'E_CACHE_WRITE') return 'stop';
  // Anything else found in the content (checksum, gzip, IDX header, shape…) will not heal on the same mirror.
  return 'next-mirror';
}

/** The first errno-style code in an error's cause chain (`ECONNRESET`, `UND_ERR_SOCKET`, `Z_DATA_ERROR`, …). */
function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ABORT_ERR') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function causeMessages(err: unknown): string {
  return describeCause(err).toLowerCase();
}

const CACHE_FIX =
  "Pass a writable 'cacheDir' (or set XDG_CACHE_HOME), free some space, or download the four files yourself and pass { dir }.";

/** Wraps a file-system failure of the cache (create, write, rename) as `E_CACHE_WRITE`. @internal */
export function cacheWriteError(err: unknown, path: string, what: string): FmnistDataError {
  if (err instanceof FmnistDataError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const why =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'the disk is full'
      : code === 'EROFS'
        ? 'the file system is read-only'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ENOTDIR' || code === 'EEXIST'
            ? 'a path component is not a directory'
            : 'the file system refused it';
  return fail('E_CACHE_WRITE', 'stop', `${path}: cannot ${what}: ${why} (${describeCause(err)}). ${CACHE_FIX}`, path, err);
}

/**
 * `mkdir -p` with a bounded depth. (Node's own `recursive: true` never returns for a path under /proc, where mkdir
 * answers ENOENT although the parent exists.)
 */
async function makeDir(dir: string, depth = 0): Promise<void> {
  try {
    await mkdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return;
      throw Object.assign(new Error(`${dir} exists and is not a directory`), { code: 'ENOTDIR' });
    }
    if (code !== 'ENOENT' || depth >= 64 || dirname(dir) === dir) throw err;
    await makeDir(dirname(dir), depth + 1);
    try {
      await mkdir(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}

/** Creates the cache directory, or throws `E_CACHE_WRITE`. @internal */
export async function ensureCacheDir(dir: string): Promise<void> {
  try {
    await makeDir(dir);
  } catch (err) {
    throw cacheWriteError(err, dir, 'create the cache directory');
  }
}

// ---- temp files: removed on failure, at exit and on a fatal signal ----

const liveTemps = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let hooksInstalled = false;
const ownHandlers = new Map<NodeJS.Signals, () => void>();

function removeLiveTempsSync(): void {
  for (const t of liveTemps) rmSync(t, { force: true });
  liveTemps.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', removeLiveTempsSync);
  for (const sig of SIGNALS) {
    // Only where nobody else handles the signal: then Node would die without running 'exit', leaving the parts.
    if (process.listenerCount(sig) > 0) continue;
    const handler = () => {
      removeLiveTempsSync();
      uninstallHooks();
      // Others may have subscribed since: they decide. Otherwise die of the signal as Node would have.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    ownHandlers.set(sig, handler);
    process.on(sig, handler);
  }
}

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', removeLiveTempsSync);
  for (const [sig, handler] of ownHandlers) process.off(sig, handler);
  ownHandlers.clear();
}

/** Registers a temp file for removal at exit or on a signal. @internal */
export function trackTemp(path: string): void {
  liveTemps.add(path);
  installHooks();
}

/** Removes a temp file (if it exists) and forgets it. @internal */
export async function removeTemp(path: string): Promise<void> {
  try {
    await rm(path, { force: true });
  } catch {
    // Best effort: a read-only directory can hold no part file anyway.
  }
  untrackTemp(path);
}

function untrackTemp(path: string): void {
  liveTemps.delete(path);
  if (liveTemps.size === 0) uninstallHooks();
}

/** Number of temp files this process currently owns (for tests). @internal */
export function liveTempCount(): number {
  return liveTemps.size;
}

const PART_RE = /^\..+\.(\d+)\.[0-9a-f]{8}\.part$/;

/**
 * Removes `.part` files in `dir` left by processes that no longer run (a `kill -9` during a download).
 * @internal
 */
export async function sweepStaleParts(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(PART_RE.exec(name)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    await rm(join(dir, name), { force: true }).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---- waiting and signals without leaks ----

/** Waits `ms`, or rejects with the signal's reason; the abort listener is removed either way. @internal */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Makes `controller` abort when `parent` does; returns the function that undoes the link (call it in `finally`).
 * Unlike `AbortSignal.any`, nothing stays attached to a long-lived parent signal.
 * @internal
 */
export function linkAbort(parent: AbortSignal | undefined, controller: AbortController): () => void {
  if (!parent) return () => {};
  if (parent.aborted) {
    controller.abort(parent.reason);
    return () => {};
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return () => parent.removeEventListener('abort', onAbort);
}

// ---- one file, every mirror ----

/** One failed attempt, as listed in the final error. */
interface AttemptFailure {
  url: string;
  attempt: number;
  error: FmnistDataError;
}

/**
 * Downloads one file to a unique temporary path inside `dir`, checks it with `accept` (which reads the temp file and
 * throws an `FmnistDataError` for bad content) and returns the temp path, the URL and what `accept` returned. The
 * caller renames the temp file into place once everything is verified, or removes it with {@link removeTemp}.
 * @internal
 */
export async function downloadFile<T>(
  key: FashionMnistFileKey,
  dir: string,
  options: DownloadOptions,
  accept: (tempPath: string, url: string) => Promise<T>,
): Promise<{ tempPath: string; url: string; value: T }> {
  const name = FASHION_MNIST_FILES[key].name;
  await ensureCacheDir(dir);
  const failures: AttemptFailure[] = [];
  for (const mirror of options.mirrors) {
    const url = joinUrl(mirror, name);
    for (let attempt = 0; attempt <= options.retries; attempt++) {
      throwIfAborted(options.signal, `Downloading ${url}`);
      if (attempt > 0) {
        const delay = options.retryDelayMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
        try {
          await sleep(delay, options.signal);
        } catch {
          throwIfAborted(options.signal, `Downloading ${url}`);
        }
      }
      const tempPath = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
      trackTemp(tempPath);
      try {
        await fetchToFile(url, tempPath, key, options);
        const value = await accept(tempPath, url);
        return { tempPath, url, value };
      } catch (err) {
        await removeTemp(tempPath);
        throwIfAborted(options.signal, `Downloading ${url}`);
        const error = err instanceof FmnistDataError ? err : cacheWriteError(err, tempPath, 'read back the downloaded file');
        const verdict = verdictOf(error);
        if (verdict === 'stop') throw error;
        failures.push({ url, attempt: attempt + 1, error });
        if (verdict === 'next-mirror') break;
      }
    }
  }
  throw aggregate(name, failures);
}

/** One error for a file that no mirror delivered: the shared code of every attempt (else `E_DOWNLOAD`), each listed. */
function aggregate(name: string, failures: AttemptFailure[]): FmnistDataError {
  const codes = new Set(failures.map((f) => f.error.code));
  const code = codes.size === 1 ? (failures[0] as AttemptFailure).error.code : 'E_DOWNLOAD';
  const lines = failures.map((f) => `  - ${f.url} (attempt ${f.attempt}): [${f.error.code}] ${f.error.message}`);
  const fix =
    code === 'E_NOT_FOUND'
      ? `No mirror has ${name}: check the mirror URLs ('mirrors', 'baseUrl' or FMNIST_MIRRORS).`
      : 'Check your network or proxy and the mirror URLs, or download the four files yourself and pass { dir } (or set FMNIST_DATA_DIR).';
  return new FmnistDataError(code, `Could not download ${name}; every attempt failed:\n${lines.join('\n')}\n${fix}`, {
    file: name,
    cause: failures[failures.length - 1]?.error,
  });
}

const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Codes of network failures that a retry cannot mend: try the next mirror. */
const PERMANENT_NET = new Set(['ENOTFOUND', 'ERR_INVALID_URL', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'UND_ERR_INVALID_ARG']);

async function fetchToFile(url: string, tempPath: string, key: FashionMnistFileKey, options: DownloadOptions): Promise<void> {
  const cap = maxDownloadBytes(key);
  const controller = new AbortController();
  const unlink = linkAbort(options.signal, controller);
  let why: 'stall' | 'deadline' | undefined;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      why ??= 'stall';
      controller.abort(new Error(`no data for ${options.timeoutMs} ms`));
    }, options.timeoutMs);
  };
  const deadline = setTimeout(() => {
    why ??= 'deadline';
    controller.abort(new Error(`not done after ${options.deadlineMs} ms`));
  }, options.deadlineMs);
  let handle: FileHandle | undefined;
  let response: Response | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let loaded = 0;
  let declared: number | undefined;
  try {
    try {
      handle = await open(tempPath, 'wx');
    } catch (err) {
      throw cacheWriteError(err, tempPath, 'create a temporary file in the cache');
    }
    arm();
    // identity: the .gz must arrive as it is stored (a decoded body is still accepted and checked).
    response = await options.fetch(url, { signal: controller.signal, redirect: 'follow', headers: { 'accept-encoding': 'identity' } });
    if (!response.ok || !response.body) {
      const status = response.status;
      const text = `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
      if (status === 404 || status === 410) throw fail('E_NOT_FOUND', 'next-mirror', `${text}: the mirror does not have this file`, url);
      throw fail('E_DOWNLOAD', TRANSIENT_STATUS.has(status) ? 'retry' : 'next-mirror', text, url);
    }
    const encoding = (response.headers.get('content-encoding') ?? 'identity').toLowerCase();
    const lengthHeader = response.headers.get('content-length');
    declared = lengthHeader !== null && /^\d+$/.test(lengthHeader.trim()) ? Number(lengthHeader) : undefined;
    if (declared !== undefined && declared > cap) {
      throw fail(
        'E_TOO_LARGE',
        'next-mirror',
        `Content-Length ${declared} is larger than ${FASHION_MNIST_FILES[key].name} can be (at most ${cap} bytes); refused before reading the body`,
        url,
      );
    }
    // A decoded body (Content-Encoding) has another length than the header's: compare only identity bodies.
    const expected = encoding === 'identity' ? declared : undefined;
    reader = response.body.getReader();
    let sniffed = false;
    for (;;) {
      arm();
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      if (!sniffed) {
        sniffed = true;
        sniff(value, url, response.headers.get('content-type'));
      }
      loaded += value.length;
      if (loaded > cap) {
        throw fail(
          'E_TOO_LARGE',
          'next-mirror',
          `the body goes on past ${cap} bytes, more than ${FASHION_MNIST_FILES[key].name} can be; stopped reading`,
          url,
        );
      }
      try {
        for (let off = 0; off < value.length; ) {
          const { bytesWritten } = await handle.write(value, off, value.length - off);
          off += bytesWritten;
        }
      } catch (err) {
        throw cacheWriteError(err, tempPath, 'write the download');
      }
      options.onProgress?.({ file: key, phase: 'download', loaded, total: expected });
    }
    if (expected !== undefined && loaded !== expected) {
      throw fail('E_TRUNCATED', 'retry', `the body has ${loaded} bytes but Content-Length said ${expected}`, url);
    }
    try {
      await handle.close();
      handle = undefined;
    } catch (err) {
      throw cacheWriteError(err, tempPath, 'finish writing the download');
    }
  } catch (err) {
    throw classify(err, url, { why, options, loaded, declared, aborted: options.signal?.aborted === true });
  } finally {
    clearTimeout(idle);
    clearTimeout(deadline);
    unlink();
    // Release the socket of a body left unread (an error mid-way): nothing keeps streaming into the void.
    await (reader ? reader.cancel() : response?.body?.cancel())?.catch(() => {});
    await handle?.close().catch(() => {});
  }
}

/** Refuses a body that is neither gzip (`1f 8b`) nor raw IDX (`00 00`) from its first bytes: an HTML page, say. */
function sniff(first: Uint8Array, url: string, contentType: string | null): void {
  const gzip = first[0] === 0x1f && (first.length < 2 || first[1] === 0x8b);
  const idx = first[0] === 0 && (first.length < 2 || first[1] === 0);
  if (gzip || idx) return;
  const text = Array.from(first.subarray(0, 16), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  throw fail(
    'E_NOT_GZIP',
    'next-mirror',
    `the server sent${contentType ? ` ${contentType.split(';')[0]}` : ''} content starting with '${text}', not gzip or IDX data (an error page or a wrong file)`,
    url,
  );
}

function classify(
  err: unknown,
  url: string,
  ctx: { why?: 'stall' | 'deadline'; options: DownloadOptions; loaded: number; declared?: number; aborted: boolean },
): unknown {
  if (ctx.aborted) return err instanceof FmnistDataError && err.code === 'E_ABORTED' ? err : throwAbort(ctx.options.signal, url, err);
  if (err instanceof FmnistDataError) return err;
  if (ctx.why === 'stall') {
    return fail(
      'E_TIMEOUT',
      'retry',
      `no data for ${ctx.options.timeoutMs} ms (after ${ctx.loaded} bytes); gave up on this attempt`,
      url,
      err,
    );
  }
  if (ctx.why === 'deadline') {
    return fail(
      'E_TIMEOUT',
      'next-mirror',
      `not complete after ${ctx.options.deadlineMs} ms (${ctx.loaded} bytes so far; 'deadlineMs'); the mirror is too slow`,
      url,
      err,
    );
  }
  const code = causeCode(err);
  const text = causeMessages(err);
  if (text.includes('bad port')) {
    return fail('E_DOWNLOAD', 'next-mirror', `the URL's port is one fetch refuses to use (${describeCause(err)})`, url, err);
  }
  if (text.includes('redirect count exceeded') || text.includes('redirect loop')) {
    return fail('E_DOWNLOAD', 'next-mirror', `redirect loop: more than 20 redirects (${describeCause(err)})`, url, err);
  }
  if (code?.startsWith('Z_') || text.includes('incorrect header check') || text.includes('invalid stored block')) {
    return fail('E_GZIP', 'next-mirror', `the server's Content-Encoding could not be decoded (${describeCause(err)})`, url, err);
  }
  if (ctx.loaded > 0 || ctx.declared !== undefined) {
    const of = ctx.declared !== undefined ? ` of ${ctx.declared}` : '';
    return fail('E_TRUNCATED', 'retry', `the connection broke after ${ctx.loaded}${of} bytes (${describeCause(err)})`, url, err);
  }
  const hint =
    code === 'ENOTFOUND'
      ? ': the host name does not resolve'
      : code === 'ECONNREFUSED'
        ? ': nothing listens there'
        : code === 'ECONNRESET'
          ? ': the connection was reset'
          : '';
  return fail(
    'E_DOWNLOAD',
    code && PERMANENT_NET.has(code) ? 'next-mirror' : 'retry',
    `request failed${hint} (${describeCause(err)})`,
    url,
    err,
  );
}

function throwAbort(signal: AbortSignal | undefined, url: string, err: unknown): FmnistDataError {
  return new FmnistDataError('E_ABORTED', `Downloading ${url} was aborted by the caller's AbortSignal.`, {
    file: url,
    cause: signal?.reason ?? err,
  });
}

/** Moves a verified temporary file to its final name atomically (same directory, so `rename` is atomic). @internal */
export async function commitFile(tempPath: string, finalPath: string): Promise<void> {
  try {
    await rename(tempPath, finalPath);
  } catch (err) {
    throw cacheWriteError(err, finalPath, 'move the verified download into place');
  }
  untrackTemp(tempPath);
}
