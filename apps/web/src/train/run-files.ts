/**
 * What a finished run in the page becomes: its name (`PRESET-YYYYMMDD-HHMMSS`, as `fmnist train` names run
 * directories), its ONNX model (exported by `@fmnist/onnx` from the run's own checkpoint files, so it records the
 * training record, history, dataset and time exactly as `fmnist export <run>` does — the same bytes), and the checkpoint
 * as one zip laid out as a run directory (`NAME/checkpoint/checkpoint.json`, `model.safetensors`, …) that
 * `fmnist eval`, `fmnist export` and `fmnist train --resume` read once unzipped. DOM-free.
 */
import { CHECKPOINT_FILE_NAME, CHECKPOINT_FILES } from '@fmnist/model/core';
import { exportOnnx, type OnnxQuantization } from '@fmnist/onnx';
import { zipSync } from 'fflate';
import type { FinishedRun } from './session-types';

/** The checkpoint's folder inside a run directory (`RUN_FILES.checkpoint` of the CLI). */
export const CHECKPOINT_DIR = 'checkpoint';

/** The checkpoint's record. */
export const CHECKPOINT_JSON = CHECKPOINT_FILES.meta;

/** The weights file of a checkpoint whose `checkpoint.json` names none. */
export const DEFAULT_WEIGHTS_FILE = CHECKPOINT_FILES.weights;

/** A plain file name inside a checkpoint directory: the pattern `@fmnist/model` checks `checkpoint.json`'s names with. */
export { CHECKPOINT_FILE_NAME };

/** Why a finished run cannot be turned into files. */
export class RunFilesError extends Error {
  override name = 'RunFilesError';
  /** `E_RUN_FILES`. */
  readonly code = 'E_RUN_FILES';
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The run's name, as `fmnist train` names a new run directory: `PRESET-YYYYMMDD-HHMMSS` in local time.
 *
 * @param run - the run (its preset)
 * @param when - when it finished @defaultValue now
 * @returns e.g. `patch-mlp-20261202-033000`
 *
 * @example
 * ```ts
 * runName(run, new Date(2026, 11, 2, 3, 30, 0)); // 'patch-mlp-20261202-033000'
 * ```
 */
export function runName(run: Pick<FinishedRun, 'preset'>, when: Date = new Date()): string {
  const stamp = `${when.getFullYear()}${pad(when.getMonth() + 1)}${pad(when.getDate())}-${pad(when.getHours())}${pad(when.getMinutes())}${pad(when.getSeconds())}`;
  return `${run.preset}-${stamp}`;
}

/** Checks every checkpoint file name (no folders, no `..`): the zip and the export only take plain names. */
function checkedFiles(run: Pick<FinishedRun, 'checkpointFiles'>): Record<string, Uint8Array> {
  const files = run.checkpointFiles;
  if (typeof files !== 'object' || files === null) throw new RunFilesError('The finished run has no checkpoint files.');
  for (const [name, bytes] of Object.entries(files)) {
    if (!CHECKPOINT_FILE_NAME.test(name)) {
      throw new RunFilesError(
        `The run's checkpoint file name ${JSON.stringify(name)} is not a plain file name; a checkpoint only holds files in its own folder.`,
      );
    }
    if (!(bytes instanceof Uint8Array)) throw new RunFilesError(`The run's checkpoint file '${name}' holds no bytes.`);
  }
  if (!files[CHECKPOINT_JSON]) throw new RunFilesError(`The run's checkpoint has no ${CHECKPOINT_JSON}.`);
  return files;
}

/**
 * The checkpoint's two files `exportOnnx` reads: `checkpoint.json` and the weights file it names.
 *
 * @param run - the finished run
 * @returns `{ checkpointJson, weights }`
 * @throws RunFilesError when a file is missing or a name is not a plain file name
 *
 * @example
 * ```ts
 * exportOnnx(checkpointSource(run));
 * ```
 */
export function checkpointSource(run: Pick<FinishedRun, 'checkpointFiles'>): { checkpointJson: Uint8Array; weights: Uint8Array } {
  const files = checkedFiles(run);
  const checkpointJson = files[CHECKPOINT_JSON] as Uint8Array;
  let named: unknown;
  try {
    named = (JSON.parse(new TextDecoder().decode(checkpointJson)) as { files?: { weights?: unknown } }).files?.weights;
  } catch (err) {
    throw new RunFilesError(`The run's ${CHECKPOINT_JSON} is not JSON (${(err as Error).message}).`);
  }
  const weightsFile = named === undefined ? DEFAULT_WEIGHTS_FILE : named;
  if (typeof weightsFile !== 'string' || !CHECKPOINT_FILE_NAME.test(weightsFile)) {
    throw new RunFilesError(
      `The run's ${CHECKPOINT_JSON} names the weights file ${JSON.stringify(weightsFile)}, which is not a plain file name.`,
    );
  }
  const weights = files[weightsFile];
  if (!weights) throw new RunFilesError(`The run's checkpoint lacks ${weightsFile}, the weights file ${CHECKPOINT_JSON} names.`);
  return { checkpointJson, weights };
}

/**
 * The run's model as an `.onnx` file, exported in the page by `@fmnist/onnx` from its checkpoint: the metadata records
 * the run's training record, its epochs' metrics, the dataset checksums and when it was trained, as the CLI's export does.
 *
 * @param run - the finished run
 * @param quantize - `none` (float32, `model.onnx`) or `int8` (`model.int8.onnx`) @defaultValue `'none'`
 * @returns the file's bytes
 * @throws RunFilesError for missing checkpoint files; FmnistOnnxError (`E_NON_FINITE`, `E_CHECKPOINT`, …) from the export
 *
 * @example
 * ```ts
 * await app.loadModel(exportRunOnnx(run), `${runName(run)}.onnx`);
 * ```
 */
export function exportRunOnnx(
  run: Pick<FinishedRun, 'checkpointFiles'>,
  quantize: Extract<OnnxQuantization, 'none' | 'int8'> = 'none',
): Uint8Array {
  return exportOnnx(checkpointSource(run), { quantize });
}

/**
 * The paths of the checkpoint zip: the run directory `name/` holding `checkpoint/<file>` for each checkpoint file.
 *
 * @param run - the finished run
 * @param name - the run directory's name (see {@link runName})
 * @returns the paths, sorted
 *
 * @example
 * ```ts
 * checkpointZipPaths(run, 'patch-mlp-20261202-033000');
 * // ['patch-mlp-20261202-033000/checkpoint/checkpoint.json', 'patch-mlp-20261202-033000/checkpoint/model.safetensors', …]
 * ```
 */
export function checkpointZipPaths(run: Pick<FinishedRun, 'checkpointFiles'>, name: string): string[] {
  return Object.keys(checkedFiles(run))
    .sort()
    .map((file) => `${checkedRunName(name)}/${CHECKPOINT_DIR}/${file}`);
}

function checkedRunName(name: string): string {
  if (!CHECKPOINT_FILE_NAME.test(name)) throw new RunFilesError(`${JSON.stringify(name)} is not a plain folder name for the run.`);
  return name;
}

/**
 * The checkpoint as one zip: `name/checkpoint/…`, so that unzipping it gives a run directory the CLI reads (a run
 * without `config.json`: `fmnist train --resume` rebuilds it from the checkpoint's own record). Deflated, with a fixed
 * date, so the same run gives the same bytes.
 *
 * @param run - the finished run
 * @param name - the run directory's name
 * @returns the zip's bytes
 * @throws RunFilesError for a bad file or folder name or a missing `checkpoint.json`
 *
 * @example
 * ```ts
 * download(new Blob([checkpointZip(run, name)]), `${name}.zip`);
 * ```
 */
export function checkpointZip(run: Pick<FinishedRun, 'checkpointFiles'>, name: string): Uint8Array {
  const files = checkedFiles(run);
  const folder = checkedRunName(name);
  const mtime = new Date(2000, 0, 1);
  const entries: Record<string, [Uint8Array, { level: 0 | 6; mtime: Date }]> = {};
  for (const file of Object.keys(files).sort()) {
    // The tensors barely compress: store them; deflate the JSON.
    entries[`${folder}/${CHECKPOINT_DIR}/${file}`] = [files[file] as Uint8Array, { level: file.endsWith('.json') ? 6 : 0, mtime }];
  }
  return zipSync(entries);
}
