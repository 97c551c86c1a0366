/**
 * Fault suite of the local loader (hardening issue, class 3 "memory amplification" and the data-file part of class 9
 * "hangs"): hostile IDX headers and gzip bombs are refused before inflating, special files before reading.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkFashionMnistHeader, FASHION_MNIST_FILES, type FashionMnistFileKey, FILE_KEYS } from '../dataset';
import { loadFromSources, parseIdx } from '../node';
import { failure, gzip, idxBytes, tinyDataset } from '../test-fixtures';
import { loadFashionMnist } from './load';

const raw = tinyDataset(30, 10);
const checksums = Object.fromEntries(FILE_KEYS.map((k) => [k, createHash('sha256').update(raw[k]).digest('hex')])) as Record<
  FashionMnistFileKey,
  string
>;
const NAME = (k: FashionMnistFileKey) => FASHION_MNIST_FILES[k].name;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-load-fault-'));
  for (const k of FILE_KEYS) await writeFile(join(dir, NAME(k)), gzip(raw[k]));
});
afterEach(async () => {
  expect((await readdir(dir)).filter((f) => f.endsWith('.part') || f.endsWith('.tmp'))).toEqual([]);
  await rm(dir, { recursive: true, force: true });
});

/** A gzip IDX file whose header declares `dims` but holds only `bodyBytes` zeros (a bomb if the header were believed). */
function lyingGzip(dims: number[], bodyBytes: number, typeByte = 0x08): Uint8Array {
  return gzip(idxBytes(dims, new Uint8Array(bodyBytes), typeByte));
}

/** ArrayBuffer bytes in use (external memory of typed arrays). */
const arrayBufferBytes = () => process.memoryUsage().arrayBuffers;

describe('class 3: Fashion-MNIST headers are checked before inflating', () => {
  it.each([
    ['trainImages', [1_369_568, 28, 28]],
    ['trainImages', [60_001, 28, 28]],
    ['trainImages', [60_000, 28, 29]],
    ['trainImages', [60_000, 784]],
    ['trainImages', [60_000, 28, 28, 1]],
    ['testImages', [60_000, 28, 28]],
    ['trainLabels', [1_369_568]],
    ['trainLabels', [10_000]],
    ['testLabels', [60_000]],
    ['testLabels', [10_000, 1]],
  ] as [FashionMnistFileKey, number[]][])('%s declaring %j → E_SHAPE with verify: false, before the data', async (key, dims) => {
    await writeFile(join(dir, NAME(key)), lyingGzip(dims, 1024));
    const before = arrayBufferBytes();
    // The other three are tiny custom files (with their checksums); the file under test has none: official shape only.
    const err = await failure(loadFashionMnist({ dir, verify: false, checksums: { ...checksums, [key]: undefined } }));
    expect(err.code).toBe('E_SHAPE');
    expect(err.file).toBe(join(dir, NAME(key)));
    expect(err.message).toContain(`declares uint8 [${dims.join(', ')}]`);
    expect(err.message).toContain(`[${FASHION_MNIST_FILES[key].dims.join(', ')}]`);
    // Nothing near the declared size was allocated.
    expect(arrayBufferBytes() - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('the issue case: two 1 MB gzip files claiming 1,369,568 images → E_SHAPE, not a 2 GB "dataset"', async () => {
    await writeFile(join(dir, NAME('trainImages')), lyingGzip([1_369_568, 28, 28], 1 << 20));
    await writeFile(join(dir, NAME('trainLabels')), lyingGzip([1_369_568], 1 << 20));
    const before = arrayBufferBytes();
    const err = await failure(loadFashionMnist({ dir, verify: false }));
    expect(err.code).toBe('E_SHAPE');
    expect(arrayBufferBytes() - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a raw (not gzip) IDX file with a lying header → E_SHAPE too', async () => {
    await rm(join(dir, NAME('testLabels')));
    await writeFile(join(dir, NAME('testLabels').replace(/\.gz$/, '')), idxBytes([9_999_999], new Uint8Array(10)));
    expect((await failure(loadFashionMnist({ dir }))).code).toBe('E_SHAPE');
  });

  it.each([
    ['int32 images', 0x0c],
    ['float32 images', 0x0d],
  ])('%s → E_SHAPE from the header', async (_what, typeByte) => {
    await writeFile(join(dir, NAME('testImages')), lyingGzip([10, 28, 28], 64, typeByte));
    const err = await failure(loadFashionMnist({ dir, checksums }));
    expect(err.code).toBe('E_SHAPE');
  });

  it('tiny data without its checksums → E_SHAPE (only the official counts load)', async () => {
    const err = await failure(loadFashionMnist({ dir }));
    expect(err.code).toBe('E_SHAPE');
    expect(err.message).toMatch(/is uint8 \[(60000|10000)(, 28, 28)?\]/);
  });

  it('custom data with its checksums may be smaller than the official files', async () => {
    const r = await loadFashionMnist({ dir, checksums });
    expect([r.train.count, r.test.count]).toEqual([30, 10]);
  });

  it('custom data never larger than the official files, checksums or not', async () => {
    await writeFile(join(dir, NAME('testLabels')), lyingGzip([10_001], 10_001));
    const err = await failure(loadFashionMnist({ dir, checksums }));
    expect(err.code).toBe('E_SHAPE');
    expect(err.message).toMatch(/1 ≤ n ≤ 10000/);
  });

  it('a gzip trailer claiming 4 GB (a hostile size hint) allocates nothing of it → E_GZIP (zlib checks the length)', async () => {
    const gz = gzip(raw.trainImages);
    new DataView(gz.buffer, gz.byteOffset).setUint32(gz.length - 4, 0xffff_fff0, true);
    await writeFile(join(dir, NAME('trainImages')), gz);
    const before = arrayBufferBytes();
    const err = await failure(loadFashionMnist({ dir, checksums }));
    expect(err.code).toBe('E_GZIP');
    expect(err.message).toMatch(/incorrect length check/);
    expect(arrayBufferBytes() - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a gzip trailer claiming 500 MB for the labels file is not used as a buffer size (above its official size)', async () => {
    const gz = gzip(raw.testLabels);
    new DataView(gz.buffer, gz.byteOffset).setUint32(gz.length - 4, 500 << 20, true);
    await writeFile(join(dir, NAME('testLabels')), gz);
    const before = arrayBufferBytes();
    expect((await failure(loadFashionMnist({ dir, checksums }))).code).toBe('E_GZIP');
    expect(arrayBufferBytes() - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a gzip bomb with an honest small header (10 labels, then 20 MB of zeros) → E_LENGTH, inflation stopped', async () => {
    await writeFile(join(dir, NAME('testLabels')), lyingGzip([10], 20 << 20));
    const err = await failure(loadFashionMnist({ dir, checksums }));
    expect(err.code).toBe('E_LENGTH');
  });

  it('the same header check in the browser loader (from memory)', async () => {
    const files = Object.fromEntries(FILE_KEYS.map((k) => [k, gzip(raw[k])])) as Record<FashionMnistFileKey, Uint8Array>;
    files.trainImages = lyingGzip([1_369_568, 28, 28], 1024);
    const err = await failure(loadFromSources({ files, checksums }));
    expect(err.code).toBe('E_SHAPE');
  });

  it('checkFashionMnistHeader accepts the official shapes and names the file otherwise', () => {
    for (const k of FILE_KEYS) checkFashionMnistHeader(k, { dtype: 'uint8', dims: FASHION_MNIST_FILES[k].dims }, NAME(k), true);
    expect(() => checkFashionMnistHeader('testLabels', { dtype: 'uint8', dims: [0] }, 'x.gz', false)).toThrow(/x\.gz: its IDX header/);
  });
});

describe('class 3: parseIdx keeps a configurable limit for other IDX files', () => {
  it('a header beyond maxBytes → E_DIMS before allocating', async () => {
    const err = await failure(parseIdx(lyingGzip([100_000, 100, 100], 16), { maxBytes: 1 << 20 }));
    expect(err.code).toBe('E_DIMS');
    expect(err.message).toMatch(/1048576-byte limit/);
  });

  it('within maxBytes it decodes', async () => {
    const idx = await parseIdx(gzip(idxBytes([4, 4], new Uint8Array(16).fill(7))), { maxBytes: 16 });
    expect(idx.dims).toEqual([4, 4]);
  });

  it('a gzip bomb behind a small header stops at the header size → E_LENGTH', async () => {
    const err = await failure(parseIdx(lyingGzip([16], 32 << 20)));
    expect(err.code).toBe('E_LENGTH');
  });

  it('the checkHeader hook refuses a file before its data is read', async () => {
    const err = await parseIdx(gzip(idxBytes([3], [1, 2, 3])), {
      checkHeader: ({ dims }) => {
        throw new RangeError(`no ${dims.join('x')}`);
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toBe('no 3');
  });
});

describe('class 9: special files are refused up front, never read (no hang)', () => {
  it('a FIFO under a data file name → E_NOT_FILE naming it', async () => {
    const p = join(dir, NAME('trainLabels'));
    await rm(p);
    execFileSync('mkfifo', [p]);
    const err = await failure(loadFashionMnist({ dir }));
    expect(err.code).toBe('E_NOT_FILE');
    expect(err.file).toBe(p);
    expect(err.message).toContain('a FIFO (named pipe)');
  });

  it('a directory under a data file name → E_NOT_FILE', async () => {
    const p = join(dir, NAME('testImages'));
    await rm(p);
    await mkdir(p);
    const err = await failure(loadFashionMnist({ dir }));
    expect(err.code).toBe('E_NOT_FILE');
    expect(err.message).toContain('a directory');
  });

  it.each([
    ['/dev/zero', 'E_NOT_FILE'],
    ['/dev/urandom', 'E_NOT_FILE'],
    ['/dev/null', 'E_NOT_FILE'],
    ['/proc/self/status', 'E_EMPTY'],
    ['/proc/self/maps', 'E_EMPTY'],
    ['/proc/kmsg', 'E_EMPTY'],
  ])('a symlink to %s → %s', async (target, code) => {
    const p = join(dir, NAME('trainImages'));
    await rm(p);
    await symlink(target, p);
    const err = await failure(loadFashionMnist({ dir, verify: true }));
    expect(err.code).toBe(code);
    expect(err.file).toBe(p);
  });

  it('a UNIX socket under a data file name → E_NOT_FILE', async () => {
    const { createServer } = await import('node:net');
    const p = join(dir, NAME('testLabels'));
    await rm(p);
    const s = createServer();
    await new Promise<void>((r) => s.listen(p, r));
    try {
      const err = await failure(loadFashionMnist({ dir }));
      expect(err.code).toBe('E_NOT_FILE');
      expect(err.message).toContain('a socket');
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it('a sparse 1 GB file under the labels name → E_TOO_LARGE without reading it', async () => {
    const p = join(dir, NAME('trainLabels'));
    await truncate(p, 1 << 30);
    const err = await failure(loadFashionMnist({ dir }));
    expect(err.code).toBe('E_TOO_LARGE');
    expect(err.message).toMatch(/1073741824 bytes, more than/);
  });

  it('an empty file → E_EMPTY', async () => {
    await writeFile(join(dir, NAME('testLabels')), '');
    expect((await failure(loadFashionMnist({ dir }))).code).toBe('E_EMPTY');
  });

  it("'dir' naming a FIFO → E_NOT_FOUND: not a directory", async () => {
    const p = join(dir, 'pipe');
    execFileSync('mkfifo', [p]);
    const err = await failure(loadFashionMnist({ dir: p }));
    expect(err.code).toBe('E_NOT_FOUND');
    expect(err.message).toMatch(/is a FIFO \(named pipe\), not a directory/);
    await rm(p);
  });

  it("'dir' naming a regular file → E_NOT_FOUND: not a directory", async () => {
    const err = await failure(loadFashionMnist({ dir: join(dir, NAME('testLabels')) }));
    expect(err.code).toBe('E_NOT_FOUND');
    expect(err.message).toMatch(/is a file, not a directory/);
  });

  it('FMNIST_DATA_DIR with a FIFO inside → E_NOT_FILE', async () => {
    const p = join(dir, NAME('testLabels'));
    await rm(p);
    execFileSync('mkfifo', [p]);
    process.env.FMNIST_DATA_DIR = dir;
    try {
      expect((await failure(loadFashionMnist())).code).toBe('E_NOT_FILE');
    } finally {
      delete process.env.FMNIST_DATA_DIR;
    }
  });

  it('a FIFO in the cache with download off → E_NOT_FILE; with a system copy it is not read either', async () => {
    const p = join(dir, NAME('trainImages'));
    await rm(p);
    execFileSync('mkfifo', [p]);
    const err = await failure(loadFashionMnist({ cacheDir: dir, systemDir: false, download: false }));
    expect(err.code).toBe('E_NOT_FILE');
  });

  it('FMNIST_SYSTEM_DIR=none skips the system copy', async () => {
    process.env.FMNIST_SYSTEM_DIR = 'none';
    try {
      const err = await failure(loadFashionMnist({ cacheDir: join(dir, 'empty-cache'), download: false }));
      expect(err.code).toBe('E_NOT_FOUND');
      expect(err.message).not.toContain('/usr/share/datasets');
    } finally {
      delete process.env.FMNIST_SYSTEM_DIR;
    }
  });
});
