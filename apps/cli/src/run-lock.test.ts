/** The run directory's lock: one holder, stale locks (dead pid, recycled pid, garbage) taken over, foreign hosts respected. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunError } from './errors';
import { acquireRunLock, processStartOf, RUN_LOCK_FILE } from './run-lock';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-lock-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (the OS does not hand it out again at once). */
const deadPid = (): number =>
  Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

const plant = (owner: object | string) => writeFile(join(dir, RUN_LOCK_FILE), typeof owner === 'string' ? owner : JSON.stringify(owner));

async function lockedError(p: Promise<unknown>): Promise<RunError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RunError);
  expect((err as RunError).errorCode).toBe('E_RUN_LOCKED');
  return err as RunError;
}

describe('run lock', () => {
  it('one holder at a time; released, it can be taken again; no files left behind', async () => {
    const a = await acquireRunLock(dir, 'fmnist train a');
    expect(a.tookOverFrom).toBeNull();
    const err = await lockedError(acquireRunLock(dir, 'fmnist train b'));
    expect(err.message).toContain(`pid ${process.pid} on this host`);
    expect(err.message).toMatch(/Wait for it to finish or stop it \(Ctrl-C\), or choose another --out/);
    await a.release();
    await a.release(); // idempotent
    expect(await readdir(dir)).toEqual([]);
    const b = await acquireRunLock(dir, 'fmnist train b');
    await b.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('many concurrent takers: exactly one wins', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => acquireRunLock(dir, `t${i}`)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireRunLock>>>).value.release();
  });

  it('a lock of a dead process (kill -9) is taken over and reported', async () => {
    const pid = deadPid();
    await plant({ pid, hostname: hostname(), since: '2026-01-01T00:00:00Z', processStart: null, command: 'fmnist train' });
    const lock = await acquireRunLock(dir, 'fmnist train');
    expect(lock.tookOverFrom?.pid).toBe(pid);
    expect(JSON.parse(await readFile(lock.path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it.skipIf(processStartOf(process.pid) === null)('a live pid with another start time (a recycled pid) is stale', async () => {
    await plant({ pid: process.pid, hostname: hostname(), since: 'x', processStart: '1', command: 'fmnist train' });
    const lock = await acquireRunLock(dir, 'fmnist train');
    expect(lock.tookOverFrom?.pid).toBe(process.pid);
    await lock.release();
  });

  it('a live holder with its own start time is respected', async () => {
    await plant({ pid: process.pid, hostname: hostname(), since: 'x', processStart: processStartOf(process.pid), command: 'x' });
    await lockedError(acquireRunLock(dir, 'fmnist train'));
  });

  it('a lock of another host is never judged stale: refused, with how to clear it', async () => {
    await plant({ pid: 1, hostname: 'elsewhere', since: '2026-01-01', processStart: null, command: 'fmnist train' });
    const err = await lockedError(acquireRunLock(dir, 'fmnist train'));
    expect(err.message).toMatch(/pid 1 on host "elsewhere".*If that process is gone, delete .*\.fmnist-train\.lock/);
  });

  it.each([
    ['garbage', 'not json'],
    ['empty', ''],
    ['a negative pid', '{"pid":-1,"hostname":"h"}'],
  ])('an unreadable lock (%s) is taken over', async (_, text) => {
    await plant(text);
    const lock = await acquireRunLock(dir, 'fmnist train');
    expect(lock.tookOverFrom?.pid).toBe(0);
    await lock.release();
  });
});
