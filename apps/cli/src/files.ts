/**
 * The one place where `fmnist` checks a path the user gave before it opens or writes it. Inputs must be regular files
 * (or directories, where a command takes one) that can be read; outputs must land in an existing, writable directory on
 * a real file system. Everything is checked with `stat`/`statfs`, never by opening, so a FIFO, a device or a file of
 * `/proc` is refused at once instead of blocking, spinning or being overwritten.
 */
import { accessSync, constants, lstatSync, readdirSync, type Stats, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ATOMIC_TEMP_FILE } from '@fmnist/model';
import { ExitError } from './errors';
import { RUN_LOCK_FILE } from './run-lock';
import { shellQuote } from './shell';

/**
 * Magic numbers (`statfs.f_type`) of Linux pseudo file systems: their "files" are kernel interfaces (reading blocks or
 * never ends, writing changes the system), so fmnist neither reads nor writes there.
 */
const PSEUDO_FILE_SYSTEMS: Record<number, string> = {
  40864: 'procfs (/proc)',
  1650812274: 'sysfs (/sys)',
  1684170528: 'debugfs',
  1953653091: 'tracefs',
  1935894131: 'securityfs',
  2613483: 'cgroup',
  1667723888: 'cgroup2',
  3405662737: 'bpf',
  1634035564: 'pstore',
  1650812272: 'configfs',
  3730735588: 'efivarfs',
};

/** What a `stat` says a path is, in words. */
export function describeFileType(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
  EEXIST: 'already exists',
  EBUSY: 'the file is busy',
  ETXTBSY: 'the file is busy',
  ENXIO: 'no such device or address',
  EFBIG: 'the file is too large',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
};

/** Error codes of the file system that come from the user's paths or machine, never from a bug in fmnist. */
export const USER_FS_ERROR_CODES: ReadonlySet<string> = new Set(Object.keys(ERRNO_TEXT));

/** The words for an errno code such as `ENOENT`, or the code itself. */
export function describeErrno(code: string): string {
  return ERRNO_TEXT[code] ?? code;
}

/** The name of the pseudo file system `path` is on, if any (`undefined` also when `statfs` is unavailable). */
function pseudoFileSystem(path: string): string | undefined {
  try {
    return PSEUDO_FILE_SYSTEMS[statfsSync(path).type];
  } catch {
    return undefined;
  }
}

function fail(label: string, problem: string, fix: string): never {
  throw new ExitError(`${label}: ${problem}. ${fix}`);
}

const labelOf = (path: string, flag?: string) => (flag ? `${flag} ${path}` : path);

/** Options of {@link checkInputPath}. */
export interface InputCheckOptions {
  /** The flag the path came from, for messages (e.g. `--resume`); an argument when omitted. */
  flag?: string;
  /** What the command wanted, for messages, e.g. `an image file`. @defaultValue `a file` */
  expected?: string;
  /** Accept a directory too. @defaultValue false */
  allowDirectory?: boolean;
}

/**
 * Checks a path the user gave as input, without opening it: it must exist, be a regular file (or, with
 * `allowDirectory`, a directory), not live on a pseudo file system such as `/proc`, and be readable.
 *
 * @param path - what the user typed
 * @param options - `flag`, `expected`, `allowDirectory`
 * @returns `'file'` or `'directory'`
 * @throws ExitError (exit 1) naming the path, what it is and what was expected
 *
 * @example
 * ```ts
 * checkInputPath('shoe.png', { expected: 'an image file' }); // 'file', or throws "shoe.png: no such file…"
 * ```
 */
export function checkInputPath(path: string, options: InputCheckOptions = {}): 'file' | 'directory' {
  const label = labelOf(path, options.flag);
  const expected = options.expected ?? (options.allowDirectory ? 'a file or a directory' : 'a file');
  if (path === '') fail(label || "''", 'an empty path', `Pass ${expected}.`);
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
    fail(label, `${describeErrno(code)} (${code})`, `Pass ${expected}.`);
  }
  const kind = stats.isFile() ? 'file' : stats.isDirectory() && options.allowDirectory ? 'directory' : undefined;
  if (!kind) fail(label, `${describeFileType(stats)}, not ${expected}`, 'Pass the path of one instead.');
  const pseudo = pseudoFileSystem(path);
  if (pseudo) fail(label, `on ${pseudo}, a kernel pseudo file system`, `Pass ${expected} on a real disk.`);
  try {
    accessSync(path, kind === 'directory' ? constants.R_OK | constants.X_OK : constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
    fail(label, `cannot be read: ${describeErrno(code)} (${code})`, 'Check its permissions, or pass another path.');
  }
  return kind;
}

/** The closest ancestor of `path` (itself excluded) that exists, and its stats. */
function existingAncestor(path: string): { dir: string; stats: Stats } {
  let dir = dirname(path);
  for (;;) {
    try {
      return { dir, stats: statSync(dir) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
      dir = dirname(dir);
    }
  }
}

function checkParent(label: string, target: string, createParent: boolean): void {
  let found: { dir: string; stats: Stats };
  try {
    found = existingAncestor(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
    fail(label, `its folder cannot be used: ${describeErrno(code)} (${code})`, 'Choose another path.');
  }
  const parent = dirname(target);
  if (found.dir !== parent && !createParent)
    fail(label, `the folder ${parent} does not exist`, `Create it first (mkdir -p ${shellQuote(parent)}), or choose another path.`);
  if (!found.stats.isDirectory())
    fail(label, `${found.dir} is ${describeFileType(found.stats)}, not a folder`, 'Choose a path inside a folder.');
  const pseudo = pseudoFileSystem(found.dir);
  if (pseudo) fail(label, `${found.dir} is on ${pseudo}, a kernel pseudo file system`, 'Choose a path on a real disk.');
  try {
    accessSync(found.dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
    fail(label, `cannot write in ${found.dir}: ${describeErrno(code)} (${code})`, 'Choose a folder you can write to.');
  }
}

/** Options of {@link checkOutputFile}. */
export interface OutputCheckOptions {
  /** The flag the path came from, for messages (e.g. `--preview-out`). */
  flag?: string;
  /** Create missing parent folders instead of refusing them (the caller then creates them). @defaultValue false */
  createParent?: boolean;
}

/**
 * Checks a file the command is about to write: the target is not a directory or a special file (an existing regular
 * file is overwritten, as documented for every output flag), and its folder exists (or, with `createParent`, its
 * closest existing ancestor is a folder), is writable and is not on a pseudo file system such as `/proc`.
 *
 * @param path - what the user typed
 * @param options - `flag`, `createParent`
 * @returns the absolute path
 * @throws ExitError (exit 1) naming the path, the problem and the fix
 *
 * @example
 * ```ts
 * const file = checkOutputFile('out/preview.png', { flag: '--preview-out' });
 * ```
 */
export function checkOutputFile(path: string, options: OutputCheckOptions = {}): string {
  const label = labelOf(path, options.flag);
  if (path === '') fail(label || "''", 'an empty path', 'Pass a file name.');
  const target = resolve(path);
  let stats: Stats | undefined;
  try {
    stats = statSync(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') fail(label, `${describeErrno(code ?? 'ERROR')} (${code})`, 'Choose another path.');
  }
  if (stats && !stats.isFile()) fail(label, `${describeFileType(stats)}, not a file fmnist can write`, 'Choose a new file name.');
  checkParent(label, target, Boolean(options.createParent));
  return target;
}

/**
 * What marks a folder as a run directory (a fresh run refuses a non-empty folder without one): a `config.json` file or
 * a `checkpoint` folder. A name alone is not enough: a file called `checkpoint` among someone's files is not a run.
 */
const RUN_MARKERS: Record<string, (s: Stats) => boolean> = {
  'config.json': (s) => s.isFile(),
  checkpoint: (s) => s.isDirectory(),
};
const isRunMarker = (dir: string, name: string): boolean => {
  const is = RUN_MARKERS[name];
  if (!is) return false;
  try {
    return is(statSync(join(dir, name)));
  } catch {
    return false;
  }
};

/** A file fmnist train leaves when killed mid-write: its lock (or the lock's temp file) or an atomic write's temp file. */
const isRunLeftover = (name: string): boolean =>
  name === RUN_LOCK_FILE || name.startsWith(`${RUN_LOCK_FILE}.`) || ATOMIC_TEMP_FILE.test(name);

/**
 * Checks a run directory for `fmnist train`: for a new run it is a folder that does not exist yet (its parents are
 * created), an empty folder, or a folder holding a run (the caller then refuses or resumes); a non-empty folder that
 * holds no run is refused so that a run never scatters its files among someone else's. For `resume` it must be an
 * existing, writable folder.
 *
 * @param path - what the user typed
 * @param flag - `--out` or `--resume` (none for the default folder)
 * @param resume - whether the run is being resumed
 * @returns the absolute path
 * @throws ExitError (exit 1) naming the path, the problem and the fix
 */
export function checkRunDirectory(path: string, flag: string | undefined, resume: boolean): string {
  const label = labelOf(path, flag);
  if (path === '') fail(label, 'an empty path', 'Pass a run directory such as runs/NAME.');
  const target = resolve(path);
  let stats: Stats | undefined;
  try {
    stats = statSync(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
    if (code !== 'ENOENT') fail(label, `${describeErrno(code)} (${code})`, 'Choose another run directory.');
    if (resume) fail(label, 'no such run directory', 'Pass the folder of a run started with fmnist train --out.');
  }
  if (stats && !stats.isDirectory())
    fail(label, `${describeFileType(stats)}, not a run directory`, 'Choose a new folder name for --out (fmnist train creates it).');
  if (stats) {
    const pseudo = pseudoFileSystem(target);
    if (pseudo) fail(label, `on ${pseudo}, a kernel pseudo file system`, 'Choose a folder on a real disk.');
    try {
      accessSync(target, constants.W_OK | constants.X_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
      fail(label, `cannot write in it: ${describeErrno(code)} (${code})`, 'Choose a folder you can write to.');
    }
    // The run keeps its checkpoint in this folder: anything else by that name would fail the first save, an epoch in.
    // (A symbolic link to a folder, e.g. on another disk, is a checkpoint folder.)
    let ckpt: Stats | 'dangling' | undefined;
    try {
      ckpt = statSync(join(target, 'checkpoint'));
    } catch {
      try {
        lstatSync(join(target, 'checkpoint'));
        ckpt = 'dangling';
      } catch {}
    }
    if (ckpt && (ckpt === 'dangling' || !ckpt.isDirectory()))
      fail(
        label,
        `a folder whose 'checkpoint' is ${ckpt === 'dangling' ? 'a symbolic link to nothing' : describeFileType(ckpt)}, not the run's checkpoint folder`,
        'Move that file away, or choose a new or empty folder for the run (e.g. --out runs/NAME).',
      );
    if (!resume) {
      // What fmnist itself leaves in a run directory killed before its first file landed (the lock, a temp file of an
      // atomic write) does not make it "a folder of other files": the run takes the lock over and removes them.
      const entries = readdirSync(target).filter((e) => !isRunLeftover(e));
      if (entries.length > 0 && !entries.some((e) => isRunMarker(target, e)))
        fail(
          label,
          `a folder that holds ${entries.length} other file${entries.length === 1 ? '' : 's'} and no run`,
          'Choose a new or empty folder for the run (e.g. --out runs/NAME).',
        );
    }
    return target;
  }
  checkParent(label, target, true);
  return target;
}

const SYSCALL_TEXT: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the folder',
  rename: 'rename into',
  unlink: 'remove',
  rmdir: 'remove',
  scandir: 'list',
  stat: 'look at',
  lstat: 'look at',
  access: 'access',
  copyfile: 'copy to',
  symlink: 'link',
  chmod: 'change the mode of',
  fsync: 'write',
};

const FS_FIX: Record<string, string> = {
  ENOSPC: 'Free some space, or write somewhere else.',
  EDQUOT: 'Free some space, or write somewhere else.',
  EROFS: 'Write somewhere else.',
  EACCES: 'Check its permissions, or choose another path.',
  EPERM: 'Check its permissions, or choose another path.',
  EMFILE: 'Close other programs, or raise the limit (ulimit -n).',
  ENFILE: 'Close other programs, or raise the limit (ulimit -n).',
  EIO: 'Check the disk.',
};

/**
 * The one-line message for a file-system error (a Node `ErrnoException` with a code of
 * {@link USER_FS_ERROR_CODES}, directly or as the `cause` of another error): what failed on which path, and the fix.
 * Anything else gives `undefined`, and stays a bug report.
 *
 * @param err - what a command threw
 * @returns e.g. `cannot open /x/y.png: no such file or directory [ENOENT]. Check the path, or choose another one.`
 *
 * @example
 * ```ts
 * describeFsError(Object.assign(new Error('x'), { code: 'ENOSPC', syscall: 'write' })); // 'cannot write: no space left…'
 * ```
 */
export function describeFsError(err: unknown): string | undefined {
  for (
    let e = err as (NodeJS.ErrnoException & { dest?: unknown }) | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e !== 'object' || typeof e.code !== 'string' || !USER_FS_ERROR_CODES.has(e.code)) continue;
    // Without a syscall it is not the file system's error but something else that reuses the name.
    if (typeof e.syscall !== 'string') continue;
    const verb = SYSCALL_TEXT[e.syscall] ?? e.syscall;
    const where = typeof e.path === 'string' ? ` ${e.path}${typeof e.dest === 'string' ? ` → ${e.dest}` : ''}` : '';
    const fix = FS_FIX[e.code] ?? 'Check the path, or choose another one.';
    return `cannot ${verb}${where}: ${describeErrno(e.code)} [${e.code}]. ${fix}`;
  }
  return undefined;
}
