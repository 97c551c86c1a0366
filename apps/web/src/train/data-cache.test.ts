// The training set's Cache Storage: one download, then reads from the cache; a damaged stored copy is evicted and
// fetched again; a failed download stores nothing. Small generated IDX files stand in for the real ones.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DATA_CACHE, type DataCaches, loadSplitCached } from './data-cache';

function idx(magic: number, dims: number[], body: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d);
  });
  return gzipSync(Buffer.concat([header, body]));
}
const N = 3;
const FILES: Record<string, Uint8Array> = {
  'train-images-idx3-ubyte.gz': idx(0x803, [N, 28, 28], new Uint8Array(N * 784).fill(9)),
  'train-labels-idx1-ubyte.gz': idx(0x801, [N], new Uint8Array([1, 2, 3])),
};

/** A Cache Storage and a server in memory, counting the server's requests. */
function world() {
  const stored = new Map<string, Uint8Array>();
  let requests = 0;
  let failNext = false;
  const caches: DataCaches = {
    async open(name) {
      expect(name).toBe(DATA_CACHE);
      return {
        async match(url: RequestInfo | URL) {
          const bytes = stored.get(String(url));
          return bytes ? new Response(bytes) : undefined;
        },
        async put(url: RequestInfo | URL, response: Response) {
          stored.set(String(url), new Uint8Array(await response.arrayBuffer()));
        },
        async delete(url: RequestInfo | URL) {
          return stored.delete(String(url));
        },
      } as never;
    },
  };
  const fetch = (async (input: RequestInfo | URL) => {
    requests++;
    const name = String(input).split('/').at(-1) as string;
    if (failNext) {
      failNext = false;
      return new Response('gone', { status: 404 });
    }
    return new Response(FILES[name] as Uint8Array, { headers: { 'content-length': String(FILES[name]?.length) } });
  }) as typeof globalThis.fetch;
  return {
    stored,
    caches,
    fetch,
    get requests() {
      return requests;
    },
    failOnce() {
      failNext = true;
    },
  };
}
const settle = () => new Promise((r) => setTimeout(r, 10));

describe('loadSplitCached', () => {
  it('downloads once, then reads the cache', async () => {
    const w = world();
    const first = await loadSplitCached('train', { baseUrl: 'http://app/data/', fetch: w.fetch }, w.caches);
    expect([first.count, ...first.labels]).toEqual([3, 1, 2, 3]);
    await settle();
    expect(w.requests).toBe(2);
    expect([...w.stored.keys()].sort()).toEqual([
      'http://app/data/train-images-idx3-ubyte.gz',
      'http://app/data/train-labels-idx1-ubyte.gz',
    ]);
    const again = await loadSplitCached('train', { baseUrl: 'http://app/data/', fetch: w.fetch }, w.caches);
    expect(again.count).toBe(3);
    expect(w.requests).toBe(2);
  });

  it('a damaged stored copy is evicted and downloaded again', async () => {
    const w = world();
    w.stored.set('http://app/data/train-images-idx3-ubyte.gz', (FILES['train-images-idx3-ubyte.gz'] as Uint8Array).subarray(0, 40));
    const set = await loadSplitCached('train', { baseUrl: 'http://app/data/', fetch: w.fetch }, w.caches);
    expect(set.count).toBe(3);
    await settle();
    expect(w.stored.get('http://app/data/train-images-idx3-ubyte.gz')).toEqual(
      new Uint8Array(FILES['train-images-idx3-ubyte.gz'] as Uint8Array),
    );
  });

  it('a failed download is reported with the URL and the fix, and nothing is stored for it', async () => {
    const w = world();
    w.failOnce();
    await expect(loadSplitCached('train', { baseUrl: 'http://app/data/', fetch: w.fetch }, w.caches)).rejects.toThrow(
      /http:\/\/app\/data\/train-.*\.gz: HTTP 404\. The app serves the dataset from public\/data\/; run: pnpm --filter @fmnist\/web prepare-data/,
    );
    await settle();
    // the images were asked for first and got the 404
    expect(w.stored.has('http://app/data/train-images-idx3-ubyte.gz')).toBe(false);
  });

  it('without Cache Storage (or when it cannot be opened) it just downloads', async () => {
    const w = world();
    const refused: DataCaches = { open: () => Promise.reject(new DOMException('denied', 'SecurityError')) };
    expect((await loadSplitCached('train', { baseUrl: 'http://app/data/', fetch: w.fetch }, refused)).count).toBe(3);
    expect((await loadSplitCached('train', { baseUrl: 'http://app/data/', fetch: w.fetch }, undefined)).count).toBe(3);
    expect(w.requests).toBe(4);
  });
});
