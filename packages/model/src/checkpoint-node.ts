import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { CHECKPOINT_FILE_NAME, type Checkpoint, parseMeta, type StoredCheckpointMeta } from './checkpoint';
import { assembleCheckpoint, CHECKPOINT_FILES, type CheckpointStore, checkpointFiles } from './checkpoint-store';
import { FmnistModelError } from './errors';

export { CHECKPOINT_FILES } from './checkpoint-store';

/** Names of the temporary files {@link writeFileAtomic} writes (`.<name>.<pid>.<8 hex>.tmp`). */
export const ATOMIC_TEMP_FILE = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory (`.<name>.<pid>.<random>.tmp`), fsync,
 * rename over the target, then fsync the directory. A crash at any moment leaves the old file or the new one, never a
 * mix or an empty file; the temporary file is removed on failure (after a `kill -9`, {@link removeStaleTempFiles}).
 *
 * @param path - the file to write
 * @param bytes - its new contents
 * @returns when the file is durable
 *
 * @example
 * ```ts
 * await writeFileAtomic('runs/a/config.json', JSON.stringify(config));
 * ```
 */
/**
 * Fault injection for the kill -9 tests: with `FMNIST_TEST_KILL_AT_WRITE=<prefix>` in the environment, the process
 * kills itself with SIGKILL as soon as it has written a temporary file whose name starts with the prefix (e.g.
 * `.report.html.`), before the rename — the moment a real `kill -9` is hardest on. A file-system watcher in the test
 * cannot hit that moment reliably: the process may finish before the signal lands.
 */
function killIfAsked(temp: string): void {
  const prefix = typeof process !== 'undefined' ? process.env.FMNIST_TEST_KILL_AT_WRITE : undefined;
  if (prefix && basename(temp).startsWith(prefix)) process.kill(process.pid, 'SIGKILL');
}

export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      killIfAsked(temp);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  // Make the rename itself durable (best effort: not every file system lets a directory be opened).
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {}
}

/**
 * Removes the temporary files of writes that were killed midway (`kill -9`, power loss) from `dir`. Call it only while
 * no other process writes there (the run directory's lock).
 *
 * @param dir - a directory written with {@link writeFileAtomic}
 * @returns the names removed
 *
 * @example
 * ```ts
 * await removeStaleTempFiles('runs/a/checkpoint'); // ['.model.step470.safetensors.4242.0a1b2c3d.tmp']
 * ```
 */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => ATOMIC_TEMP_FILE.test(n));
  for (const n of stale) await rm(join(dir, n), { force: true });
  return stale;
}

/** Largest `checkpoint.json` read (a real one is a few KiB). */
const MAX_META_BYTES = 64 * 1024 * 1024;
/** Largest tensor file read (mixer-l's weights are 4.4 MB). */
const MAX_TENSOR_FILE_BYTES = 2 * 1024 * 1024 * 1024 - 1;

/**
 * Reads a regular file without ever blocking on a FIFO or a device: opened non-blocking, checked with `fstat`.
 *
 * @throws FmnistModelError `E_CHECKPOINT_MISSING` (absent), `E_CHECKPOINT_CORRUPT` (not a regular file, too large)
 */
async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FmnistModelError(
      'E_CHECKPOINT_MISSING',
      `${path}: ${code === 'ENOENT' ? 'missing' : `cannot be read (${code})`}. The checkpoint is incomplete; use another one or train again.`,
      { cause: err },
    );
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new FmnistModelError(
        'E_CHECKPOINT_CORRUPT',
        `${path}: not a regular file (a FIFO, device or socket). A checkpoint is made of regular files; pass a run's checkpoint directory.`,
      );
    }
    if (info.size > maxBytes) {
      throw new FmnistModelError(
        'E_CHECKPOINT_CORRUPT',
        `${path}: ${info.size} bytes, more than the ${maxBytes} a checkpoint file may have.`,
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Resolves a file named by `checkpoint.json` and refuses it unless it stays inside the checkpoint directory (symlinks resolved). */
async function confined(dir: string, name: string, field: string, metaPath: string): Promise<string> {
  const outside = (why: string) =>
    new FmnistModelError(
      'E_CHECKPOINT_CORRUPT',
      `${metaPath}: field '${field}' names ${JSON.stringify(name)}, which ${why}. A checkpoint only refers to files in its own directory.`,
    );
  if (!CHECKPOINT_FILE_NAME.test(name)) throw outside('is not a plain file name');
  const path = join(dir, name);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return path; // missing: reported by the read
  }
  const root = await realpath(dir);
  if (dirname(real) !== root && !real.startsWith(root + sep)) throw outside(`resolves to ${real}, outside ${root}`);
  return path;
}

/**
 * Reads and checks a checkpoint's `checkpoint.json` only (no tensors): the schema, and that the files it names stay in
 * its directory.
 *
 * @param path - the checkpoint directory, or its `checkpoint.json`
 * @returns the stored meta (with `resumeAt` for a mid-epoch checkpoint)
 * @throws FmnistModelError `E_CHECKPOINT_MISSING`, `E_CHECKPOINT_CORRUPT` (naming the field and the value)
 *
 * @example
 * ```ts
 * const meta = await readCheckpointMeta('runs/a/checkpoint');
 * meta.epoch; // 3
 * ```
 */
export async function readCheckpointMeta(path: string): Promise<StoredCheckpointMeta> {
  const metaPath = await metaPathOf(path);
  const meta = parseMeta((await readRegularFile(metaPath, MAX_META_BYTES)).toString('utf8'), metaPath);
  const dir = dirname(metaPath);
  if (meta.files?.weights) await confined(dir, meta.files.weights, 'files.weights', metaPath);
  if (meta.files?.optimizer) await confined(dir, meta.files.optimizer, 'files.optimizer', metaPath);
  return meta;
}

async function metaPathOf(path: string): Promise<string> {
  try {
    return (await stat(path)).isDirectory() ? join(path, CHECKPOINT_FILES.meta) : path;
  } catch {
    throw new FmnistModelError(
      'E_CHECKPOINT_MISSING',
      `${path}: no such checkpoint. Pass a run's checkpoint directory (e.g. runs/NAME/checkpoint) or its checkpoint.json.`,
    );
  }
}

/**
 * Saves a checkpoint into directory `dir`: `model.safetensors` (weights), `optimizer.safetensors` (Adam moments) and
 * `checkpoint.json` (config, epoch, RNG state, hyperparameters, history). Each file is written atomically, and the
 * tensors go into files named after the step that `checkpoint.json` (written last) points to — so a crash at any moment
 * leaves the previous checkpoint or the new one, never a mix.
 *
 * @param dir - checkpoint directory (created if needed)
 * @param checkpoint - meta, params and optionally optimizer state
 * @returns the path of `checkpoint.json`
 *
 * @example
 * ```ts
 * await saveCheckpoint('runs/a/checkpoint', { meta, params: model.params });
 * ```
 */
export async function saveCheckpoint(dir: string, checkpoint: Checkpoint): Promise<string> {
  await mkdir(dir, { recursive: true });
  const files = checkpointFiles(checkpoint);
  for (const [name, bytes] of files) await writeFileAtomic(join(dir, name), bytes);
  // Older step files are no longer referenced.
  const current = new Set(files.map(([name]) => name));
  for (const f of await readdir(dir)) {
    if (/^(model|optimizer)\.step\d+\.safetensors$/.test(f) && !current.has(f)) await rm(join(dir, f), { force: true });
  }
  return join(dir, CHECKPOINT_FILES.meta);
}

/**
 * Loads a checkpoint from its directory or its `checkpoint.json`, checking every tensor against the config.
 *
 * @param path - the checkpoint directory, or its `checkpoint.json`
 * @returns meta, params and (when saved) optimizer state
 * @throws FmnistModelError `E_CHECKPOINT_MISSING`, `E_CHECKPOINT_CORRUPT`, `E_CHECKPOINT_MISMATCH`
 *
 * @example
 * ```ts
 * const { meta, params } = await loadCheckpoint('runs/a/checkpoint');
 * meta.history.at(-1)?.testAccuracy; // 0.87
 * ```
 */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const metaPath = await metaPathOf(path);
  const dir = dirname(metaPath);
  const meta = await readCheckpointMeta(metaPath);
  return assembleCheckpoint(
    meta,
    metaPath,
    async (name, field) => readRegularFile(await confined(dir, name, field, metaPath), MAX_TENSOR_FILE_BYTES),
    (name) => join(dir, name),
  );
}

/**
 * The {@link CheckpointStore} of a checkpoint directory: {@link saveCheckpoint} and {@link loadCheckpoint} on `dir`
 * (what `train()`'s `checkpointDir` means).
 *
 * @param dir - the checkpoint directory (created on the first save)
 * @returns the store; `load()` gives `undefined` while `dir` holds no `checkpoint.json`
 *
 * @example
 * ```ts
 * await train({ model, data, epochs: 3, checkpointStore: directoryCheckpointStore('runs/a/checkpoint') });
 * ```
 */
export function directoryCheckpointStore(dir: string): CheckpointStore {
  return {
    location: dir,
    async load() {
      try {
        await stat(join(dir, CHECKPOINT_FILES.meta));
      } catch (err) {
        // Only an absent checkpoint is "none"; anything else (a symlink loop, EACCES …) is loadCheckpoint's to report.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      }
      return loadCheckpoint(dir);
    },
    save: (checkpoint) => saveCheckpoint(dir, checkpoint),
  };
}
