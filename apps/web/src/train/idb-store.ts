/**
 * The browser's checkpoint store: one run at a time in IndexedDB (database `fmnist-train`, record `current`), holding
 * the run's settings and the files of its latest checkpoint — the same files as a Node checkpoint directory, so a
 * download is readable by the CLI as it is. Each save is one IndexedDB transaction, so a closed tab or a crash leaves
 * the previous checkpoint or the new one. Used by the trainer worker (saves) and the page (the resume offer).
 */
import { type CheckpointStore, checkpointFiles, checkpointFromFiles } from '@fmnist/model/core';
import { type IDBPDatabase, openDB } from 'idb';
import type { StoredRun, TrainSettings } from './session-types';

const DB_NAME = 'fmnist-train';
const STORE = 'runs';
const KEY = 'current';

/** The record kept for the current run. */
export interface RunRecord {
  settings: TrainSettings;
  /** The latest checkpoint's files (absent until the first checkpoint). */
  files?: Record<string, Uint8Array>;
  /** Completed epochs and, for a mid-epoch checkpoint, the step within the next one. */
  epoch: number;
  step?: number;
  savedAt: string;
  /** True once the run completed or was stopped (then it is not offered for resuming). */
  finished: boolean;
}

/** Where the store is, in messages. */
export const IDB_LOCATION = `IndexedDB ${DB_NAME}/${KEY}`;

let opened: Promise<IDBPDatabase> | undefined;

function db(): Promise<IDBPDatabase> {
  opened ??= openDB(DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore(STORE);
    },
  });
  opened.catch(() => {
    opened = undefined;
  });
  return opened;
}

/** The current run's record, if any. */
export async function readRunRecord(): Promise<RunRecord | undefined> {
  return (await (await db()).get(STORE, KEY)) as RunRecord | undefined;
}

/** Replaces the current run's record. */
export async function writeRunRecord(record: RunRecord): Promise<void> {
  await (await db()).put(STORE, record, KEY);
}

/** Forgets the current run. */
export async function clearRunRecord(): Promise<void> {
  await (await db()).delete(STORE, KEY);
}

/**
 * The run kept by an earlier visit that can be resumed: unfinished, with a checkpoint.
 *
 * @returns its settings and progress, or undefined
 */
export async function storedRunInfo(): Promise<StoredRun | undefined> {
  const record = await readRunRecord();
  if (!record || record.finished || !record.files) return undefined;
  return {
    settings: record.settings,
    epoch: record.epoch,
    ...(record.step !== undefined ? { step: record.step } : {}),
    savedAt: record.savedAt,
  };
}

/**
 * A {@link CheckpointStore} on the current run's record: `save` replaces its files (and progress) in one
 * transaction, `load` reads and checks them (`checkpointFromFiles`).
 *
 * @param settings - the run's settings, kept beside its checkpoint
 * @returns the store
 */
export function idbCheckpointStore(settings: TrainSettings): CheckpointStore {
  return {
    location: IDB_LOCATION,
    async load() {
      const record = await readRunRecord();
      return record?.files ? checkpointFromFiles(record.files, IDB_LOCATION) : undefined;
    },
    async save(checkpoint) {
      const files = Object.fromEntries(checkpointFiles(checkpoint));
      const resumeAt = (checkpoint.meta as { resumeAt?: { batch: number } }).resumeAt;
      await writeRunRecord({
        settings,
        files,
        epoch: checkpoint.meta.epoch,
        ...(resumeAt ? { step: resumeAt.batch } : {}),
        savedAt: new Date().toISOString(),
        finished: false,
      });
      return `${IDB_LOCATION} (epoch ${checkpoint.meta.epoch}${resumeAt ? `, step ${resumeAt.batch}` : ''})`;
    },
  };
}
