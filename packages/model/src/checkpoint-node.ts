import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  type Checkpoint,
  type CheckpointMeta,
  decodeOptimizer,
  decodeWeights,
  encodeOptimizer,
  encodeWeights,
  parseMeta,
} from './checkpoint';
import { FmnistModelError } from './errors';

/** File names inside a checkpoint directory. */
export const CHECKPOINT_FILES = { meta: 'checkpoint.json', weights: 'model.safetensors', optimizer: 'optimizer.safetensors' } as const;

/** Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, then rename over the target. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
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
  const { meta, params, optimizer } = checkpoint;
  const tag = `step${meta.step}`;
  const weightsFile = `model.${tag}.safetensors`;
  const optimizerFile = `optimizer.${tag}.safetensors`;
  await writeFileAtomic(join(dir, weightsFile), encodeWeights(meta.config, params, meta.preset));
  if (optimizer) await writeFileAtomic(join(dir, optimizerFile), encodeOptimizer(meta.config, optimizer));
  const stored = { ...meta, files: { weights: weightsFile, ...(optimizer ? { optimizer: optimizerFile } : {}) } };
  await writeFileAtomic(join(dir, CHECKPOINT_FILES.meta), `${JSON.stringify(stored, null, 2)}\n`);
  // A stable name for tools (a copy, so the referenced file can never be half-replaced).
  await writeFileAtomic(join(dir, CHECKPOINT_FILES.weights), encodeWeights(meta.config, params, meta.preset));
  // Older step files are no longer referenced.
  for (const f of await readdir(dir)) {
    if (/^(model|optimizer)\.step\d+\.safetensors$/.test(f) && f !== weightsFile && f !== optimizerFile)
      await rm(join(dir, f), { force: true });
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
  let metaPath = path;
  try {
    if ((await stat(path)).isDirectory()) metaPath = join(path, CHECKPOINT_FILES.meta);
  } catch {
    throw new FmnistModelError(
      'E_CHECKPOINT_MISSING',
      `${path}: no such checkpoint. Pass a run's checkpoint directory (e.g. runs/NAME/checkpoint) or its checkpoint.json.`,
    );
  }
  const dir = dirname(metaPath);
  const read = async (file: string) => {
    try {
      return await readFile(file);
    } catch {
      throw new FmnistModelError('E_CHECKPOINT_MISSING', `${file}: missing. The checkpoint is incomplete; use another one or train again.`);
    }
  };
  const meta = parseMeta((await read(metaPath)).toString('utf8'), metaPath) as CheckpointMeta & {
    files?: { weights?: string; optimizer?: string };
  };
  const weightsPath = join(dir, meta.files?.weights ?? CHECKPOINT_FILES.weights);
  const params = decodeWeights(meta.config, await read(weightsPath), weightsPath);
  const optimizerPath = meta.files?.optimizer ? join(dir, meta.files.optimizer) : undefined;
  const optimizer = optimizerPath ? decodeOptimizer(meta.config, await read(optimizerPath), optimizerPath) : undefined;
  const { files: _files, ...clean } = meta;
  return { meta: clean, params, optimizer };
}
