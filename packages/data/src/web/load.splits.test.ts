/**
 * The `splits` option of the browser loader (run here on Node's fetch + DecompressionStream): only the requested files
 * are fetched (requests counted per path on the hostile server's `/ok/` mirror), and `files` giving the two files of
 * one split loads that split without touching the network.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FASHION_MNIST_FILES, type FashionMnistFileKey, FILE_KEYS } from '../dataset';
import { type HostileServer, startHostileServer } from '../node/hostile-server';
import { gzip, tinyDataset } from '../test-fixtures';
import { loadFromSources } from './load';

const raw = tinyDataset(20, 10);
const files = Object.fromEntries(FILE_KEYS.map((k) => [FASHION_MNIST_FILES[k].name, gzip(raw[k])]));
const checksums = Object.fromEntries(FILE_KEYS.map((k) => [k, createHash('sha256').update(raw[k]).digest('hex')])) as Record<
  FashionMnistFileKey,
  string
>;
const NAME = Object.fromEntries(FILE_KEYS.map((k) => [k, FASHION_MNIST_FILES[k].name])) as Record<FashionMnistFileKey, string>;
const SYSTEM = '/usr/share/datasets/fashion-mnist';

let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer({ files });
});
afterAll(() => server.close());
beforeEach(() => server.reset());
const requests = () => Object.fromEntries(FILE_KEYS.map((k) => [k, server.count('ok', NAME[k])]));

describe('browser loader: splits', () => {
  it("splits ['test'] fetches the two test files only", async () => {
    const r = await loadFromSources({ baseUrl: server.mirror('ok'), splits: ['test'], verify: true, checksums });
    expect(requests()).toEqual({ trainImages: 0, trainLabels: 0, testImages: 1, testLabels: 1 });
    expect(r.test.count).toBe(10);
    expect('train' in r).toBe(false);
    expect(r.files.map((f) => [f.key, f.verified])).toEqual([
      ['testImages', true],
      ['testLabels', true],
    ]);
  });

  it("splits ['train'] through a failing mirror then a good one: no test file is requested anywhere", async () => {
    const r = await loadFromSources({ mirrors: [server.mirror('not-found'), server.mirror('ok')], splits: ['train'], checksums });
    expect(r.train.count).toBe(20);
    expect(requests()).toEqual({ trainImages: 1, trainLabels: 1, testImages: 0, testLabels: 0 });
    expect(server.count('not-found', NAME.testImages) + server.count('not-found', NAME.testLabels)).toBe(0);
  });

  it('files with only the two test files loads the test split and makes no request', async () => {
    let fetched = 0;
    const r = await loadFromSources({
      files: { testImages: gzip(raw.testImages), testLabels: raw.testLabels },
      checksums,
      fetch: async () => {
        fetched++;
        throw new Error('no network in this test');
      },
    });
    expect(fetched).toBe(0);
    expect(r.source).toBe('memory');
    expect(r.test.count).toBe(10);
    // @ts-expect-error files giving only the test files types a test-only result
    expect(r.train).toBeUndefined();
  });

  it('files with only the test files as URLs fetches exactly those two URLs', async () => {
    const r = await loadFromSources({
      files: { testImages: server.mirror('ok') + NAME.testImages, testLabels: server.mirror('ok') + NAME.testLabels },
      checksums,
    });
    expect(r.source).toBe('url');
    expect(requests()).toEqual({ trainImages: 0, trainLabels: 0, testImages: 1, testLabels: 1 });
  });

  it('files with one test file and no splits keeps the default (both), fetching the rest from baseUrl', async () => {
    const r = await loadFromSources({ baseUrl: server.mirror('ok'), files: { testLabels: raw.testLabels }, checksums });
    expect(requests()).toEqual({ trainImages: 1, trainLabels: 1, testImages: 1, testLabels: 0 });
    expect([r.train.count, r.test.count]).toEqual([20, 10]);
  });

  it('an explicit splits wins over what files implies', async () => {
    const r = await loadFromSources({
      baseUrl: server.mirror('ok'),
      files: { testImages: raw.testImages, testLabels: raw.testLabels },
      splits: ['train', 'test'],
      checksums,
    });
    expect(requests()).toEqual({ trainImages: 1, trainLabels: 1, testImages: 0, testLabels: 0 });
    expect([r.train.count, r.test.count]).toEqual([20, 10]);
  });

  it('splits [] → RangeError before any request', async () => {
    await expect(loadFromSources({ baseUrl: server.mirror('ok'), splits: [] })).rejects.toThrow(RangeError);
    expect(requests()).toEqual({ trainImages: 0, trainLabels: 0, testImages: 0, testLabels: 0 });
  });
});

describe.skipIf(!existsSync(join(SYSTEM, NAME.testLabels)))('browser loader: splits on the real files', () => {
  it("serves the real files and splits ['test'] requests and verifies the test files only", async () => {
    const real = Object.fromEntries(await Promise.all(FILE_KEYS.map(async (k) => [NAME[k], await readFile(join(SYSTEM, NAME[k]))])));
    const realServer = await startHostileServer({ files: real });
    try {
      const r = await loadFromSources({ baseUrl: realServer.mirror('ok'), splits: ['test'], verify: true });
      expect(r.test.count).toBe(10_000);
      expect(r.files.map((f) => f.sha256)).toEqual([FASHION_MNIST_FILES.testImages.sha256, FASHION_MNIST_FILES.testLabels.sha256]);
      expect(FILE_KEYS.map((k) => realServer.count('ok', NAME[k]))).toEqual([0, 0, 1, 1]);
    } finally {
      await realServer.close();
    }
  });
});
