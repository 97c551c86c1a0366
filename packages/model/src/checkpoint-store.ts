/**
 * Where a training run keeps its checkpoints, behind one interface ({@link CheckpointStore}): a directory in Node
 * (`directoryCheckpointStore` of `@fmnist/model`), IndexedDB or OPFS in a browser, memory in tests. Every store holds
 * the same files — those of a Node checkpoint directory ({@link checkpointFiles}) — so a checkpoint made in a page
 * and downloaded is read by `fmnist eval`, `fmnist export` and `fmnist train --resume` as it is. Browser-safe.
 */
import {
  type Checkpoint,
  checkFinite,
  decodeOptimizer,
  decodeWeights,
  encodeOptimizer,
  encodeWeights,
  parseMeta,
  type StoredCheckpointMeta,
} from './checkpoint';
import { OPTIMIZER_SLOTS, type ParamSet } from './engine';
import { FmnistModelError } from './errors';
import { recordedOptimizerKind } from './optimizer';

/** File names inside a checkpoint directory. */
export const CHECKPOINT_FILES = { meta: 'checkpoint.json', weights: 'model.safetensors', optimizer: 'optimizer.safetensors' } as const;

/**
 * Where `train()` writes its checkpoints and reads the one to `resume`.
 *
 * @example
 * ```ts
 * const store = memoryCheckpointStore();
 * await train({ model, data, epochs: 2, checkpointStore: store });
 * const again = await train({ model, data, epochs: 3, checkpointStore: store, resume: true });
 * ```
 */
export interface CheckpointStore {
  /** Where the checkpoints are, for messages: a directory, `IndexedDB fmnist/run-1`. */
  readonly location: string;
  /**
   * The checkpoint saved last, checked like `loadCheckpoint` checks a directory, or `undefined` when the store holds
   * none.
   * @throws FmnistModelError `E_CHECKPOINT_CORRUPT`, `E_CHECKPOINT_MISMATCH`, `E_NON_FINITE` for a damaged one
   */
  load(): Promise<Checkpoint | undefined>;
  /**
   * Saves a checkpoint in place of the previous one, atomically: after a crash at any moment the store holds the old
   * checkpoint or the new one.
   * @returns where it went (passed to `onCheckpoint`)
   */
  save(checkpoint: Checkpoint): Promise<string>;
}

/**
 * The files of a checkpoint, as a Node checkpoint directory holds them and in the order they must be written for a
 * crash to leave the old checkpoint or the new one: the step's tensor files, then `checkpoint.json` naming them, then
 * the stable `model.safetensors` copy for tools.
 *
 * @param checkpoint - meta, params and optionally optimizer state
 * @returns `[name, bytes]` pairs
 *
 * @example
 * ```ts
 * checkpointFiles(checkpoint).map(([name]) => name);
 * // ['model.step235.safetensors', 'optimizer.step235.safetensors', 'checkpoint.json', 'model.safetensors']
 * ```
 */
export function checkpointFiles(checkpoint: Checkpoint): [name: string, bytes: Uint8Array][] {
  const { meta, params, optimizer } = checkpoint;
  const tag = `step${meta.step}`;
  const weightsFile = `model.${tag}.safetensors`;
  const optimizerFile = `optimizer.${tag}.safetensors`;
  const weights = encodeWeights(meta.config, params, meta.preset);
  const files: [string, Uint8Array][] = [[weightsFile, weights]];
  if (optimizer) files.push([optimizerFile, encodeOptimizer(meta.config, optimizer)]);
  const stored: StoredCheckpointMeta = { ...meta, files: { weights: weightsFile, ...(optimizer ? { optimizer: optimizerFile } : {}) } };
  files.push([CHECKPOINT_FILES.meta, new TextEncoder().encode(`${JSON.stringify(stored, null, 2)}\n`)]);
  // A copy under a stable name, so the file checkpoint.json names can never be half-replaced.
  files.push([CHECKPOINT_FILES.weights, weights]);
  return files;
}

/** Reads one file a checkpoint names; `undefined` when it is not there. */
export type CheckpointFileReader = (name: string, field: string) => Promise<Uint8Array | undefined> | Uint8Array | undefined;

/**
 * Builds a checkpoint from its parsed `checkpoint.json` and a reader of the files it names, with every check
 * `loadCheckpoint` makes: the tensors against the config, finite values, the optimizer state against the recorded
 * optimizer and step.
 *
 * @param meta - the parsed `checkpoint.json` (`parseMeta`)
 * @param where - how to name the checkpoint in messages (its `checkpoint.json` path or store location)
 * @param read - reads a named file (`name` is checked by the caller's store), `field` is the meta field naming it
 * @param nameFile - how to name a file in messages @defaultValue `where/name`
 * @throws FmnistModelError `E_CHECKPOINT_MISSING`, `E_CHECKPOINT_CORRUPT`, `E_CHECKPOINT_MISMATCH`, `E_NON_FINITE`
 * @internal
 */
export async function assembleCheckpoint(
  meta: StoredCheckpointMeta,
  where: string,
  read: CheckpointFileReader,
  nameFile: (name: string) => string = (name) => `${where}/${name}`,
): Promise<Checkpoint> {
  const need = async (name: string, field: string): Promise<Uint8Array> => {
    const bytes = await read(name, field);
    if (!bytes) {
      throw new FmnistModelError(
        'E_CHECKPOINT_MISSING',
        `${nameFile(name)}: missing. The checkpoint is incomplete; use another one or train again.`,
      );
    }
    return bytes;
  };
  const weightsName = meta.files?.weights ?? CHECKPOINT_FILES.weights;
  const weightsFile = nameFile(weightsName);
  const params = decodeWeights(meta.config, await need(weightsName, 'files.weights'), weightsFile);
  checkFinite(params, weightsFile);
  let optimizer: Checkpoint['optimizer'];
  if (meta.files?.optimizer) {
    const optimizerFile = nameFile(meta.files.optimizer);
    optimizer = decodeOptimizer(meta.config, await need(meta.files.optimizer, 'files.optimizer'), optimizerFile);
    for (const slot of OPTIMIZER_SLOTS[optimizer.kind ?? 'adam']) checkFinite(optimizer[slot] as ParamSet, optimizerFile);
    const kind = recordedOptimizerKind(meta.training);
    if ((optimizer.kind ?? 'adam') !== kind) {
      throw new FmnistModelError(
        'E_CHECKPOINT_CORRUPT',
        `${where}: field 'training.optimizer' is ${JSON.stringify(meta.training.optimizer ?? 'adam')}, but ${optimizerFile} holds ${optimizer.kind ?? 'adam'} state; the files come from different checkpoints. Use another checkpoint.`,
      );
    }
    if (optimizer.step !== meta.step) {
      throw new FmnistModelError(
        'E_CHECKPOINT_CORRUPT',
        `${where}: field 'step' is ${meta.step}, but ${optimizerFile} was saved at step ${optimizer.step}; the files come from different checkpoints. Use another checkpoint.`,
      );
    }
  }
  const { files: _files, ...clean } = meta;
  return { meta: clean, params, optimizer };
}

/**
 * Reads a checkpoint from its files (e.g. a downloaded or stored copy of a checkpoint directory), with every check
 * `loadCheckpoint` makes.
 *
 * @param files - file name → bytes; must hold `checkpoint.json` and the files it names
 * @param location - how to name the checkpoint in messages
 * @returns meta, params and (when saved) optimizer state
 * @throws FmnistModelError `E_CHECKPOINT_MISSING` (no `checkpoint.json` or a file it names), `E_CHECKPOINT_CORRUPT`,
 *   `E_CHECKPOINT_MISMATCH`, `E_NON_FINITE`
 *
 * @example
 * ```ts
 * const again = await checkpointFromFiles(new Map(checkpointFiles(checkpoint)), 'memory');
 * ```
 */
export async function checkpointFromFiles(
  files: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>,
  location: string,
): Promise<Checkpoint> {
  const get = (name: string): Uint8Array | undefined => {
    const bytes: unknown =
      files instanceof Map ? files.get(name) : Object.hasOwn(files, name) ? (files as Record<string, unknown>)[name] : undefined;
    if (bytes === undefined || bytes instanceof Uint8Array) return bytes;
    throw new FmnistModelError(
      'E_CHECKPOINT_CORRUPT',
      `${location}/${name}: holds ${bytes === null ? 'null' : Array.isArray(bytes) ? 'an array' : typeof bytes === 'object' ? ((bytes as object).constructor?.name ?? 'an object') : `a ${typeof bytes}`}, not the file's bytes (a Uint8Array). Pass each file's contents as a Uint8Array.`,
    );
  };
  const metaBytes = get(CHECKPOINT_FILES.meta);
  const metaName = `${location}/${CHECKPOINT_FILES.meta}`;
  if (!metaBytes) {
    throw new FmnistModelError('E_CHECKPOINT_MISSING', `${metaName}: missing; ${location} holds no checkpoint.`);
  }
  const meta = parseMeta(new TextDecoder().decode(metaBytes), metaName);
  return assembleCheckpoint(
    meta,
    metaName,
    (name) => get(name),
    (name) => `${location}/${name}`,
  );
}

/**
 * A {@link CheckpointStore} in memory (tests, or a page that keeps its checkpoints elsewhere): the latest
 * checkpoint's files, in `files`.
 *
 * @param location - its name in messages @defaultValue `'memory'`
 * @returns the store
 */
export function memoryCheckpointStore(location = 'memory'): CheckpointStore & { readonly files: Map<string, Uint8Array> } {
  let files = new Map<string, Uint8Array>();
  return {
    location,
    get files() {
      return files;
    },
    async load() {
      return files.size === 0 ? undefined : checkpointFromFiles(files, location);
    },
    async save(checkpoint) {
      // Built completely, then swapped in: the previous checkpoint stays whole until the new one is.
      files = new Map(checkpointFiles(checkpoint));
      return `${location}/${CHECKPOINT_FILES.meta}`;
    },
  };
}
