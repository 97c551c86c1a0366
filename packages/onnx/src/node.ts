/**
 * `@fmnist/onnx` for Node: everything of the browser entry, plus {@link exportOnnxFile} to turn a checkpoint directory
 * into an `.onnx` file.
 *
 * @packageDocumentation
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type ExportOnnxOptions, exportOnnx } from './export';
import { type OnnxMetadata, readOnnxMetadata } from './metadata';

export * from './index';

/** Result of {@link exportOnnxFile}. */
export interface ExportOnnxFileResult {
  /** The file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** The metadata written into it. */
  metadata: OnnxMetadata;
}

/**
 * Exports a saved checkpoint to an `.onnx` file (written atomically: a crash never leaves half a file).
 *
 * @param checkpoint - a checkpoint directory (e.g. `runs/demo/checkpoint`) or its `checkpoint.json`
 * @param outPath - the `.onnx` file to write (its directory is created)
 * @param options - see {@link ExportOnnxOptions}
 * @returns the path, size and metadata of the file
 * @throws FmnistModelError `E_CHECKPOINT_MISSING` / `E_CHECKPOINT_CORRUPT` / `E_CHECKPOINT_MISMATCH` from loading,
 *   FmnistOnnxError from exporting
 *
 * @example
 * ```ts
 * const { bytes } = await exportOnnxFile('runs/demo/checkpoint', 'runs/demo/model.int8.onnx', { quantize: 'int8' });
 * console.log(bytes); // 61246
 * ```
 */
export async function exportOnnxFile(checkpoint: string, outPath: string, options: ExportOnnxOptions = {}): Promise<ExportOnnxFileResult> {
  if (typeof outPath !== 'string' || outPath === '') throw new TypeError(`'outPath' must be a file path, got ${JSON.stringify(outPath)}.`);
  const { loadCheckpoint, writeFileAtomic } = await import('@fmnist/model');
  const bytes = exportOnnx(await loadCheckpoint(checkpoint), options);
  await mkdir(dirname(outPath), { recursive: true });
  await writeFileAtomic(outPath, bytes);
  return { path: outPath, bytes: bytes.length, metadata: readOnnxMetadata(bytes) };
}
