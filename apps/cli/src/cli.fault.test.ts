/**
 * Fault cases of the built `fmnist` binary (issue 16, classes 8, 9 and 11): every user-caused fault is a one-line
 * error with exit status 1 or 2, never a stack frame or "unexpected error". A tiny run (256 images, 1 epoch) made once
 * in beforeAll gives the model and checkpoint.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, expectUserError, runCli } from './test-cli';

let work: string;
let run: string;
const p = (...parts: string[]) => join(work, ...parts);

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run 'pnpm --filter @fmnist/cli build' first.`);
  work = await mkdtemp(join(tmpdir(), 'fmnist-cli-fault-'));
  run = p('run');
  const r = await runCli(['train', '--subset', '256', '--epochs', '1', '--threads', '1', '--no-report', '--out', run], { cwd: work });
  expect(r.code, r.stderr).toBe(0);
  execFileSync('mkfifo', [p('fifo')]);
  await mkdir(p('dir'));
  await writeFile(p('afile'), 'x');
  await writeFile(p('text.jpg'), 'not a picture at all');
}, 120_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const fmnist = (...args: string[]) => runCli(args, { cwd: work, timeoutMs: 30_000 });

describe('numeric flags: exit 2 naming the flag', () => {
  const flags: [string[], string][] = [
    [['train'], '--epochs'],
    [['train'], '--batch-size'],
    [['train'], '--lr'],
    [['train'], '--weight-decay'],
    [['train'], '--seed'],
    [['train'], '--threads'],
    [['train'], '--checkpoint-every'],
    [['train'], '--eval-every'],
    [['train'], '--subset'],
    [['bench'], '--seconds'],
    [['bench'], '--threads'],
    [['bench'], '--batch-size'],
    [['data'], '--preview'],
  ];
  const bad = ['0x10', '-1', '1e400', 'NaN', '', '99999999999999999999'];
  const cases = flags.flatMap(([cmd, flag]) => bad.map((v) => [cmd[0] as string, flag, v] as const));
  it.each(cases)('%s %s %j', async (cmd, flag, value) => {
    const r = await fmnist(cmd, flag, value);
    expectUserError(r, 2, new RegExp(`option '${flag} <[a-z]+>' argument '${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' is invalid`));
  });
  it.each([
    ['--threads', '1000', /from 1 to \d+/],
    ['--batch-size', '100000', /from 1 to 1,024/],
    ['--epochs', '1.5', /not a whole number/],
    ['--lr', '0x10', /plain decimal digits only/],
  ])('train %s %s states the bound', async (flag, value, message) => {
    expectUserError(await fmnist('train', flag, value), 2, message);
  });
  it('--batch-size beyond the (subset) training images: exit 2 with the bound, before any training', async () => {
    const r = await fmnist('train', '--subset', '256', '--batch-size', '512', '--out', p('big-batch'));
    expectUserError(r, 2, /--batch-size 512 is larger than the 256 training images of --subset: use at most 256/);
    expect(existsSync(p('big-batch'))).toBe(false);
  });
});

describe('input paths: missing, directory, FIFO, device, /proc', () => {
  const bad = (): [string, string, RegExp][] => [
    ['missing', p('nope'), /no such file or directory \(ENOENT\)/],
    ['FIFO', p('fifo'), /a FIFO \(named pipe\), not /],
    ['/dev/zero', '/dev/zero', /a character device, not /],
    ['/proc file', '/proc/self/status', /on procfs \(\/proc\)/],
  ];
  it.each(['missing', 'FIFO', '/dev/zero', '/proc file', 'directory'])('predict image: %s', async (kind) => {
    const [, path, message] = [...bad(), ['directory', p('dir'), /a directory, not an image file/] as [string, string, RegExp]].find(
      ([k]) => k === kind,
    ) as [string, string, RegExp];
    expectUserError(await fmnist('predict', join(run, 'model.onnx'), path), 1, message);
  });
  it.each(['missing', 'FIFO', '/dev/zero', '/proc file'])('predict model: %s', async (kind) => {
    const [, path, message] = bad().find(([k]) => k === kind) as [string, string, RegExp];
    expectUserError(await fmnist('predict', path, '--test-index', '0'), 1, message);
  });
  it.each(['missing', 'FIFO', '/dev/zero', '/proc file'])('eval model: %s', async (kind) => {
    const [, path, message] = bad().find(([k]) => k === kind) as [string, string, RegExp];
    expectUserError(await fmnist('eval', path), 1, message);
  });
  it.each(['missing', 'FIFO', '/dev/zero', '/proc file'])('export checkpoint: %s', async (kind) => {
    const [, path, message] = bad().find(([k]) => k === kind) as [string, string, RegExp];
    expectUserError(await fmnist('export', path), 1, message);
  });
  it('a FIFO as checkpoint.json inside a checkpoint directory', async () => {
    await mkdir(p('fifo-ckpt'));
    execFileSync('mkfifo', [p('fifo-ckpt', 'checkpoint.json')]);
    expectUserError(await fmnist('export', p('fifo-ckpt')), 1, /checkpoint\.json: a FIFO/);
  });
  it.each([
    ['a truncated JPEG', 'trunc.jpg'],
    ['text named .jpg', 'text.jpg'],
  ])('predict: %s is a one-line decode error naming the file', async (_what, name) => {
    if (name === 'trunc.jpg') {
      const { default: sharp } = await import('sharp');
      const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } })
        .jpeg()
        .toBuffer();
      await writeFile(p(name), jpeg.subarray(0, jpeg.length >> 1));
    }
    expectUserError(
      await fmnist('predict', join(run, 'model.onnx'), p(name)),
      1,
      // A file with a JPEG's first bytes reaches the decoder; text is refused by its first bytes before.
      new RegExp(`${name.replace('.', '\\.')}: (cannot decode it as an image|not an image \\()`),
    );
  });
  it('train --resume of a FIFO', async () => {
    expectUserError(await fmnist('train', '--resume', p('fifo')), 1, /--resume .*fifo: a FIFO \(named pipe\), not a run directory/);
  });
});

describe('paths without permission (as user nobody)', () => {
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) console.log('skipping the permission cases: they run the CLI as user nobody, which needs root');
  const nobody = (...args: string[]) => runCli(args, { cwd: work, timeoutMs: 30_000, uid: 65534, gid: 65534 });
  it.runIf(asRoot)('predict an unreadable image', async () => {
    const { chmod, copyFile } = await import('node:fs/promises');
    await chmod(work, 0o755);
    await copyFile(join(run, 'model.onnx'), p('open.onnx'));
    await chmod(p('open.onnx'), 0o644);
    await writeFile(p('secret.png'), 'x', { mode: 0o600 });
    expectUserError(
      await nobody('predict', p('open.onnx'), p('secret.png')),
      1,
      /secret\.png: cannot be read: permission denied \(EACCES\)/,
    );
  });
  it.runIf(asRoot)('--preview-out into a folder without write permission', async () => {
    const { chmod } = await import('node:fs/promises');
    await mkdir(p('locked'), { mode: 0o755 });
    await chmod(p('locked'), 0o755);
    expectUserError(
      await nobody('data', '--preview', '2', '--preview-out', p('locked', 'x.png')),
      1,
      /cannot write in .*locked: permission denied \(EACCES\)/,
    );
  });
});

describe('output paths', () => {
  it.each([
    [
      'data --preview-out into a missing folder',
      ['data', '--preview', '2', '--preview-out'],
      'nope/x.png',
      /the folder .*nope does not exist/,
    ],
    ['data --preview-out a directory', ['data', '--preview', '2', '--preview-out'], 'dir', /a directory, not a file fmnist can write/],
    ['data --preview-out a FIFO', ['data', '--preview', '2', '--preview-out'], 'fifo', /a FIFO \(named pipe\), not a file/],
    ['data --preview-out under /proc', ['data', '--preview', '2', '--preview-out'], '/proc/self/x.png', /procfs/],
    ['eval --svg into a missing folder', ['eval', 'RUN', '--svg'], 'nope/c.svg', /the folder .*nope does not exist/],
    ['eval --png /dev/zero', ['eval', 'RUN', '--png'], '/dev/zero', /a character device, not a file/],
    ['export -o under /proc', ['export', 'RUN', '-o'], '/proc/x.onnx', /procfs/],
    ['export -o below a file', ['export', 'RUN', '-o'], 'afile/x.onnx', /ENOTDIR/],
    ['export -o a directory', ['export', 'RUN', '-o'], 'dir', /a directory, not a file/],
    ['train --out an existing file', ['train', '--subset', '256', '--out'], 'afile', /a regular file, not a run directory/],
    ['train --out under /proc', ['train', '--subset', '256', '--out'], '/proc/fmnist-run', /procfs/],
    ['train --out /sys', ['train', '--subset', '256', '--out'], '/sys/kernel/fmnist', /sysfs/],
    ['train --out a folder of other files', ['train', '--subset', '256', '--out'], '.', /holds \d+ other files and no run/],
  ])('%s', async (_what, args, target, message) => {
    const path = target.startsWith('/') ? target : p(target);
    const r = await fmnist(...args.map((a) => (a === 'RUN' ? run : a)), path);
    expectUserError(r, 1, message);
  });
});

describe('small ones', () => {
  it('eval on a test set of 0 images is an error, not "accuracy –"', async () => {
    const dir = p('empty-test');
    await mkdir(dir);
    const src = '/usr/share/datasets/fashion-mnist';
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']) execFileSync('cp', [join(src, f), dir]);
    const { gzipSync } = await import('node:zlib');
    const header = (magic: number, dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b.writeUInt32BE(magic, 0);
      for (const [i, d] of dims.entries()) b.writeUInt32BE(d, 4 + 4 * i);
      return gzipSync(b);
    };
    await writeFile(join(dir, 't10k-images-idx3-ubyte.gz'), header(0x803, [0, 28, 28]));
    await writeFile(join(dir, 't10k-labels-idx1-ubyte.gz'), header(0x801, [0]));
    const r = await fmnist('eval', join(run, 'model.onnx'), '--dir', dir);
    expectUserError(r, 1);
    expect(r.stderr).not.toMatch(/accuracy –/);
  });
  it('the resume hint is shell-quoted', async () => {
    const odd = p("it's $HOME run");
    const r = await runCli(['train', '--subset', '256', '--epochs', '1', '--threads', '1', '--no-report', '--no-export', '--out', odd], {
      cwd: work,
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`continue with: fmnist train --resume 'it'\\''s $HOME run'`);
  }, 90_000);
});
