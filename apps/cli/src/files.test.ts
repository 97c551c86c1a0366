import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInputPath, checkOutputFile, checkRunDirectory, describeFsError } from './files';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-files-'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  await writeFile(join(dir, 'f'), 'x');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkInputPath', () => {
  it('accepts a regular file, and a directory only when allowed', () => {
    expect(checkInputPath(join(dir, 'f'))).toBe('file');
    expect(checkInputPath(dir, { allowDirectory: true })).toBe('directory');
    expect(() => checkInputPath(dir)).toThrow(/a directory, not a file/);
  });
  it.each([
    ['fifo', /a FIFO \(named pipe\)/],
    ['/dev/null', /a character device/],
    ['/proc/self/status', /procfs/],
    ['/sys/kernel/mm/transparent_hugepage/enabled', /sysfs|no such file/],
    ['', /an empty path/],
  ])('refuses %j', (path, message) => {
    expect(() => checkInputPath(path === 'fifo' ? join(dir, path) : path)).toThrow(message);
  });
});

describe('checkOutputFile and checkRunDirectory', () => {
  it('allow a new or existing regular file in an existing folder', () => {
    expect(checkOutputFile(join(dir, 'f'))).toBe(join(dir, 'f'));
    expect(checkOutputFile(join(dir, 'new.png'))).toBe(join(dir, 'new.png'));
    expect(() => checkOutputFile(join(dir, 'a', 'b.png'))).toThrow(/the folder .* does not exist/);
    expect(checkOutputFile(join(dir, 'a', 'b.png'), { createParent: true })).toBe(join(dir, 'a', 'b.png'));
    expect(() => checkOutputFile(join(dir, 'fifo'))).toThrow(/a FIFO/);
    expect(() => checkOutputFile('/proc/self/x')).toThrow(/procfs/);
  });
  it('run directories: new, or a folder without other files', () => {
    expect(checkRunDirectory(join(dir, 'run'), '--out', false)).toBe(join(dir, 'run'));
    expect(() => checkRunDirectory(dir, '--out', false)).toThrow(/holds 2 other files and no run/);
    expect(() => checkRunDirectory(join(dir, 'f'), '--out', false)).toThrow(/a regular file, not a run directory/);
    expect(() => checkRunDirectory(join(dir, 'nope'), '--resume', true)).toThrow(/no such run directory/);
  });
});

describe('describeFsError', () => {
  const errno = (code: string, syscall: string, path?: string) => Object.assign(new Error(code), { code, syscall, path });
  it('words file-system errors, also as a cause', () => {
    expect(describeFsError(errno('ENOSPC', 'write'))).toBe(
      'cannot write: no space left on the device [ENOSPC]. Free some space, or write somewhere else.',
    );
    expect(describeFsError(errno('EROFS', 'open', '/ro/x'))).toBe(
      'cannot open /ro/x: read-only file system [EROFS]. Write somewhere else.',
    );
    expect(describeFsError(new Error('wrapped', { cause: errno('EACCES', 'mkdir', '/a') }))).toMatch(
      /^cannot create the folder \/a: permission denied/,
    );
  });
  it('leaves other errors alone', () => {
    expect(describeFsError(new TypeError('x'))).toBeUndefined();
    expect(describeFsError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBeUndefined();
  });
});
