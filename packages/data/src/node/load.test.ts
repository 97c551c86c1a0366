import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FASHION_MNIST_FILES, type FashionMnistFileKey, FILE_KEYS } from '../dataset';
import { FmnistDataError } from '../errors';
import { gzip, tinyDataset } from '../test-fixtures';
import { loadFashionMnist } from './load';

type Fault = 'ok' | '500' | '404' | 'truncate' | 'wrong' | 'stall';

const raw = tinyDataset(30, 10);
const files = Object.fromEntries(FILE_KEYS.map((k) => [FASHION_MNIST_FILES[k].name, gzip(raw[k])])) as Record<string, Uint8Array>;
const checksums = Object.fromEntries(FILE_KEYS.map((k) => [k, createHash('sha256').update(raw[k]).digest('hex')])) as Record<
  FashionMnistFileKey,
  string
>;

/** A local server on 127.0.0.1 that serves the fixture files, following a per-file script of faults. */
class FaultyServer {
  server!: Server;
  plan = new Map<string, Fault[]>();
  requests = new Map<string, number>();
  stalled: ServerResponse[] = [];
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const [, mirror, name] = path.split('/') as [string, string, string];
    const key = `${mirror}/${name}`;
    const n = this.requests.get(key) ?? 0;
    this.requests.set(key, n + 1);
    const script = this.plan.get(key) ?? this.plan.get(`*/${name}`) ?? this.plan.get('*') ?? ['ok'];
    const fault = script[Math.min(n, script.length - 1)] as Fault;
    const body = files[name];
    if (!body || fault === '404') {
      res.writeHead(404).end('not found');
      return;
    }
    switch (fault) {
      case '500':
        res.writeHead(500).end('boom');
        return;
      case 'truncate':
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        res.socket?.destroy();
        return;
      case 'wrong': {
        const other = gzip(tinyDataset(30, 10).trainImages.map((v, i) => (i > 16 ? 255 - v : v)));
        res.writeHead(200, { 'content-length': other.length }).end(other);
        return;
      }
      case 'stall':
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 10));
        this.stalled.push(res);
        return;
      default:
        res.writeHead(200, { 'content-length': body.length }).end(body);
    }
  }

  count(mirror: string, key: FashionMnistFileKey): number {
    return this.requests.get(`${mirror}/${FASHION_MNIST_FILES[key].name}`) ?? 0;
  }

  reset(): void {
    this.plan.clear();
    this.requests.clear();
    for (const r of this.stalled) r.socket?.destroy();
    this.stalled = [];
  }

  async stop(): Promise<void> {
    this.reset();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const server = new FaultyServer();
let cacheDir: string;
const fast = { retryDelayMs: 5, timeoutMs: 2000, systemDir: false as const, checksums };

beforeAll(() => server.start());
afterAll(() => server.stop());
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'fmnist-cache-'));
});
afterEach(async () => {
  server.reset();
  await rm(cacheDir, { recursive: true, force: true });
});

async function cacheListing(): Promise<string[]> {
  return (await readdir(cacheDir)).sort();
}

const finalNames = FILE_KEYS.map((k) => FASHION_MNIST_FILES[k].name).sort();

async function codeOf(p: Promise<unknown>): Promise<FmnistDataError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FmnistDataError);
    return err as FmnistDataError;
  }
  throw new Error('expected a rejection');
}

describe('download into the cache', () => {
  it('downloads, verifies, caches atomically, then loads from the cache without the network', async () => {
    const progress: string[] = [];
    const first = await loadFashionMnist({ cacheDir, mirrors: [`${server.base}/m1/`], ...fast, onProgress: (p) => progress.push(p.file) });
    expect(first.source).toBe('download');
    expect(first.train.count).toBe(30);
    expect(first.test.count).toBe(10);
    expect(first.files.every((f) => f.verified && f.sha256 === checksums[f.key])).toBe(true);
    expect(progress).toContain('trainImages');
    expect(await cacheListing()).toEqual(finalNames);

    server.plan.set('*', ['500']);
    const second = await loadFashionMnist({ cacheDir, mirrors: [`${server.base}/m1/`], ...fast });
    expect(second.source).toBe('cache');
    expect(Array.from(second.train.labels)).toEqual(Array.from(first.train.labels));
    expect(server.count('m1', 'trainImages')).toBe(1);
  });

  it('retries after HTTP 500 and succeeds', async () => {
    server.plan.set('*/train-labels-idx1-ubyte.gz', ['500', '500', 'ok']);
    const r = await loadFashionMnist({ cacheDir, mirrors: [`${server.base}/m1/`], ...fast });
    expect(r.source).toBe('download');
    expect(server.count('m1', 'trainLabels')).toBe(3);
    expect(await cacheListing()).toEqual(finalNames);
  });

  it('retries a truncated body and never caches the partial file', async () => {
    server.plan.set('*/train-images-idx3-ubyte.gz', ['truncate', 'ok']);
    const r = await loadFashionMnist({ cacheDir, mirrors: [`${server.base}/m1/`], ...fast });
    expect(r.train.count).toBe(30);
    expect(server.count('m1', 'trainImages')).toBe(2);
    expect(await cacheListing()).toEqual(finalNames);
  });

  it('a wrong checksum every time → E_CHECKSUM and an untouched cache', async () => {
    server.plan.set('*/train-images-idx3-ubyte.gz', ['wrong']);
    const err = await codeOf(loadFashionMnist({ cacheDir, mirrors: [`${server.base}/m1/`], ...fast, retries: 1 }));
    expect(err.code).toBe('E_CHECKSUM');
    expect(err.message).toMatch(/SHA-256/);
    expect(await cacheListing()).toEqual([]);
  });

  it('FMNIST_MIRRORS with a URL that is not http(s) → E_DOWNLOAD naming the variable, before any request', async () => {
    const saved = process.env.FMNIST_MIRRORS;
    try {
      for (const bad of ['file:///etc/', 'javascript:alert(1)', 'mirror.example.org/fmnist/', 'ftp://example.org/']) {
        process.env.FMNIST_MIRRORS = `${server.base}/m1/ ${bad}`;
        const err = await codeOf(loadFashionMnist({ cacheDir, ...fast }));
        expect(err.code).toBe('E_DOWNLOAD');
        expect(err.message).toContain(`FMNIST_MIRRORS: ${JSON.stringify(bad)} is not an http:// or https:// URL`);
      }
      expect(await cacheListing()).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.FMNIST_MIRRORS;
      else process.env.FMNIST_MIRRORS = saved;
    }
  });

  it("'mirrors' / 'baseUrl' options that are not http(s) URLs → TypeError naming the option", async () => {
    await expect(loadFashionMnist({ cacheDir, ...fast, mirrors: ['file:///etc/'] })).rejects.toThrow(
      /'mirrors': "file:\/\/\/etc\/" is not an http:\/\/ or https:\/\/ URL/,
    );
    await expect(loadFashionMnist({ cacheDir, ...fast, baseUrl: 'data:,x', mirrors: [`${server.base}/m1/`] })).rejects.toThrow(
      /'baseUrl': "data:,x" is not an http/,
    );
  });

  it('a stalled connection times out and is retried', async () => {
    server.plan.set('*/t10k-images-idx3-ubyte.gz', ['stall', 'ok']);
    const r = await loadFashionMnist({ cacheDir, mirrors: [`${server.base}/m1/`], ...fast, timeoutMs: 300 });
    expect(r.test.count).toBe(10);
    expect(server.count('m1', 'testImages')).toBe(2);
  });

  it('a connection that always stalls → E_TIMEOUT listing every timed-out attempt, nothing cached', async () => {
    server.plan.set('*/t10k-labels-idx1-ubyte.gz', ['stall']);
    const err = await codeOf(loadFashionMnist({ cacheDir, mirrors: [`${server.base}/m1/`], ...fast, timeoutMs: 200, retries: 1 }));
    expect(err.code).toBe('E_TIMEOUT');
    expect(err.message).toMatch(/attempt 1\): \[E_TIMEOUT\] no data for 200 ms/);
    expect(err.message).toMatch(/attempt 2\): \[E_TIMEOUT\] no data for 200 ms/);
    expect(await cacheListing()).toEqual([]);
  });

  it('falls back to the next mirror when the first one has no file', async () => {
    server.plan.set('m1/train-labels-idx1-ubyte.gz', ['404']);
    const r = await loadFashionMnist({ cacheDir, mirrors: [`${server.base}/m1/`, `${server.base}/m2/`], ...fast });
    expect(r.train.count).toBe(30);
    expect(server.count('m1', 'trainLabels')).toBe(1);
    expect(server.count('m2', 'trainLabels')).toBe(1);
  });

  it('an abort mid-download → E_ABORTED and no file left behind', async () => {
    server.plan.set('*/train-images-idx3-ubyte.gz', ['stall']);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const err = await codeOf(loadFashionMnist({ cacheDir, mirrors: [`${server.base}/m1/`], ...fast, signal: controller.signal }));
    expect(err.code).toBe('E_ABORTED');
    expect(await cacheListing()).toEqual([]);
  });

  it('a download process killed with SIGKILL leaves nothing that later loads', async () => {
    server.plan.set('*/train-images-idx3-ubyte.gz', ['stall']);
    const entry = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/node.js');
    const script = `import('${entry}').then(m => m.loadFashionMnist(${JSON.stringify({ cacheDir, mirrors: [`${server.base}/m1/`], systemDir: false, checksums, timeoutMs: 60000 })}))`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    // Wait until the small files are fully downloaded and the big one is in flight.
    for (let i = 0; i < 100 && server.stalled.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(server.stalled.length).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const left = await cacheListing();
    expect(left.filter((f) => finalNames.includes(f))).toEqual([]);
    // Leftover temp parts are never mistaken for the dataset.
    const err = await codeOf(loadFashionMnist({ cacheDir, ...fast, download: false }));
    expect(err.code).toBe('E_NOT_FOUND');
  });
});

describe('source resolution', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fmnist-data-'));
    for (const k of FILE_KEYS) await writeFile(join(dataDir, FASHION_MNIST_FILES[k].name), gzip(raw[k]));
  });
  afterEach(async () => {
    delete process.env.FMNIST_DATA_DIR;
    await rm(dataDir, { recursive: true, force: true });
  });

  it("explicit 'dir' wins, then FMNIST_DATA_DIR", async () => {
    const r = await loadFashionMnist({ dir: dataDir, cacheDir, ...fast, download: false });
    expect(r.source).toBe('dir');
    expect(r.location).toBe(dataDir);
    process.env.FMNIST_DATA_DIR = dataDir;
    expect((await loadFashionMnist({ cacheDir, ...fast, download: false })).source).toBe('env');
  });

  it('reads raw (uncompressed) files too', async () => {
    const rawDir = join(dataDir, 'raw');
    await mkdir(rawDir);
    for (const k of FILE_KEYS) await writeFile(join(rawDir, FASHION_MNIST_FILES[k].name.replace(/\.gz$/, '')), raw[k]);
    const r = await loadFashionMnist({ dir: rawDir, verify: true, ...fast });
    expect(r.files.every((f) => f.verified)).toBe(true);
    expect(r.train.count).toBe(30);
  });

  it("a 'dir' without the files → E_NOT_FOUND naming the missing files", async () => {
    await rm(join(dataDir, FASHION_MNIST_FILES.testLabels.name));
    const err = await codeOf(loadFashionMnist({ dir: dataDir, ...fast }));
    expect(err.code).toBe('E_NOT_FOUND');
    expect(err.message).toContain('t10k-labels-idx1-ubyte.gz');
  });

  it('cache before the system copy; the system copy before a download', async () => {
    const r1 = await loadFashionMnist({ cacheDir, ...fast, systemDir: dataDir, mirrors: [`${server.base}/m1/`] });
    expect(r1.source).toBe('system');
    expect(server.requests.size).toBe(0);
    const r2 = await loadFashionMnist({ cacheDir: dataDir, ...fast, systemDir: '/nonexistent', download: false });
    expect(r2.source).toBe('cache');
  });

  it('nothing anywhere and download off → E_NOT_FOUND listing every place looked in', async () => {
    const err = await codeOf(loadFashionMnist({ cacheDir, ...fast, systemDir: '/nonexistent/fm', download: false }));
    expect(err.code).toBe('E_NOT_FOUND');
    expect(err.message).toContain(cacheDir);
    expect(err.message).toContain('/nonexistent/fm');
  });

  it('a corrupt cached file heals by downloading again; with download off it is reported', async () => {
    await writeFile(join(dataDir, FASHION_MNIST_FILES.trainLabels.name), new Uint8Array([1, 2, 3]));
    const err = await codeOf(loadFashionMnist({ cacheDir: dataDir, ...fast, download: false }));
    expect(err.code).toBe('E_NOT_GZIP');
    expect(err.file).toContain('train-labels');
    const healed = await loadFashionMnist({ cacheDir: dataDir, ...fast, mirrors: [`${server.base}/m1/`] });
    expect(healed.source).toBe('download');
    expect((await loadFashionMnist({ cacheDir: dataDir, ...fast, download: false })).source).toBe('cache');
  });

  it('a truncated or corrupted .gz on disk → E_TRUNCATED / E_GZIP naming the file', async () => {
    const gz = gzip(raw.trainImages);
    await writeFile(join(dataDir, FASHION_MNIST_FILES.trainImages.name), gz.subarray(0, gz.length - 100));
    const cut = await codeOf(loadFashionMnist({ dir: dataDir, ...fast }));
    expect(cut.code).toBe('E_TRUNCATED');
    expect(cut.file).toContain('train-images-idx3-ubyte.gz');
    const bad = gz.slice();
    for (let i = 20; i < 200; i++) bad[i] = (bad[i] as number) ^ 0x5a;
    await writeFile(join(dataDir, FASHION_MNIST_FILES.trainImages.name), bad);
    expect((await codeOf(loadFashionMnist({ dir: dataDir, ...fast }))).code).toBe('E_GZIP');
  });

  it('verify: true on a local copy with a wrong checksum → E_CHECKSUM', async () => {
    const err = await codeOf(
      loadFashionMnist({ dir: dataDir, verify: true, ...fast, checksums: { ...checksums, testImages: '0'.repeat(64) } }),
    );
    expect(err.code).toBe('E_CHECKSUM');
    expect(err.file).toContain('t10k-images');
  });
});
