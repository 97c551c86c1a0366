import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FmnistDataError } from '../errors';
import { describeFileKind, openRegularFile, RegularFileError, readRegularFile } from './regular-file';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-regular-file-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<RegularFileError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegularFileError);
  expect(err).toBeInstanceOf(FmnistDataError);
  return err as RegularFileError;
}

const posix = process.platform !== 'win32';

describe('readRegularFile', () => {
  it('reads a regular file within the cap, exactly', async () => {
    const p = join(dir, 'ok.bin');
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    await writeFile(p, bytes);
    expect((await readRegularFile(p, { maxBytes: bytes.length })).equals(bytes)).toBe(true);
  });

  it('reads an empty regular file as 0 bytes (the caller decides whether empty is an error)', async () => {
    const p = join(dir, 'empty');
    await writeFile(p, '');
    expect((await readRegularFile(p, { maxBytes: 10 })).length).toBe(0);
  });

  it('a missing file → E_NOT_FOUND with errno ENOENT and the system error as cause', async () => {
    const p = join(dir, 'nope');
    const err = await failure(readRegularFile(p, { maxBytes: 10 }));
    expect(err.code).toBe('E_NOT_FOUND');
    expect(err.errno).toBe('ENOENT');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(err.file).toBe(p);
    expect(err.message).toBe(`${p}: cannot be opened (ENOENT). Check the path and its permissions.`);
  });

  it('a directory → E_NOT_FILE, kind directory', async () => {
    const p = join(dir, 'sub');
    await mkdir(p);
    const err = await failure(readRegularFile(p, { maxBytes: 10 }));
    expect(err.code).toBe('E_NOT_FILE');
    expect(err.kind).toBe('directory');
    expect(err.message).toContain(`${p}: is a directory, not a regular file`);
  });

  it.skipIf(!posix)('a FIFO with no writer → E_NOT_FILE at once (no hang), kind FIFO', async () => {
    const p = join(dir, 'fifo');
    execFileSync('mkfifo', [p]);
    const err = await failure(readRegularFile(p, { maxBytes: 10 }));
    expect(err.code).toBe('E_NOT_FILE');
    expect(err.kind).toBe('FIFO');
    expect(err.message).toContain('a FIFO (named pipe)');
  });

  it.skipIf(!existsSync('/dev/zero'))('/dev/zero (endless) → E_NOT_FILE, kind device, nothing read', async () => {
    const err = await failure(readRegularFile('/dev/zero', { maxBytes: 10 }));
    expect(err.code).toBe('E_NOT_FILE');
    expect(err.kind).toBe('device');
    expect(err.file).toBe('/dev/zero');
  });

  it.skipIf(process.platform !== 'linux')('a UNIX socket → E_NOT_FOUND (Linux refuses to open(2) one: ENXIO)', async () => {
    const p = join(dir, 'sock');
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(p, resolve));
    try {
      const err = await failure(readRegularFile(p, { maxBytes: 10 }));
      expect(err.code).toBe('E_NOT_FOUND');
      expect(err.errno).toBe('ENXIO');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('one byte over the cap → E_TOO_LARGE with size and maxBytes; exactly the cap is read', async () => {
    const p = join(dir, 'big');
    await writeFile(p, Buffer.alloc(11, 7));
    const err = await failure(readRegularFile(p, { maxBytes: 10 }));
    expect(err.code).toBe('E_TOO_LARGE');
    expect(err.size).toBe(11);
    expect(err.maxBytes).toBe(10);
    expect(err.message).toBe(`${p}: 11 bytes, more than the 10 allowed; refused without reading it.`);
    expect((await readRegularFile(p, { maxBytes: 11 })).length).toBe(11);
  });

  it('a sparse 1 GiB file → E_TOO_LARGE from fstat, without reading it', async () => {
    const p = join(dir, 'sparse');
    await writeFile(p, '');
    await truncate(p, 1024 ** 3);
    const err = await failure(readRegularFile(p, { maxBytes: 1024 }));
    expect(err.code).toBe('E_TOO_LARGE');
    expect(err.size).toBe(1024 ** 3);
  });

  it('leaves nothing behind in the directory', async () => {
    await writeFile(join(dir, 'a'), 'x');
    await readRegularFile(join(dir, 'a'), { maxBytes: 1 });
    await failure(readRegularFile(join(dir, 'a'), { maxBytes: 0 }));
    expect(await readdir(dir)).toEqual(['a']);
  });
});

describe('openRegularFile', () => {
  it('returns an open handle and the size; nothing is read', async () => {
    const p = join(dir, 'ok');
    await writeFile(p, 'hello');
    const { handle, size } = await openRegularFile(p, { maxBytes: 5 });
    try {
      expect(size).toBe(5);
      expect(await handle.readFile('utf8')).toBe('hello');
    } finally {
      await handle.close();
    }
  });

  it.skipIf(!posix)('a FIFO → E_NOT_FILE; a directory → E_NOT_FILE; over the cap → E_TOO_LARGE', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect((await failure(openRegularFile(fifo, { maxBytes: 1 }))).kind).toBe('FIFO');
    expect((await failure(openRegularFile(dir, { maxBytes: 1 }))).kind).toBe('directory');
    const big = join(dir, 'big');
    await writeFile(big, 'ab');
    expect((await failure(openRegularFile(big, { maxBytes: 1 }))).code).toBe('E_TOO_LARGE');
  });
});

describe('describeFileKind', () => {
  it('says each kind as the messages do', () => {
    expect(['directory', 'FIFO', 'device', 'socket', 'other'].map((k) => describeFileKind(k as never))).toEqual([
      'a directory',
      'a FIFO (named pipe)',
      'a device',
      'a socket',
      'a special file',
    ]);
  });
});
