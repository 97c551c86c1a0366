/**
 * `fmnist data` against hostile mirrors and bad data folders (hardening issue, classes 1, 2, 3 and 9): the built
 * binary must end every user-caused fault with a one-line `fmnist:` error, exit 1, no stack and no "unexpected error",
 * and never hang. Mirrors come from `FMNIST_MIRRORS`, the cache from `XDG_CACHE_HOME`; `FMNIST_SYSTEM_DIR=none` makes
 * the loader download instead of using Debian's copy.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FASHION_MNIST_FILES, FILE_KEYS } from '@fmnist/data';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectUserError, runCli } from '../test-cli';

const SYSTEM = '/usr/share/datasets/fashion-mnist';
const hasSystem = FILE_KEYS.every((k) => existsSync(join(SYSTEM, FASHION_MNIST_FILES[k].name)));
const isRoot = process.getuid?.() === 0;

let server: Server;
let base = '';
const sockets = new Set<Socket>();
let home: string;

/** A small hostile server: `/<mode>/<name>`; `/ok/` serves Debian's copy of the real files. */
beforeAll(async () => {
  server = createServer((req, res) => {
    const [, mode, name = ''] = (req.url ?? '').split('/');
    const key = FILE_KEYS.find((k) => FASHION_MNIST_FILES[k].name === name);
    if (!key) {
      res.writeHead(404).end();
      return;
    }
    switch (mode) {
      case 'ok': {
        const body = readFileSync(join(SYSTEM, name));
        res.writeHead(200, { 'content-length': body.length }).end(body);
        return;
      }
      case 'reset':
        res.writeHead(200, { 'content-length': 50_000 });
        res.write(Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(998)]), () => res.socket?.destroy());
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Please log in</body></html>');
        return;
      case 'redirect-loop':
        res.writeHead(302, { location: req.url }).end();
        return;
      case 'huge-length':
        res.writeHead(200, { 'content-length': 50_000_000_000 });
        res.write('x');
        return;
      case 'bad-dims': {
        const header = Buffer.alloc(16);
        header.writeUInt32BE(name.includes('images') ? 0x803 : 0x801, 0);
        header.writeUInt32BE(1_369_568, 4);
        header.writeUInt32BE(28, 8);
        header.writeUInt32BE(28, 12);
        const body = gzipSync(Buffer.concat([name.includes('images') ? header : header.subarray(0, 8), Buffer.alloc(1 << 20)]));
        res.writeHead(200, { 'content-length': body.length }).end(body);
        return;
      }
      default:
        res.writeHead(404).end('not found');
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fmnist-cli-data-fault-'));
});
afterEach(async () => {
  const cache = join(home, 'cache', 'fmnist');
  const left = existsSync(cache) ? (await readdir(cache)).filter((f) => f.endsWith('.part')) : [];
  expect(left).toEqual([]);
  await rm(home, { recursive: true, force: true });
});

/** Runs `fmnist data …` with its own cache and mirrors, no system copy, no inherited data folder. */
const data = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['data', ...args], {
    env: { XDG_CACHE_HOME: join(home, 'cache'), FMNIST_SYSTEM_DIR: 'none', FMNIST_DATA_DIR: '', ...env },
    timeoutMs: 60_000,
  });

describe('fmnist data: hostile mirrors (classes 1 and 2)', () => {
  it.each([
    ['not-found', /\[E_NOT_FOUND\]/],
    ['html', /text\/html content starting with '<html>.*\[E_NOT_GZIP\]/s],
    ['redirect-loop', /redirect loop.*\[E_DOWNLOAD\]/s],
    ['huge-length', /Content-Length 50000000000 is larger.*\[E_TOO_LARGE\]/s],
    ['bad-dims', /declares uint8 \[1369568.*\[E_SHAPE\]/s],
    ['reset', /connection broke after .*\[E_TRUNCATED\]/s],
  ])('a %s mirror → one fmnist: error, exit 1', async (mode, message) => {
    const r = await data([], { FMNIST_MIRRORS: `${base}/${mode}/` });
    expectUserError(r, 1, message);
    expect(r.stderr).toContain(`${base}/${mode}/`);
  });

  it('an unresolvable mirror → E_DOWNLOAD naming ENOTFOUND (not a bare "fetch failed")', async () => {
    const r = await data([], { FMNIST_MIRRORS: 'http://fmnist-no-such-host.invalid/' });
    expectUserError(r, 1, /(ENOTFOUND|EAI_AGAIN).*\[E_DOWNLOAD\]/s);
  });

  it.skipIf(!hasSystem)('a bad mirror, then a good one → downloaded from the second, verified, exit 0', async () => {
    const r = await data(['--json'], { FMNIST_MIRRORS: `${base}/html/ ${base}/ok/` });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.source).toBe('download');
    expect([summary.train.count, summary.test.count]).toEqual([60000, 10000]);
    expect(summary.files.every((f: { verified: boolean }) => f.verified)).toBe(true);
  });
});

describe('fmnist data: caches that cannot be written (class 1)', () => {
  it('XDG_CACHE_HOME under /proc → E_CACHE_WRITE, exit 1', async () => {
    const r = await data([], { XDG_CACHE_HOME: '/proc/fmnist-nope', FMNIST_MIRRORS: `${base}/ok/` });
    expectUserError(r, 1, /cannot create the cache directory.*\[E_CACHE_WRITE\]/s);
  });

  it('XDG_CACHE_HOME under a regular file → E_CACHE_WRITE, exit 1', async () => {
    await writeFile(join(home, 'file'), 'x');
    const r = await data([], { XDG_CACHE_HOME: join(home, 'file'), FMNIST_MIRRORS: `${base}/ok/` });
    expectUserError(r, 1, /not a directory.*\[E_CACHE_WRITE\]/s);
  });

  it.skipIf(!isRoot)('a read-only cache (tmpfs mounted ro; root only) → E_CACHE_WRITE, exit 1', async () => {
    const mnt = join(home, 'ro');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mnt]);
    try {
      const r = await data([], { XDG_CACHE_HOME: mnt, FMNIST_MIRRORS: `${base}/ok/` });
      expectUserError(r, 1, /read-only.*\[E_CACHE_WRITE\]/s);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
  it.skipIf(!isRoot || !hasSystem)('a full disk (1 MB tmpfs as the cache; root only) → E_CACHE_WRITE, no part file', async () => {
    const mnt = join(home, 'full');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    try {
      const r = await data([], { XDG_CACHE_HOME: mnt, FMNIST_MIRRORS: `${base}/ok/` });
      expectUserError(r, 1, /the disk is full.*ENOSPC.*\[E_CACHE_WRITE\]/s);
      expect((await readdir(join(mnt, 'fmnist'))).filter((f) => f.endsWith('.part'))).toEqual([]);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
  if (!isRoot) console.warn('data.fault.test: the read-only and full tmpfs cache cases are skipped: mounting needs root');
});

describe('fmnist data: bad data folders (classes 3 and 9)', () => {
  async function folder(): Promise<string> {
    const dir = join(home, 'data');
    await mkdir(dir);
    if (hasSystem)
      for (const k of FILE_KEYS) await symlink(join(SYSTEM, FASHION_MNIST_FILES[k].name), join(dir, FASHION_MNIST_FILES[k].name));
    return dir;
  }

  it('--dir with a FIFO as the labels file → E_NOT_FILE at once, no hang', async () => {
    const dir = await folder();
    const p = join(dir, FASHION_MNIST_FILES.trainLabels.name);
    await rm(p, { force: true });
    execFileSync('mkfifo', [p]);
    const r = await data(['--dir', dir]);
    expectUserError(r, 1, /FIFO \(named pipe\), not a regular file.*\[E_NOT_FILE\]/s);
  });

  it('FMNIST_DATA_DIR with /dev/zero as the images file → E_NOT_FILE', async () => {
    const dir = await folder();
    const p = join(dir, FASHION_MNIST_FILES.testImages.name);
    await rm(p, { force: true });
    await symlink('/dev/zero', p);
    const r = await data([], { FMNIST_DATA_DIR: dir });
    expectUserError(r, 1, /\[E_NOT_FILE\]/);
  });

  it('--dir with a directory as a data file → E_NOT_FILE', async () => {
    const dir = await folder();
    const p = join(dir, FASHION_MNIST_FILES.testLabels.name);
    await rm(p, { force: true });
    await mkdir(p);
    expectUserError(await data(['--dir', dir]), 1, /a directory, not a regular file.*\[E_NOT_FILE\]/s);
  });

  it('--dir naming a FIFO → E_NOT_FOUND: not a directory', async () => {
    const p = join(home, 'pipe');
    execFileSync('mkfifo', [p]);
    expectUserError(await data(['--dir', p]), 1, /not a directory.*\[E_NOT_FOUND\]/s);
  });

  it('--no-verify with a 1 MB file claiming 1,369,568 images → E_SHAPE before inflating', async () => {
    const dir = await folder();
    const header = Buffer.alloc(16);
    header.writeUInt32BE(0x803, 0);
    header.writeUInt32BE(1_369_568, 4);
    header.writeUInt32BE(28, 8);
    header.writeUInt32BE(28, 12);
    const p = join(dir, FASHION_MNIST_FILES.trainImages.name);
    await rm(p, { force: true });
    await writeFile(p, gzipSync(Buffer.concat([header, Buffer.alloc(1 << 20)])));
    expectUserError(await data(['--dir', dir, '--no-verify']), 1, /declares uint8 \[1369568, 28, 28\].*\[E_SHAPE\]/s);
  });
});
