/**
 * The `splits` option of the Node loader: only the files of the requested splits are looked for, requested from a
 * mirror (requests counted per path on the hostile server's `/ok/` mirror), verified and cached, and the result holds
 * (and is typed to hold) only those splits.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FASHION_MNIST_FILES, type FashionMnistFileKey, FILE_KEYS } from '../dataset';
import { FmnistDataError } from '../errors';
import type { LoadResult, SplitName } from '../load-core';
import { gzip, tinyDataset } from '../test-fixtures';
import { type HostileServer, startHostileServer } from './hostile-server';
import { findDatasetFiles, loadFashionMnist, SYSTEM_DATA_DIR } from './load';

const raw = tinyDataset(30, 10);
const files = Object.fromEntries(FILE_KEYS.map((k) => [FASHION_MNIST_FILES[k].name, gzip(raw[k])]));
const checksums = Object.fromEntries(FILE_KEYS.map((k) => [k, createHash('sha256').update(raw[k]).digest('hex')])) as Record<
  FashionMnistFileKey,
  string
>;
const NAME = Object.fromEntries(FILE_KEYS.map((k) => [k, FASHION_MNIST_FILES[k].name])) as Record<FashionMnistFileKey, string>;
const fast = { retryDelayMs: 2, timeoutMs: 1500, retries: 0, systemDir: false as const, checksums };

let server: HostileServer;
let cacheDir: string;
beforeAll(async () => {
  server = await startHostileServer({ files });
});
afterAll(() => server.close());
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'fmnist-splits-'));
  server.reset();
});
afterEach(() => rm(cacheDir, { recursive: true, force: true }));

const requests = () => Object.fromEntries(FILE_KEYS.map((k) => [k, server.count('ok', NAME[k])]));

describe('splits: only the requested files are downloaded', () => {
  it("splits ['test'] requests the two test files once each and never a training file", async () => {
    const r = await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: ['test'], ...fast });
    expect(requests()).toEqual({ trainImages: 0, trainLabels: 0, testImages: 1, testLabels: 1 });
    expect(r.test.count).toBe(10);
    expect('train' in r).toBe(false);
    expect(r.files.map((f) => f.key)).toEqual(['testImages', 'testLabels']);
    expect(r.files.every((f) => f.verified)).toBe(true);
    expect((await readdir(cacheDir)).sort()).toEqual([NAME.testImages, NAME.testLabels].sort());
  });

  it("splits ['train'] requests only the training files", async () => {
    const r = await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: ['train'], ...fast });
    expect(requests()).toEqual({ trainImages: 1, trainLabels: 1, testImages: 0, testLabels: 0 });
    expect(r.train.count).toBe(30);
    expect('test' in r).toBe(false);
  });

  it('the default still loads both splits (four requests)', async () => {
    const r = await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], ...fast });
    expect(requests()).toEqual({ trainImages: 1, trainLabels: 1, testImages: 1, testLabels: 1 });
    expect([r.train.count, r.test.count]).toEqual([30, 10]);
  });

  it('a cache holding only the test files serves splits [test] without any request; both splits then download', async () => {
    await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: ['test'], ...fast });
    server.reset();
    const again = await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: ['test'], ...fast });
    expect(again.source).toBe('cache');
    expect(requests()).toEqual({ trainImages: 0, trainLabels: 0, testImages: 0, testLabels: 0 });
    const both = await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], ...fast });
    expect(both.source).toBe('download');
    expect(both.train.count).toBe(30);
  });

  it('with download off, a test-only cache is not enough for both splits → E_NOT_FOUND naming the missing training files', async () => {
    await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: ['test'], ...fast });
    const err = await loadFashionMnist({ cacheDir, download: false, ...fast }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FmnistDataError);
    expect(err).toMatchObject({ code: 'E_NOT_FOUND' });
    expect((err as Error).message).toContain(NAME.trainImages);
    expect((err as Error).message).not.toContain(NAME.testImages);
  });

  it('duplicates are ignored and the order of the result is fixed', async () => {
    const r = await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: ['test', 'train', 'test'], ...fast });
    expect(r.files.map((f) => f.key)).toEqual(FILE_KEYS);
    expect(requests()).toEqual({ trainImages: 1, trainLabels: 1, testImages: 1, testLabels: 1 });
  });

  it('bad splits are refused before anything is requested: [] → RangeError, a wrong name or a string → TypeError', async () => {
    await expect(loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: [], ...fast })).rejects.toThrow(RangeError);
    await expect(
      loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: ['validation' as SplitName], ...fast }),
    ).rejects.toThrow(/'splits' may only hold 'train' and 'test', got "validation"/);
    await expect(
      loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: 'test' as unknown as SplitName[], ...fast }),
    ).rejects.toThrow(TypeError);
    expect(requests()).toEqual({ trainImages: 0, trainLabels: 0, testImages: 0, testLabels: 0 });
  });
});

describe('splits: types', () => {
  it('a literal tuple types exactly its splits; an array of unknown contents types both optional', async () => {
    const onlyTest = await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: ['test'], ...fast });
    const count: number = onlyTest.test.count; // present
    // @ts-expect-error `train` is not part of a test-only result
    expect(onlyTest.train).toBeUndefined();
    const dynamic: SplitName[] = ['train'];
    const some = await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], splits: dynamic, ...fast });
    // @ts-expect-error possibly undefined for a dynamic list
    expect(() => some.test.count).toThrow(TypeError);
    const all: LoadResult = await loadFashionMnist({ cacheDir, mirrors: [server.mirror('ok')], ...fast });
    expect([count, some.train?.count, all.train.count + all.test.count]).toEqual([10, 30, 40]);
  });
});

describe.skipIf(!existsSync(join(SYSTEM_DATA_DIR, NAME.testLabels)))('splits on the real files (Debian’s copy)', () => {
  it("splits ['test'] with verify reads and checks the two test files only", async () => {
    const r = await loadFashionMnist({ dir: SYSTEM_DATA_DIR, splits: ['test'], verify: true });
    expect(r.test.count).toBe(10_000);
    expect('train' in r).toBe(false);
    expect(r.files.map((f) => [f.key, f.verified, f.sha256])).toEqual([
      ['testImages', true, FASHION_MNIST_FILES.testImages.sha256],
      ['testLabels', true, FASHION_MNIST_FILES.testLabels.sha256],
    ]);
  });

  it('findDatasetFiles looks only for the files of the requested splits', async () => {
    const found = await findDatasetFiles(cacheDir, ['test']);
    expect(found).toEqual({ missing: [NAME.testImages, NAME.testLabels] });
    const real = await findDatasetFiles(SYSTEM_DATA_DIR, ['train']);
    expect(Object.keys('paths' in real ? real.paths : {})).toEqual(['trainImages', 'trainLabels']);
  });
});
