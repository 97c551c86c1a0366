/**
 * `@fmnist/data`: the Fashion-MNIST dataset for JavaScript — IDX parsing (gzip or raw), loading in Node (local copies,
 * cache, verified downloads) and in the browser (URLs, buffers), plus seeded shuffling, batching, normalisation and
 * patchify for training.
 *
 * This is the browser-safe entry (no Node built-ins). Node gets the `node` entry through the `node` export condition:
 * same API, plus the file-system loader.
 *
 * @packageDocumentation
 */
import { decodeIdxStream, type IdxArray, type IdxDecodeOptions, oneChunk } from './idx';
import { webGunzip } from './web/gunzip';

export * from './core';
export { type LoadFromSourcesOptions as LoadFashionMnistOptions, loadFromSources as loadFashionMnist } from './web/load';

/**
 * Parses an IDX file held in memory, gzip-compressed or raw (detected from the bytes, not the name), with the
 * platform's `DecompressionStream`.
 *
 * @param bytes - the whole file
 * @param options - `name` for error messages
 * @returns dims, element type and elements
 * @throws FmnistDataError `E_EMPTY`, `E_MAGIC`, `E_NOT_GZIP`, `E_GZIP`, `E_TYPE`, `E_DIMS`, `E_TRUNCATED`, `E_LENGTH`
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(await (await fetch('/data/t10k-labels-idx1-ubyte.gz')).arrayBuffer());
 * const { dims, data } = await parseIdx(bytes, { name: 't10k-labels-idx1-ubyte.gz' });
 * // dims = [10000], data = Uint8Array [9, 2, 1, 1, 6, …]
 * ```
 */
export function parseIdx(bytes: Uint8Array, options: IdxDecodeOptions = {}): Promise<IdxArray> {
  return decodeIdxStream(oneChunk(bytes), webGunzip, options);
}
