import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_FILES, type FashionMnistFileKey, FILE_KEYS } from '../dataset';
import { FmnistDataError } from '../errors';
import { gzip, tinyDataset } from '../test-fixtures';
import { loadFromSources } from './load';

const raw = tinyDataset(20, 10);
const checksums = Object.fromEntries(FILE_KEYS.map((k) => [k, createHash('sha256').update(raw[k]).digest('hex')])) as Record<
  FashionMnistFileKey,
  string
>;
let server: Server;
let base = '';

beforeAll(async () => {
  // /gz/ serves gzip files, /raw/ serves the same names uncompressed (as a server with Content-Encoding would
  // leave them after the browser decoded them), /empty/ serves 404s.
  server = createServer((req, res) => {
    const [, dir, name] = (req.url ?? '').split('/');
    const key = FILE_KEYS.find((k) => FASHION_MNIST_FILES[k].name === name);
    if (!key || dir === 'empty') {
      res.writeHead(404).end();
      return;
    }
    const body = dir === 'gz' ? gzip(raw[key]) : raw[key];
    res.writeHead(200, { 'content-length': body.length, 'access-control-allow-origin': '*' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('loadFromSources (the browser loader, run here on Node’s fetch + DecompressionStream)', () => {
  it('loads gz files from a base URL and verifies them', async () => {
    const progress = new Set<string>();
    const r = await loadFromSources({ baseUrl: `${base}/gz/`, verify: true, checksums, onProgress: (p) => progress.add(p.file) });
    expect(r.source).toBe('url');
    expect(r.train.count).toBe(20);
    expect(r.test.count).toBe(10);
    expect(r.files.every((f) => f.verified)).toBe(true);
    expect(progress.size).toBe(4);
  });

  it('loads already-decompressed files under .gz names (Content-Encoding case)', async () => {
    const r = await loadFromSources({ baseUrl: `${base}/raw`, verify: true, checksums });
    expect(Array.from(r.test.labels)).toEqual(Array.from(raw.testLabels.subarray(8)));
  });

  it('loads from ArrayBuffers, Blobs and typed arrays without any network', async () => {
    const r = await loadFromSources({
      files: {
        trainImages: gzip(raw.trainImages).buffer as ArrayBuffer,
        trainLabels: new Blob([raw.trainLabels as Uint8Array<ArrayBuffer>]),
        testImages: raw.testImages,
        testLabels: new Response(gzip(raw.testLabels) as Uint8Array<ArrayBuffer>),
      },
      // Custom (tiny) data says so with its checksums; without them only the official shapes load.
      checksums,
    });
    expect(r.source).toBe('memory');
    expect(r.train.count).toBe(20);
  });

  it('moves on to the next mirror when one has no files', async () => {
    const r = await loadFromSources({ mirrors: [`${base}/empty/`, `${base}/gz/`], checksums });
    expect(r.location).toBe(`${base}/gz/`);
  });

  it('a missing file at an explicit baseUrl → E_NOT_FOUND naming the URL', async () => {
    await expect(loadFromSources({ baseUrl: `${base}/empty/` })).rejects.toMatchObject({
      code: 'E_NOT_FOUND',
      message: expect.stringContaining(`${base}/empty/`),
    });
  });

  it('a checksum mismatch → E_CHECKSUM', async () => {
    const err = await loadFromSources({
      baseUrl: `${base}/gz/`,
      verify: true,
      checksums: { ...checksums, trainLabels: 'f'.repeat(64) },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(FmnistDataError);
    expect(err.code).toBe('E_CHECKSUM');
  });

  it('tiny data without its checksums → E_SHAPE from the header, before the data is read', async () => {
    const err = await loadFromSources({ baseUrl: `${base}/gz/` }).catch((e) => e);
    expect(err).toBeInstanceOf(FmnistDataError);
    expect(err.code).toBe('E_SHAPE');
    expect(err.message).toMatch(/declares uint8 \[(20|10)(, 28, 28)?\]/);
  });

  it('an aborted signal → E_ABORTED', async () => {
    const c = new AbortController();
    c.abort();
    await expect(loadFromSources({ baseUrl: `${base}/gz/`, signal: c.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});
