/**
 * `fmnist train`'s run directory: which one (`--out`, `--resume` or a new `runs/PRESET-TIME`), the paths inside it,
 * holding it (created, locked against a second writer, cleaned of half-written files, removed again when a fresh run
 * wrote nothing), and writing its per-epoch metrics files.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { EpochRecord, PresetName } from '@fmnist/model';
import { TRAINING_RECIPES } from '@fmnist/model/core';
import { toMetricsRows } from '@fmnist/report';
import { EXIT, ExitError, UsageError } from '../errors';
import { checkRunDirectory } from '../files';
import { metricsCsv, metricsJsonl } from '../metrics';
import { RUN_FILES } from '../paths';
import { acquireRunLock, describeTakeover } from '../run-lock';
import { shellCommand } from '../shell';
import { colors, log } from '../ui';

/** The paths of a run directory that training reads and writes. */
export interface RunPaths {
  runDir: string;
  /** The checkpoint directory. */
  ckptDir: string;
  /** `config.json`. */
  configPath: string;
  /** The checkpoint's `checkpoint.json`. */
  ckptJson: string;
  /** Both files, as error messages name them. */
  runFiles: { config: string; checkpoint: string };
}

/** The paths inside `runDir`. */
export function runPaths(runDir: string): RunPaths {
  const ckptDir = join(runDir, RUN_FILES.checkpoint);
  const configPath = join(runDir, RUN_FILES.config);
  const ckptJson = join(ckptDir, 'checkpoint.json');
  return { runDir, ckptDir, configPath, ckptJson, runFiles: { config: configPath, checkpoint: ckptJson } };
}

const stamp = (d = new Date()) => {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
};

/**
 * Which run directory the flags name, checked before anything is read or written: `--resume DIR`, `--out DIR`, or a
 * new `runs/PRESET-YYYYMMDD-HHMMSS`.
 *
 * @param flags - `preset`, `out`, `resume`
 * @param started - when the command started (names a new run)
 * @returns the absolute run directory and whether this resumes it
 * @throws UsageError for `--resume` without a directory, `--resume` and `--out` naming different runs, an unknown
 *   preset; ExitError for a directory that cannot be a run or has nothing to resume
 */
export function chooseRunDirectory(
  flags: { preset: PresetName; out?: string; resume?: string | boolean },
  started: Date,
): { runDir: string; resuming: boolean } {
  const resuming = flags.resume !== undefined && flags.resume !== false;
  const runArg = typeof flags.resume === 'string' ? flags.resume : flags.out;
  if (resuming && !runArg) throw new UsageError('--resume needs the run directory: fmnist train --resume runs/NAME');
  if (typeof flags.resume === 'string' && flags.out && resolve(flags.out) !== resolve(flags.resume)) {
    throw new UsageError(`--resume ${flags.resume} and --out ${flags.out} name different runs; pass only one.`);
  }
  if (!TRAINING_RECIPES[flags.preset]) throw new UsageError(`unknown preset '${flags.preset}'.`);
  const runDir = resolve(runArg ?? join('runs', `${flags.preset}-${stamp(started)}`));
  // Before anything is read or written: an existing non-folder, a folder of other files, /proc… are refused here.
  checkRunDirectory(runArg ?? runDir, typeof flags.resume === 'string' ? '--resume' : flags.out ? '--out' : undefined, resuming);
  if (resuming && !existsSync(join(runDir, RUN_FILES.config)) && !existsSync(join(runDir, RUN_FILES.checkpoint, 'checkpoint.json'))) {
    throw new ExitError(
      `${runDir}: no ${RUN_FILES.config}, so nothing to resume. Start a new run with: ${shellCommand(['fmnist', 'train', '--out', relative(process.cwd(), runDir) || '.'])}`,
    );
  }
  return { runDir, resuming };
}

/**
 * Runs `work` while holding the run directory: creates it, takes its lock (one writer per run directory, from before
 * anything is read until the last file is written), removes the temporary files of writes killed midway, and at the
 * end releases the lock and removes the directory again if this call created it and nothing was written.
 *
 * @param runDir - the run directory
 * @param work - what to do while holding it
 * @throws ExitError when the directory cannot be created; the lock's errors
 */
export async function withRunDirectory(runDir: string, work: () => Promise<void>): Promise<void> {
  const created = !existsSync(runDir);
  try {
    await mkdir(runDir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ExitError(`cannot create the run directory ${runDir} (${code}). Choose another --out.`, EXIT.failure, { cause: err });
  }
  const lock = await acquireRunLock(runDir, ['fmnist', ...process.argv.slice(2)].join(' '));
  try {
    if (lock.tookOverFrom) log(colors.yellow(describeTakeover(lock.tookOverFrom)));
    // Leftovers of writes killed midway (the lock guarantees nobody is writing them now).
    const { removeStaleTempFiles } = await import('@fmnist/model');
    const removed = [...(await removeStaleTempFiles(runDir)), ...(await removeStaleTempFiles(join(runDir, RUN_FILES.checkpoint)))];
    if (removed.length > 0)
      log(colors.dim(`Removed ${removed.length} temporary file${removed.length > 1 ? 's' : ''} left by an interrupted write.`));
    await work();
  } finally {
    await lock.release();
    // A fresh run that failed before writing anything leaves no empty directory behind.
    if (created)
      await readdir(runDir)
        .then((names) => (names.length === 0 ? rmdir(runDir) : undefined))
        .catch(() => {});
  }
}

/**
 * Writes `metrics.csv` and `metrics.jsonl` of the epochs so far (atomically, each replacing the last).
 *
 * @param runDir - the run directory
 * @param epochs - every epoch of the run so far
 */
export async function writeRunMetrics(runDir: string, epochs: readonly EpochRecord[]): Promise<void> {
  const { writeFileAtomic } = await import('@fmnist/model');
  const rows = toMetricsRows(epochs);
  await writeFileAtomic(join(runDir, RUN_FILES.metricsCsv), metricsCsv(rows));
  await writeFileAtomic(join(runDir, RUN_FILES.metricsJsonl), metricsJsonl(rows));
}

/** The files a run writes from its checkpoint when it ends: stale once training moves the checkpoint on. */
const DERIVED_FILES = [
  RUN_FILES.onnx,
  RUN_FILES.report,
  RUN_FILES.confusionSvg,
  RUN_FILES.confusionPng,
  RUN_FILES.perClass,
  RUN_FILES.curvesSvg,
  RUN_FILES.curvesPng,
] as const;

/**
 * Removes the model, report and charts an earlier stop of this run wrote, before a resume moves the checkpoint on.
 * They describe the old weights: left in place, a resume killed midway (kill -9, a closed pipe) would leave a
 * `model.onnx` that `fmnist eval RUN` and `fmnist predict RUN` use without a word while the checkpoint is epochs ahead.
 * The run writes them again when it ends; `fmnist export RUN` rebuilds the model from the checkpoint at any time.
 *
 * @param runDir - the run directory (its lock held)
 * @returns the names removed
 */
export async function removeDerivedFiles(runDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of DERIVED_FILES) {
    const path = join(runDir, name);
    if (!existsSync(path)) continue;
    await rm(path, { force: true });
    removed.push(name);
  }
  if (removed.length > 0) {
    log(
      colors.dim(
        `Removed ${removed.join(', ')} of the previous stop (they describe the old weights); they are written again when this run ends, and ${shellCommand(['fmnist', 'export', relative(process.cwd(), runDir) || '.'])} rebuilds the model from the checkpoint at any time.`,
      ),
    );
  }
  return removed;
}
