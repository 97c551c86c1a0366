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
  /** Which run this is (a fresh start makes a new one): a paused tab never continues another tab's run. */
  runId: string;
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
  }).catch((err: unknown) => {
    throw new Error(
      `This browser does not let the page keep data (${IDB_LOCATION}: ${(err as Error)?.message ?? String(err)}); training keeps its checkpoints there. Allow site data, or leave private browsing.`,
      { cause: err },
    );
  });
  opened.catch(() => {
    opened = undefined;
  });
  return opened;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositiveInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
const isFiniteAtLeast0 = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Why stored settings are not a {@link TrainSettings} the trainer can run (the field and its value), or undefined. */
function settingsProblem(settings: Record<string, unknown>): string | undefined {
  const checks: [keyof TrainSettings, (v: unknown) => boolean][] = [
    ['preset', (v) => typeof v === 'string' && v !== ''],
    ['epochs', isPositiveInt],
    ['batchSize', isPositiveInt],
    ['learningRate', (v) => isFiniteAtLeast0(v) && (v as number) > 0],
    ['lrSchedule', (v) => v === 'constant' || v === 'cosine'],
    ['weightDecay', isFiniteAtLeast0],
    ['labelSmoothing', (v) => isFiniteAtLeast0(v) && (v as number) < 1],
    ['augment', isObject],
    ['subset', (v) => v === null || isPositiveInt(v)],
    ['seed', Number.isInteger],
    ['threads', (v) => v === undefined || isPositiveInt(v)],
  ];
  for (const [field, ok] of checks) {
    if (!ok(settings[field]))
      return `'settings.${field}' is ${typeof settings[field] === 'number' ? String(settings[field]) : (JSON.stringify(settings[field]) ?? 'missing')}`;
  }
  return undefined;
}

/**
 * Why a stored value is not a {@link RunRecord} (written by another version of the app, or damaged), or undefined.
 * The checkpoint files themselves are checked when read (`checkpointFromFiles`); the settings by the trainer.
 */
export function runRecordProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not an object';
  const { runId, settings, files, epoch, step, savedAt, finished } = value;
  if (typeof runId !== 'string' || runId === '') return "'runId' is missing";
  if (!isObject(settings)) return "'settings' is not a run's settings";
  const bad = settingsProblem(settings);
  if (bad) return bad;
  if (!Number.isInteger(epoch) || (epoch as number) < 0) return `'epoch' is ${JSON.stringify(epoch)}`;
  if (step !== undefined && (!Number.isInteger(step) || (step as number) < 0)) return `'step' is ${JSON.stringify(step)}`;
  if (typeof savedAt !== 'string' || typeof finished !== 'boolean') return "'savedAt' or 'finished' is missing";
  if (files !== undefined) {
    if (!isObject(files)) return "'files' is not a map of files";
    for (const [name, bytes] of Object.entries(files)) if (!(bytes instanceof Uint8Array)) return `file '${name}' holds no bytes`;
  }
  return undefined;
}

/**
 * The current run's record, if any.
 * @throws Error naming the store when the stored record is damaged (use {@link clearRunRecord})
 */
export async function readRunRecord(): Promise<RunRecord | undefined> {
  const value: unknown = await (await db()).get(STORE, KEY);
  if (value === undefined) return undefined;
  const problem = runRecordProblem(value);
  if (problem) throw new Error(`${IDB_LOCATION}: the stored run is damaged (${problem}); discard it and start a new run.`);
  return value as RunRecord;
}

/**
 * Replaces the current run's record (one transaction: the old record stays whole if it fails).
 * @throws Error with the fix when the browser's storage is full or refuses site data
 */
export async function writeRunRecord(record: RunRecord): Promise<void> {
  try {
    await (await db()).put(STORE, record, KEY);
  } catch (err) {
    const name = (err as { name?: string })?.name;
    if (name === 'QuotaExceededError') {
      throw new Error(
        `The browser's storage for this site is full: the checkpoint could not be kept in ${IDB_LOCATION}. Free some space (or clear this site's data) and resume.`,
        { cause: err },
      );
    }
    throw new Error(
      `The checkpoint could not be kept in ${IDB_LOCATION} (${(err as Error)?.message ?? String(err)}). Allow site data for this page.`,
      {
        cause: err,
      },
    );
  }
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
  let record: RunRecord | undefined;
  try {
    record = await readRunRecord();
  } catch (err) {
    // A damaged record (or no IndexedDB at all) is nothing to resume; the page can still train from scratch.
    console.warn((err as Error).message);
    return undefined;
  }
  if (!record || record.finished || !record.files) return undefined;
  return {
    runId: record.runId,
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
 * @param runId - the run's id: `load` refuses the record of another run
 * @returns the store
 */
export function idbCheckpointStore(settings: TrainSettings, runId: string): CheckpointStore {
  return {
    location: IDB_LOCATION,
    async load() {
      const record = await readRunRecord();
      if (record && record.runId !== runId) {
        throw new Error(
          `${IDB_LOCATION} now holds another run (started ${record.savedAt}, probably in another tab), so this one cannot continue. Start a new run, or resume that one.`,
        );
      }
      return record?.files ? checkpointFromFiles(record.files, IDB_LOCATION) : undefined;
    },
    async save(checkpoint) {
      const files = Object.fromEntries(checkpointFiles(checkpoint));
      const resumeAt = (checkpoint.meta as { resumeAt?: { batch: number } }).resumeAt;
      await writeRunRecord({
        runId,
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
