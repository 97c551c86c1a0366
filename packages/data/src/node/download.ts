import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FASHION_MNIST_FILES, type FashionMnistFileKey } from '../dataset';
import { FmnistDataError, throwIfAborted } from '../errors';
import { joinUrl, type LoadProgress } from '../load-core';

/** Options of one download. @internal */
export interface DownloadOptions {
  mirrors: readonly string[];
  retries: number;
  timeoutMs: number;
  retryDelayMs: number;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  fetch: typeof fetch;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/**
 * Downloads one file to a unique temporary path inside `dir` and returns that path. The caller verifies it and
 * renames it into place; nothing here ever writes the final name. Each mirror gets `retries + 1` attempts with
 * exponential backoff; a stall longer than `timeoutMs` without a byte counts as a failed attempt.
 * @internal
 */
export async function downloadToTemp(
  key: FashionMnistFileKey,
  dir: string,
  options: DownloadOptions,
): Promise<{ tempPath: string; url: string }> {
  const name = FASHION_MNIST_FILES[key].name;
  await mkdir(dir, { recursive: true });
  const causes: string[] = [];
  let lastError: unknown;
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
      try {
        await fetchToFile(url, tempPath, key, options);
        return { tempPath, url };
      } catch (err) {
        await rm(tempPath, { force: true });
        throwIfAborted(options.signal, `Downloading ${url}`);
        lastError = err;
        causes.push(`${url} (attempt ${attempt + 1}): ${(err as Error).message}`);
        // A 404 will not heal by retrying the same mirror.
        if (err instanceof FmnistDataError && err.code === 'E_NOT_FOUND') break;
      }
    }
  }
  throw new FmnistDataError(
    'E_DOWNLOAD',
    `Could not download ${name}; every attempt failed:\n${causes.map((c) => `  - ${c}`).join('\n')}\nCheck your network or proxy, or download the four files yourself and pass { dir } (or set FMNIST_DATA_DIR).`,
    { file: name, cause: lastError },
  );
}

async function fetchToFile(url: string, tempPath: string, key: FashionMnistFileKey, options: DownloadOptions): Promise<void> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort(new Error('stalled'));
    }, options.timeoutMs);
  };
  const out = createWriteStream(tempPath, { flags: 'wx' });
  try {
    arm();
    const response = await options.fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => {});
      throw new FmnistDataError(response.status === 404 ? 'E_NOT_FOUND' : 'E_DOWNLOAD', `HTTP ${response.status} ${response.statusText}`, {
        file: url,
      });
    }
    const lengthHeader = response.headers.get('content-length');
    const total = lengthHeader ? Number(lengthHeader) : undefined;
    let loaded = 0;
    const reader = response.body.getReader();
    for (;;) {
      arm();
      const { done, value } = await reader.read();
      if (done) break;
      loaded += value.length;
      options.onProgress?.({ file: key, phase: 'download', loaded, total });
      if (!out.write(value)) await new Promise<void>((r) => out.once('drain', r));
    }
    if (total !== undefined && loaded !== total) {
      throw new FmnistDataError('E_TRUNCATED', `the body has ${loaded} bytes but Content-Length said ${total}`, { file: url });
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  } catch (err) {
    out.destroy();
    if (stalled) {
      throw new FmnistDataError('E_TIMEOUT', `no data for ${options.timeoutMs} ms; gave up on this attempt`, { file: url, cause: err });
    }
    throw err;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Moves a verified temporary file to its final name atomically (same directory, so `rename` is atomic). @internal */
export async function commitFile(tempPath: string, finalPath: string): Promise<void> {
  await rename(tempPath, finalPath);
}
