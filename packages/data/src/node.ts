/**
 * `@fmnist/data` for Node: everything of the browser entry, plus the file-system loader (local copies, Debian's system
 * copy, the cache and verified downloads). Selected automatically by the `node` export condition.
 *
 * @packageDocumentation
 */
import { decodeIdxStream, type IdxArray, type IdxDecodeOptions, oneChunk } from './idx';
import { nodeGunzip } from './node/gunzip';

export * from './core';
export { defaultCacheDir, findDatasetFiles, type LoadFashionMnistOptions, loadFashionMnist, SYSTEM_DATA_DIR } from './node/load';

/**
 * Parses an IDX file held in memory, gzip-compressed or raw (detected from the bytes, not the name).
 *
 * @param bytes - the whole file
 * @param options - `name` for error messages
 * @returns dims, element type and elements
 * @throws FmnistDataError `E_EMPTY`, `E_MAGIC`, `E_NOT_GZIP`, `E_GZIP`, `E_TYPE`, `E_DIMS`, `E_TRUNCATED`, `E_LENGTH`
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * const { dims } = await parseIdx(await readFile('t10k-images-idx3-ubyte.gz'));
 * // dims = [10000, 28, 28]
 * ```
 */
export function parseIdx(bytes: Uint8Array, options: IdxDecodeOptions = {}): Promise<IdxArray> {
  return decodeIdxStream(oneChunk(bytes), nodeGunzip, options);
}
