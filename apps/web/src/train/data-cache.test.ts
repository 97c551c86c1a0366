// The data's Cache Storage: one download, then reads from the cache; a damaged stored copy is evicted and fetched
// again; a failed download stores nothing. The real test split's files (the loader checks shapes and checksums) are
// served from memory; the trainer uses the same code for the training split.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DATA_CACHE, type DataCaches, loadSplitCached } from './data-cache';

const DIR = '/usr/share/datasets/fashion-mnist';
const missing = !existsSync(`${DIR}/t10k-labels-idx1-ubyte.gz`);
if (missing) console.warn(`⚠ skipping the data cache tests: ${DIR} is missing (apt-get install dataset-fashion-mnist).`);
const IMAGES = 't10k-images-idx3-ubyte.gz';
const LABELS = 't10k-labels-idx1-ubyte.gz';
const FILES: Record<string, Uint8Array<ArrayBuffer>> = missing
  ? {}
  : Object.fromEntries([IMAGES, LABELS].map((n) => [n, new Uint8Array(readFileSync(`${DIR}/${n}`))]));

/** A Cache Storage and a server in memory, counting the server's requests. */
function world() {
  const stored = new Map<string, Uint8Array<ArrayBuffer>>();
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
    return new Response(FILES[name] as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(FILES[name]?.length) } });
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

describe.skipIf(missing)('loadSplitCached', () => {
  it('downloads once, then reads the cache', async () => {
    const w = world();
    const first = await loadSplitCached('test', { baseUrl: 'http://app/data/', fetch: w.fetch }, w.caches);
    expect([first.count, first.labels[0], first.labels[9999]]).toEqual([10000, 9, 5]);
    await settle();
    expect(w.requests).toBe(2);
    expect([...w.stored.keys()].sort()).toEqual(['http://app/data/t10k-images-idx3-ubyte.gz', 'http://app/data/t10k-labels-idx1-ubyte.gz']);
    const again = await loadSplitCached('test', { baseUrl: 'http://app/data/', fetch: w.fetch }, w.caches);
    expect(again.count).toBe(10000);
    expect(w.requests).toBe(2);
  });

  it('a damaged stored copy is evicted and downloaded again', async () => {
    const w = world();
    w.stored.set('http://app/data/t10k-images-idx3-ubyte.gz', (FILES[IMAGES] as Uint8Array<ArrayBuffer>).slice(0, 40));
    const set = await loadSplitCached('test', { baseUrl: 'http://app/data/', fetch: w.fetch }, w.caches);
    expect(set.count).toBe(10000);
    await settle();
    const again = w.stored.get('http://app/data/t10k-images-idx3-ubyte.gz') as Uint8Array;
    expect(Buffer.from(again).equals(Buffer.from(FILES[IMAGES] as Uint8Array))).toBe(true);
  });

  it('a failed download is reported with the URL and the fix, and nothing is stored for it', async () => {
    const w = world();
    w.failOnce();
    await expect(loadSplitCached('test', { baseUrl: 'http://app/data/', fetch: w.fetch }, w.caches)).rejects.toThrow(
      /http:\/\/app\/data\/t10k-.*\.gz: HTTP 404 .*The app serves the dataset from public\/data\/; run: pnpm --filter @fmnist\/web prepare-data/,
    );
    await settle();
    // the file that got the 404 is not stored (one of the two was asked for first)
    expect(w.stored.size).toBeLessThanOrEqual(1);
  });

  it('without Cache Storage (or when it cannot be opened) it just downloads', async () => {
    const w = world();
    const refused: DataCaches = { open: () => Promise.reject(new DOMException('denied', 'SecurityError')) };
    expect((await loadSplitCached('test', { baseUrl: 'http://app/data/', fetch: w.fetch }, refused)).count).toBe(10000);
    expect((await loadSplitCached('test', { baseUrl: 'http://app/data/', fetch: w.fetch }, undefined)).count).toBe(10000);
    expect(w.requests).toBe(4);
  });
});
