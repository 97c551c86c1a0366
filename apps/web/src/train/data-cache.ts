/**
 * The training set for the trainer worker: fetched once (26 MB of gzip) and kept in the browser's Cache Storage
 * (`fmnist-data-v1`), so the next run — or the next visit — starts without downloading it again, whatever caching
 * headers the static host sends. A stored copy that no longer parses (a damaged cache) is evicted and fetched again
 * once; the network's own failures are reported as they are.
 */
import type { FashionMnistSplit } from '@fmnist/data';
import { type LoadTestSetOptions, loadSplit, type SplitName } from '../test-set';

/** The Cache Storage bucket of the data files. */
export const DATA_CACHE = 'fmnist-data-v1';

/** The part of `CacheStorage` used here (tests substitute one). */
export interface DataCaches {
  open(name: string): Promise<Pick<Cache, 'match' | 'put' | 'delete'>>;
}

/**
 * Loads a split through the cache: stored files are read from it, others are fetched and stored (a response is stored
 * only once its whole body has arrived, so an interrupted download leaves nothing behind).
 *
 * @param split - `train` or `test`
 * @param options - as {@link loadSplit}
 * @param caches - the Cache Storage @defaultValue `globalThis.caches` (without it: plain fetches)
 * @returns the split
 */
export async function loadSplitCached(
  split: SplitName,
  options: LoadTestSetOptions = {},
  caches: DataCaches | undefined = (globalThis as { caches?: DataCaches }).caches,
): Promise<FashionMnistSplit> {
  const cache = await caches?.open(DATA_CACHE).catch(() => undefined);
  if (!cache) return loadSplit(split, options);
  const fetchOne = options.fetch ?? globalThis.fetch;
  const fromCache: string[] = [];
  const through =
    (refresh: boolean): typeof fetch =>
    async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (!refresh) {
        const hit = await cache.match(url).catch(() => undefined);
        if (hit) {
          fromCache.push(url);
          return hit;
        }
      }
      const response = await fetchOne(input, init);
      if (response.ok) void cache.put(url, response.clone()).catch(() => undefined);
      return response;
    };
  try {
    return await loadSplit(split, { ...options, fetch: through(false) });
  } catch (err) {
    if (fromCache.length === 0) throw err;
    // A damaged stored copy: forget it and download again.
    await Promise.all(fromCache.map((url) => cache.delete(url).catch(() => false)));
    return loadSplit(split, { ...options, fetch: through(true) });
  }
}
