/**
 * The lock on a run directory: one `fmnist train` writes a run at a time. The lock file records who holds it (pid,
 * host, the process's start time), so a lock left by a process that died (`kill -9`, power loss) is recognised and
 * taken over, and a recycled pid is not mistaken for the holder.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunError } from './errors';

/** Name of the lock file inside a run directory. */
export const RUN_LOCK_FILE = '.fmnist-train.lock';

/** What the lock file holds. */
export interface RunLockOwner {
  pid: number;
  hostname: string;
  /** When the holder took the lock (ISO time). */
  since: string;
  /** The holder's start time in clock ticks since boot (Linux `/proc/<pid>/stat` field 22), when known. */
  processStart: string | null;
  command: string;
}

/** A held lock. */
export interface RunLock {
  /** The lock file. */
  path: string;
  /** The previous holder, when its stale lock was taken over. */
  tookOverFrom: RunLockOwner | null;
  /** Gives the lock up (idempotent). */
  release(): Promise<void>;
}

/** A process's start time from `/proc` (Linux), or null where there is no `/proc`. */
export function processStartOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process that wrote `owner` is gone (only decidable on this host). */
function isStale(owner: RunLockOwner): boolean {
  if (owner.hostname !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  // A zombie (killed, not yet reaped by its parent) is dead for our purposes.
  try {
    const stat = readFileSync(`/proc/${owner.pid}/stat`, 'utf8');
    if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) return true;
  } catch {}
  // Alive — but is it the same process, or a new one that got the pid?
  const now = processStartOf(owner.pid);
  return owner.processStart !== null && now !== null && now !== owner.processStart;
}

function parseOwner(text: string): RunLockOwner | null {
  try {
    const o = JSON.parse(text) as RunLockOwner;
    return Number.isInteger(o?.pid) && o.pid > 0 && typeof o.hostname === 'string' ? o : null;
  } catch {
    return null;
  }
}

const describeOwner = (o: RunLockOwner) =>
  `pid ${o.pid}${o.hostname === hostname() ? ' on this host' : ` on host ${JSON.stringify(o.hostname).slice(0, 80)}`}, since ${String(o.since).slice(0, 40)}`;

/**
 * Takes the lock on `runDir` (which must exist), or refuses with `E_RUN_LOCKED` naming the holder and what to do.
 *
 * @param runDir - the run directory
 * @param command - what the holder runs (shown to a second writer)
 * @returns the held lock; release it when done (it is also removed if the process exits)
 */
export async function acquireRunLock(runDir: string, command: string): Promise<RunLock> {
  const path = join(runDir, RUN_LOCK_FILE);
  const me: RunLockOwner = {
    pid: process.pid,
    hostname: hostname(),
    since: new Date().toISOString(),
    processStart: processStartOf(process.pid),
    command,
  };
  const text = `${JSON.stringify(me)}\n`;
  let tookOverFrom: RunLockOwner | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    // Written whole to a temporary name, then linked into place: link() fails if a lock exists, so a reader never sees
    // half a lock file and two writers never both succeed.
    const temp = join(runDir, `${RUN_LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
    await writeFile(temp, text, { flag: 'wx' });
    try {
      await link(temp, path);
      await removeDeadTemps(runDir);
      return held(path, text, tookOverFrom);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(temp).catch(() => {});
    }
    const current = await readFile(path, 'utf8').catch(() => null);
    if (current === null) continue; // released meanwhile
    const owner = parseOwner(current);
    if (owner && !isStale(owner)) {
      throw new RunError(
        'E_RUN_LOCKED',
        `${runDir} is in use: another fmnist train (${describeOwner(owner)}) is writing this run. Wait for it to finish or stop it (Ctrl-C), or choose another --out.${owner.hostname === hostname() ? '' : ` If that process is gone, delete ${path}.`}`,
      );
    }
    // Stale (or unreadable): move it aside, and take over only if what was moved is what was judged.
    const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await rename(path, aside);
    } catch {
      continue; // someone else moved it first
    }
    const moved = await readFile(aside, 'utf8').catch(() => null);
    if (moved !== current) {
      // A fresh lock was taken in between: put it back and look again.
      await link(aside, path).catch(() => {});
      await unlink(aside).catch(() => {});
      continue;
    }
    await unlink(aside).catch(() => {});
    tookOverFrom = owner ?? { pid: 0, hostname: '?', since: '?', processStart: null, command: '?' };
  }
  throw new RunError('E_RUN_LOCKED', `${runDir}: could not take the lock ${path} (other processes keep taking it). Try again.`);
}

/** Removes the temporary lock files of processes killed while taking or moving the lock (`<lock>.<pid>.<hex>`, `<lock>.stale.<pid>.<hex>`). */
async function removeDeadTemps(runDir: string): Promise<void> {
  const names = await readdir(runDir).catch(() => [] as string[]);
  for (const name of names) {
    const m = /^\.fmnist-train\.lock\.(?:stale\.)?(\d+)\.[0-9a-f]{8}$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code !== 'ESRCH';
    }
    if (!alive) await unlink(join(runDir, name)).catch(() => {});
  }
}

function held(path: string, text: string, tookOverFrom: RunLockOwner | null): RunLock {
  let released = false;
  const removeIfOurs = () => {
    if (released) return;
    released = true;
    try {
      if (readFileSync(path, 'utf8') === text) unlinkSync(path);
    } catch {}
  };
  // `process.exit` (a second Ctrl-C) skips finally blocks.
  process.once('exit', removeIfOurs);
  return {
    path,
    tookOverFrom,
    async release() {
      process.off('exit', removeIfOurs);
      removeIfOurs();
    },
  };
}

/** The sentence saying a stale lock was taken over. */
export function describeTakeover(owner: RunLockOwner): string {
  return owner.pid
    ? `Took over the lock of an earlier fmnist train (pid ${owner.pid}, since ${String(owner.since).slice(0, 40)}), which is no longer running.`
    : 'Took over an unreadable lock file left by an earlier fmnist train.';
}
