/**
 * Faults of run directories, through the built binary (classes 4 and 5 of the hardening issue): `kill -9` at many
 * points of the files a run writes, then resume, and the result equals an uninterrupted run bit for bit; concurrent
 * writers refused; stale locks taken over; damaged or lost config.json; damaged checkpoints given to export/eval.
 * Tiny runs: 512 images, 2 epochs, one thread.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, type FSWatcher, watch } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors } from '@fmnist/model/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RUN_LOCK_FILE } from '../run-lock';
import { BIN, type CliResult, expectUserError, runCli } from '../test-cli';

const TINY = ['--subset', '512', '--epochs', '2', '--batch-size', '64', '--threads', '1', '--seed', '3', '--eval-every', '2'];
const QUIET = ['--no-report', '--no-export'];

let work: string;
let reference: { weights: Buffer; losses: number[] };
const children = new Set<ChildProcess>();

/** Starts the binary and keeps hold of it (for the tests that act while it runs). */
function start(args: string[], extraEnv: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult>; stderr: () => string } {
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true', ...extraEnv };
  const child = spawn(process.execPath, [BIN, ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut: false });
    }),
  );
  return { child, done, stderr: () => stderr };
}

const killGroup = (child: ChildProcess) => {
  try {
    process.kill(-(child.pid as number), 'SIGKILL');
  } catch {}
};

/** Resolves once `test()` holds, checking whenever the run directory changes (and at least every 100 ms). */
async function until(test: () => boolean, what: string, done: Promise<unknown>): Promise<void> {
  let finished = false;
  done.then(() => (finished = true));
  while (!test()) {
    if (finished) throw new Error(`the process ended before ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const fmnist = (args: string[]) => runCli(args, { cwd: work, timeoutMs: 120_000 });

const lossesOf = async (run: string): Promise<number[]> =>
  (
    JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8')).history as { trainLoss: number; testLoss?: number }[]
  ).flatMap((e) => [e.trainLoss, e.testLoss ?? -1]);

/** Every file left in a run directory, recursively. */
async function filesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await filesIn(join(dir, e.name))).map((f) => `${e.name}/${f}`));
    else out.push(e.name);
  }
  return out;
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run 'pnpm --filter @fmnist/cli build' first.`);
  work = await mkdtemp(join(tmpdir(), 'fmnist-run-faults-'));
  const ref = join(work, 'reference');
  const r = await fmnist(['train', ...TINY, '--out', ref]);
  expect(r.code, r.stderr).toBe(0);
  reference = { weights: await readFile(join(ref, 'checkpoint', 'model.safetensors')), losses: await lossesOf(ref) };
});
afterEach(() => {
  for (const c of children) killGroup(c);
});
afterAll(async () => {
  for (const c of children) killGroup(c);
  if (work) await rm(work, { recursive: true, force: true });
});

describe('kill -9 while a run writes its files, then resume', () => {
  // Killed the moment the temporary file of each kind of write appears (config.json at the start, the first step's
  // tensors, checkpoint.json, metrics, a chart, the report, the ONNX model), or at the n-th change in the directory.
  const KILL_AT: (string | number)[] = [
    '.config.json.',
    '.model.step',
    '.checkpoint.json.',
    '.metrics.csv.',
    '.curves.png.',
    '.report.html.',
    '.model.onnx.',
    45,
  ];
  const ARTIFACTS = ['per-class.csv', 'curves.svg', 'curves.png', 'confusion.svg', 'confusion.png', 'report.html', 'model.onnx'];
  let killed = 0;
  for (const at of KILL_AT) {
    const what = typeof at === 'number' ? `the ${at}th file-system change` : `the write of ${at.replace(/^\.|\.$/g, '')}`;
    it(`killed at ${what} → the resume completes, equal to the uninterrupted run bit for bit`, async () => {
      const run = join(work, `kill-${String(at).replace(/\W/g, '')}`);
      await mkdir(run);
      let changes = 0;
      let a: ReturnType<typeof start> | undefined;
      // The watcher is in place before the process starts, so the first write (config.json at the start) is never
      // missed on a loaded machine; a hit before the child exists cannot happen (the directory is empty until then).
      const watcher: FSWatcher = watch(run, { recursive: true }, () => {
        changes++;
        // The named writes kill themselves at the exact moment (FMNIST_TEST_KILL_AT_WRITE, below): a signal sent from
        // here can land after a fast run has already finished.
        if (typeof at === 'number' && changes === at && a) killGroup(a.child);
      });
      await new Promise((r) => setTimeout(r, 100));
      a = start(
        ['train', ...TINY, '--checkpoint-every', '3', '--out', run],
        typeof at === 'string' ? { FMNIST_TEST_KILL_AT_WRITE: at } : {},
      );
      const ra = await a.done;
      watcher.close();
      if (ra.signal === 'SIGKILL') killed++;
      else expect(ra.code, ra.stderr).toBe(0);
      // Resume (or, killed before config.json existed, start the same run again: the stale lock is taken over).
      // (--threads is not a setting a run keeps; one thread, as before, keeps the sums in the same order.)
      const again = existsSync(join(run, 'config.json')) ? ['train', '--resume', run, '--threads', '1'] : ['train', ...TINY, '--out', run];
      const rb = await fmnist(again);
      expect(rb.code, `${ra.stderr}\n---\n${rb.stderr}`).toBe(0);
      if (ra.signal === 'SIGKILL') expect(rb.stderr).toMatch(/Took over the lock of an earlier fmnist train \(pid \d+/);
      expect(await lossesOf(run)).toEqual(reference.losses);
      expect(await readFile(join(run, 'checkpoint', 'model.safetensors'))).toEqual(reference.weights);
      expect(JSON.parse(await readFile(join(run, 'config.json'), 'utf8')).status).toBe('completed');
      // Every file there, nothing left of the killed writes, and the lock is gone.
      expect((await filesIn(run)).sort()).toEqual(
        [
          'config.json',
          'metrics.csv',
          'metrics.jsonl',
          ...ARTIFACTS,
          'checkpoint/checkpoint.json',
          'checkpoint/model.safetensors',
          'checkpoint/model.step16.safetensors',
          'checkpoint/optimizer.step16.safetensors',
        ].sort(),
      );
    });
  }
  it('every trial really was killed mid-run', () => {
    expect(killed).toBe(KILL_AT.length);
  });

  it('leftovers of killed writes (.tmp files) and an emptied config.json are repaired on resume, and it says so', async () => {
    const run = join(work, 'leftovers');
    await cp(join(work, 'reference'), run, { recursive: true });
    // Roll the checkpoint back one epoch is not possible by hand; instead ask for a third epoch.
    await writeFile(join(run, 'config.json'), '');
    await writeFile(join(run, '.config.json.4242.0badc0de.tmp'), '{"format": "fmnist-r');
    await writeFile(join(run, 'checkpoint', '.model.step24.safetensors.4242.deadbeef.tmp'), new Uint8Array(100));
    const r = await fmnist(['train', '--resume', run, '--epochs', '3', '--threads', '1', ...QUIET]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/config\.json is empty: rebuilding it from the checkpoint's own record/);
    expect(r.stderr).toMatch(/Removed 2 temporary files left by an interrupted write/);
    expect(r.stderr).toMatch(/Resuming from the checkpoint after epoch 2/);
    expect((await filesIn(run)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8'));
    expect(config.settings).toMatchObject({ subset: 512, batchSize: 64, seed: 3, evalEvery: 2, epochs: 3 });
    expect(config.status).toBe('completed');
  });

  it('killed after training but before the report and model: resume writes them without training again', async () => {
    const run = join(work, 'artifacts');
    await cp(join(work, 'reference'), run, { recursive: true });
    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8'));
    await writeFile(join(run, 'config.json'), JSON.stringify({ ...config, status: 'running' }));
    for (const f of ['report.html', 'model.onnx', 'curves.png', 'confusion.svg']) await rm(join(run, f));
    const r = await fmnist(['train', '--resume', run, '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/epoch \d\/2 {2}train loss/);
    for (const f of ['report.html', 'model.onnx', 'curves.png', 'confusion.svg']) expect(existsSync(join(run, f)), f).toBe(true);
    expect(await readFile(join(run, 'checkpoint', 'model.safetensors'))).toEqual(reference.weights);
    // Finished now: another resume is refused as before.
    expectUserError(await fmnist(['train', '--resume', run]), 2, /already finished 2 of 2 epochs/);
  });
});

describe('concurrent writers', () => {
  it('a second train into a run that is training, and a resume of it, are refused; after kill -9 the lock is taken over', async () => {
    const run = join(work, 'busy');
    const a = start(['train', '--subset', '512', '--epochs', '200', '--eval-every', '200', '--threads', '1', ...QUIET, '--out', run]);
    await until(() => existsSync(join(run, 'config.json')), 'config.json was written', a.done);
    const pid = a.child.pid as number;
    const second = await fmnist(['train', ...TINY, ...QUIET, '--out', run]);
    expectUserError(second, 1, new RegExp(`is in use: another fmnist train \\(pid ${pid} on this host.*\\[E_RUN_LOCKED\\]`));
    const resume = await fmnist(['train', '--resume', run]);
    expectUserError(resume, 1, new RegExp(`pid ${pid} on this host.*Wait for it to finish or stop it \\(Ctrl-C\\)`));
    expect(a.child.exitCode).toBeNull(); // the first one trains on, untouched
    killGroup(a.child);
    expect((await a.done).signal).toBe('SIGKILL');
    expect(existsSync(join(run, RUN_LOCK_FILE))).toBe(true);
    // Stale now: a resume takes over (for one epoch more than the checkpoint has, to stay short).
    const ckpt = join(run, 'checkpoint', 'checkpoint.json');
    const done = existsSync(ckpt) ? (JSON.parse(await readFile(ckpt, 'utf8')).epoch as number) : 0;
    const r = await fmnist(['train', '--resume', run, '--epochs', String(done + 1), '--threads', '1', ...QUIET]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`Took over the lock of an earlier fmnist train \\(pid ${pid}, since .*\\), which is no longer running`),
    );
    expect(existsSync(join(run, RUN_LOCK_FILE))).toBe(false);
  });

  it('a lock held on another host is refused with how to clear it', async () => {
    const run = join(work, 'foreign');
    await mkdir(run);
    await writeFile(
      join(run, RUN_LOCK_FILE),
      JSON.stringify({ pid: 77, hostname: `not-${hostname()}`, since: '2026-01-01', command: 'x' }),
    );
    expectUserError(
      await fmnist(['train', ...TINY, ...QUIET, '--out', run]),
      1,
      /pid 77 on host .*If that process is gone, delete .*\.fmnist-train\.lock/,
    );
  });

  it('--out below a regular file → one line, exit 1, no stack', async () => {
    const file = join(work, 'a-file');
    await writeFile(file, 'x');
    expectUserError(
      await fmnist(['train', ...TINY, '--out', join(file, 'run')]),
      1,
      /--out .*a-file\/run: a part of the path is not a directory \(ENOTDIR\)/,
    );
  });

  it('a failed fresh run leaves neither its directory nor a lock behind', async () => {
    const run = join(work, 'no-data');
    const r = await fmnist(['train', ...TINY, '--out', run, '--dir', join(work, 'nowhere')]);
    expect(r.code).not.toBe(0);
    expect(existsSync(run)).toBe(false);
  });
});

describe('damaged run files (CLI)', () => {
  let base: string;
  beforeAll(async () => {
    base = join(work, 'damaged-base');
    await cp(join(work, 'reference'), base, { recursive: true });
  });
  let k = 0;
  const copy = async () => {
    const run = join(work, `damaged-${k++}`);
    await cp(base, run, { recursive: true });
    return run;
  };
  const editJson = async (file: string, edit: (doc: Record<string, unknown>) => void) => {
    const doc = JSON.parse(await readFile(file, 'utf8'));
    edit(doc);
    await writeFile(file, JSON.stringify(doc));
  };

  const configCases: [string, (d: Record<string, unknown>) => void, RegExp][] = [
    [
      'negative epochs',
      (d) => Object.assign(d.settings as object, { epochs: -4 }),
      /field 'settings\.epochs' must be an integer in \[1, 1000000\], got -4/,
    ],
    ['a string epoch count', (d) => Object.assign(d.settings as object, { epochs: '5' }), /field 'settings\.epochs'.*got "5"/],
    ['a negative subset', (d) => Object.assign(d.settings as object, { subset: -1 }), /field 'settings\.subset'/],
    ['null settings', (d) => Object.assign(d, { settings: null }), /field 'settings' must be an object, got null/],
    ['a huge batch', (d) => Object.assign(d.settings as object, { batchSize: 1e12 }), /field 'settings\.batchSize'/],
    ['an unknown preset', (d) => Object.assign(d.settings as object, { preset: '<script>' }), /field 'settings\.preset'/],
  ];
  for (const [name, edit, message] of configCases) {
    it(`config.json with ${name} → exit 1, E_RUN_CONFIG_CORRUPT naming the field`, async () => {
      const run = await copy();
      await editJson(join(run, 'config.json'), edit);
      const r = await fmnist(['train', '--resume', run, '--epochs', '3']);
      expectUserError(r, 1, message);
      expect(r.stderr).toMatch(/delete config\.json to rebuild it from the checkpoint\. \[E_RUN_CONFIG_CORRUPT\]/);
    });
  }

  it('config.json of another batch size than its checkpoint → E_RUN_MISMATCH', async () => {
    const run = await copy();
    await editJson(join(run, 'config.json'), (d) => Object.assign(d.settings as object, { batchSize: 128 }));
    expectUserError(
      await fmnist(['train', '--resume', run, '--epochs', '3']),
      1,
      /'settings\.batchSize' is 128, but the checkpoint .* records 64.*\[E_RUN_MISMATCH\]/,
    );
  });

  it('config.json of another subset than its checkpoint → E_RUN_MISMATCH', async () => {
    const run = await copy();
    await editJson(join(run, 'config.json'), (d) => Object.assign(d.settings as object, { subset: 600 }));
    expectUserError(await fmnist(['train', '--resume', run, '--epochs', '3']), 1, /'settings\.subset' gives 600 .* trained on 512/);
  });

  const ckptCases: [string, (d: Record<string, unknown>) => void, RegExp][] = [
    ['negative epoch', (d) => Object.assign(d, { epoch: -4 }), /field 'epoch' must be an integer/],
    ['a string epoch', (d) => Object.assign(d, { epoch: '2' }), /field 'epoch'/],
    ['null history', (d) => Object.assign(d, { history: null }), /field 'history'/],
    ['null RNG state', (d) => Object.assign(d, { rng: null }), /field 'rng'/],
    ['a path outside as weights', (d) => Object.assign(d.files as object, { weights: '../../../../etc/passwd' }), /field 'files\.weights'/],
  ];
  for (const [name, edit, message] of ckptCases) {
    it(`checkpoint.json with ${name} → resume, export and eval refuse with E_CHECKPOINT_CORRUPT`, async () => {
      const run = await copy();
      await editJson(join(run, 'checkpoint', 'checkpoint.json'), edit);
      for (const args of [
        ['train', '--resume', run, '--epochs', '3'],
        ['export', run],
      ]) {
        const r = await fmnist(args);
        expectUserError(r, 1, message);
        expect(r.stderr).toMatch(/\[E_CHECKPOINT_CORRUPT\]/);
      }
    });
  }

  it('NaN weights: export and eval refuse (E_NON_FINITE), as does resume', async () => {
    const run = await copy();
    const ckpt = JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
    const file = join(run, 'checkpoint', ckpt.files.weights);
    const { tensors, metadata } = decodeSafetensors(await readFile(file));
    const [name] = Object.keys(tensors);
    (tensors[name as string]?.data as Float32Array)[0] = Number.NaN;
    await writeFile(file, encodeSafetensors(tensors, metadata));
    for (const args of [
      ['export', run],
      ['eval', join(run, 'checkpoint')],
      ['train', '--resume', run, '--epochs', '3'],
    ]) {
      const r = await fmnist(args);
      expectUserError(r, 1, new RegExp(`tensor '${name?.replace(/\./g, '\\.')}' holds NaN at index 0.*\\[E_NON_FINITE\\]`));
    }
  });

  it('an ONNX model whose weights were patched to NaN: eval refuses instead of reporting an accuracy', async () => {
    const run = await copy();
    const bytes = await readFile(join(run, 'model.onnx'));
    // Overwrite the float32 raw data of the first head weight we can find by value with NaN.
    const ckpt = await readFile(join(run, 'checkpoint', 'model.safetensors'));
    const { tensors } = decodeSafetensors(ckpt);
    const bias = tensors['head.bias']?.data as Float32Array;
    const needle = Buffer.from(bias.buffer, bias.byteOffset, bias.byteLength);
    const at = bytes.indexOf(needle);
    expect(at).toBeGreaterThan(0);
    bytes.writeFloatLE(Number.NaN, at);
    await writeFile(join(run, 'model.onnx'), bytes);
    expectUserError(
      await fmnist(['eval', join(run, 'model.onnx')]),
      1,
      /model\.onnx: the model gives NaN for test image 0 .*NaN or infinite values/,
    );
  });

  it('a symlink escaping the checkpoint directory → E_CHECKPOINT_CORRUPT', async () => {
    const run = await copy();
    const ckpt = JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
    const file = join(run, 'checkpoint', ckpt.files.optimizer);
    await rm(file);
    await symlink('/etc/passwd', file);
    expectUserError(await fmnist(['train', '--resume', run, '--epochs', '3']), 1, /field 'files\.optimizer' .*outside/);
  });

  it.skipIf(process.platform === 'win32')('FIFOs as config.json or checkpoint.json are refused at once', async () => {
    const a = await copy();
    await rm(join(a, 'config.json'));
    execFileSync('mkfifo', [join(a, 'config.json')]);
    expectUserError(
      await fmnist(['train', '--resume', a, '--epochs', '3']),
      1,
      /config\.json: not a regular file.*\[E_RUN_CONFIG_CORRUPT\]/,
    );
    const b = await copy();
    await rm(join(b, 'checkpoint', 'checkpoint.json'));
    execFileSync('mkfifo', [join(b, 'checkpoint', 'checkpoint.json')]);
    expectUserError(await fmnist(['export', b]), 1, /checkpoint\.json: a FIFO \(named pipe\), not a checkpoint\.json file/);
  });

  it('a lost config.json without any checkpoint: nothing to resume, clearly', async () => {
    const run = join(work, 'lost-nothing');
    await mkdir(run);
    await writeFile(join(run, 'config.json'), '{"format": "fmnist-run", "vers');
    expectUserError(
      await fmnist(['train', '--resume', run]),
      1,
      /is not valid JSON .* has no checkpoint yet, so there is nothing to resume/,
    );
  });
});
