import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { constants, createGunzip } from 'node:zlib';
import { FmnistDataError } from '../errors';
import { type GunzipStream, outputLimitError } from '../idx';

/** Output chunk size: large chunks make zlib markedly faster on 47 MB of images. */
const GUNZIP_CHUNK_BYTES = 1 << 20;
/** Largest single output buffer we let a gzip trailer's size hint ask for. */
const MAX_SINGLE_CHUNK_BYTES = 512 * 1024 * 1024;

/**
 * Gunzip with Node's zlib (runs on the libuv thread pool, so several files decompress in parallel).
 * @internal
 */
export const nodeGunzip: GunzipStream = async function* (compressed, name, sizeHint, maxOutputBytes = Number.POSITIVE_INFINITY) {
  const source = Readable.from(compressed, { objectMode: false });
  // With the exact output size known (from the gzip trailer), zlib writes the whole file into one buffer that the
  // IDX decoder adopts without a copy: no garbage chunks, so peak memory stays at the data itself. (One spare byte
  // keeps the buffer from filling, which would make zlib allocate a second one.)
  const chunkSize =
    sizeHint !== undefined && sizeHint >= GUNZIP_CHUNK_BYTES && sizeHint <= MAX_SINGLE_CHUNK_BYTES ? sizeHint + 1 : GUNZIP_CHUNK_BYTES;
  const gz = createGunzip({ chunkSize });
  let sourceError: unknown;
  source.once('error', (err) => {
    sourceError = err;
    gz.destroy(err);
  });
  source.pipe(gz);
  let produced = 0;
  try {
    for await (const out of gz) {
      // Checked after the consumer saw the chunk: its header check (a clearer error) comes first.
      yield out as Uint8Array;
      produced += (out as Uint8Array).length;
      if (produced > maxOutputBytes) throw outputLimitError(name, maxOutputBytes);
    }
  } catch (err) {
    if (sourceError !== undefined) throw sourceError;
    throw toGzipError(err, name);
  } finally {
    source.unpipe(gz);
    source.destroy();
    gz.destroy();
  }
};

/** Compressed bytes read per step from a file. */
const FILE_READ_BYTES = 1 << 20;

/**
 * Streams a local gzip file through zlib, reading the compressed bytes into one reused buffer, so no compressed chunk
 * is left for the garbage collector. With `sizeHint` (the gzip trailer's size) zlib writes all output into one buffer.
 * Takes over `handle` (an opened regular file) and closes it. Stops once the output passes `maxOutputBytes`.
 * @internal
 */
export async function* gunzipFile(
  handle: FileHandle,
  path: string,
  sizeHint?: number,
  onRead?: (bytes: number) => void,
  maxOutputBytes = Number.POSITIVE_INFINITY,
): AsyncIterable<Uint8Array> {
  const chunkSize =
    sizeHint !== undefined && sizeHint >= GUNZIP_CHUNK_BYTES && sizeHint <= MAX_SINGLE_CHUNK_BYTES ? sizeHint + 1 : GUNZIP_CHUNK_BYTES;
  const gz = createGunzip({ chunkSize });
  const buf = Buffer.allocUnsafe(FILE_READ_BYTES);
  let feedError: unknown;
  const feeding = (async () => {
    try {
      let position = 0;
      let total = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        total += bytesRead;
        onRead?.(total);
        // The write callback runs once zlib has consumed the bytes, so the buffer can be refilled.
        // If zlib fails (corrupt data) it is destroyed and may never call back: 'close' ends the wait too.
        await new Promise<void>((resolve, reject) => {
          gz.once('close', resolve);
          gz.write(buf.subarray(0, bytesRead), (err) => {
            gz.off('close', resolve);
            if (err) reject(err);
            else resolve();
          });
        });
        if (gz.destroyed) return;
      }
      gz.end();
    } catch (err) {
      feedError = err;
      gz.destroy(err as Error);
    }
  })();
  let produced = 0;
  try {
    for await (const out of gz) {
      yield out as Uint8Array;
      produced += (out as Uint8Array).length;
      if (produced > maxOutputBytes) throw outputLimitError(path, maxOutputBytes);
    }
  } catch (err) {
    if (feedError !== undefined && !(feedError as NodeJS.ErrnoException).code?.startsWith('Z_')) {
      throw new FmnistDataError('E_NOT_FOUND', `${path}: cannot be read (${(feedError as Error).message}).`, {
        file: path,
        cause: feedError,
      });
    }
    throw toGzipError(err, path);
  } finally {
    gz.destroy();
    await feeding;
    await handle.close();
  }
}

/** Maps a zlib error to E_TRUNCATED (stream cut short) or E_GZIP (corrupt data). */
function toGzipError(err: unknown, name: string): unknown {
  if (err instanceof FmnistDataError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'Z_BUF_ERROR' || e.errno === constants.Z_BUF_ERROR) {
    return new FmnistDataError(
      'E_TRUNCATED',
      `${name}: the gzip stream ends early (the file is cut short, e.g. an interrupted download). Delete it and fetch it again.`,
      { file: name, cause: err },
    );
  }
  return new FmnistDataError('E_GZIP', `${name}: the gzip data is corrupt (${e.message}). Delete the file and fetch it again.`, {
    file: name,
    cause: err,
  });
}
