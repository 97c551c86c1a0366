/**
 * Hostile inputs of the built `fmnist` binary found by a review hunt: names that forge output lines, ONNX models that
 * reach the terminal through onnxruntime's logger or read files next to the working directory, weights that overflow
 * float16 or give NaN, a closed output pipe in the middle of training, stale models after a resume, and paths that
 * look like runs or checkpoints without being them. A tiny run (256 images, 1 epoch) made once gives the model.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLASS_NAMES } from '@fmnist/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult, expectUserError, runCli } from './test-cli';

let work: string;
let run: string;
const p = (...parts: string[]) => join(work, ...parts);
const fmnist = (...args: string[]) => runCli(args, { cwd: work, timeoutMs: 60_000 });

// ---- a minimal protobuf writer, for ONNX files the exporter would never write
const varint = (value: number | bigint): Buffer => {
  let n = BigInt(value);
  const out: number[] = [];
  while (n > 127n) {
    out.push(Number(n & 127n) | 128);
    n >>= 7n;
  }
  out.push(Number(n));
  return Buffer.from(out);
};
const key = (field: number, wire: number) => varint((field << 3) | wire);
const bytesField = (field: number, b: Uint8Array | string) => {
  const buf = Buffer.from(b);
  return Buffer.concat([key(field, 2), varint(buf.length), buf]);
};
const intField = (field: number, n: number) => Buffer.concat([key(field, 0), varint(n)]);
const dim = (d: number | string) => bytesField(1, typeof d === 'number' ? intField(1, d) : bytesField(2, d));
// ValueInfoProto { name, type { tensor_type { elem_type FLOAT, shape } } }
const valueInfo = (name: string, dims: (number | string)[]) =>
  Buffer.concat([
    bytesField(1, name),
    bytesField(2, bytesField(1, Buffer.concat([intField(1, 1), bytesField(2, Buffer.concat(dims.map(dim)))]))),
  ]);
/** A foreign model (no fmnist metadata): input [N, 784] → one node → logits [N, 10]. */
function foreignModel(node: Buffer, initializer: Buffer): Buffer {
  const graph = Buffer.concat([
    bytesField(1, node),
    bytesField(2, 'g'),
    bytesField(5, initializer),
    bytesField(11, valueInfo('input', ['N', 784])),
    bytesField(12, valueInfo('logits', ['N', 10])),
  ]);
  return Buffer.concat([
    intField(1, 8),
    bytesField(2, 'test'),
    bytesField(7, graph),
    bytesField(8, Buffer.concat([bytesField(1, ''), intField(2, 13)])),
  ]);
}
/** NodeProto { input, output, name, op_type }. */
const nodeOf = (inputs: string[], output: string, name: string, op: string) =>
  Buffer.concat([...inputs.map((i) => bytesField(1, i)), bytesField(2, output), bytesField(3, name), bytesField(4, op)]);
/** TensorProto { dims, data_type, name, raw_data | external_data + data_location }. */
const tensorOf = (name: string, dims: number[], dataType: number, raw?: Buffer, external?: string) =>
  Buffer.concat([
    ...dims.map((d) => intField(1, d)),
    intField(2, dataType),
    bytesField(8, name),
    ...(raw ? [bytesField(9, raw)] : []),
    ...(external
      ? [
          bytesField(13, Buffer.concat([bytesField(1, 'location'), bytesField(2, external)])),
          bytesField(13, Buffer.concat([bytesField(1, 'length'), bytesField(2, String(784 * 10 * 4))])),
          intField(14, 1),
        ]
      : []),
  ]);
/** The bytes of a model with one more metadata entry (a later entry of the same key replaces the earlier one). */
const withMetadata = (model: Buffer, k: string, v: string) =>
  Buffer.concat([model, bytesField(14, Buffer.concat([bytesField(1, k), bytesField(2, v)]))]);

const ESC = '\u001b';

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run 'pnpm --filter @fmnist/cli build' first.`);
  work = await mkdtemp(join(tmpdir(), 'fmnist-cli-hostile-'));
  run = p('run');
  const r = await runCli(['train', '--subset', '256', '--epochs', '1', '--threads', '1', '--no-report', '--out', run], { cwd: work });
  expect(r.code, r.stderr).toBe(0);
  const { default: sharp } = await import('sharp');
  const shoe = await sharp({ create: { width: 28, height: 28, channels: 3, background: '#000' } })
    .composite([{ input: Buffer.from('<svg width="28" height="28"><rect x="4" y="16" width="20" height="8" fill="#fff"/></svg>') }])
    .png()
    .toBuffer();
  await writeFile(p('shoe.png'), shoe);
  await writeFile(
    p('white.png'),
    await sharp({ create: { width: 40, height: 40, channels: 3, background: '#fff' } })
      .png()
      .toBuffer(),
  );
}, 120_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('names that would forge output lines', () => {
  it('predict: a file name with a newline stays on its one result line', async () => {
    const odd = p('a.png\nfake.png: Bag 100.0%');
    await copyFile(p('shoe.png'), odd);
    const r = await fmnist('predict', join(run, 'model.onnx'), p('shoe.png'), odd);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^a\.png\\nfake\.png: Bag 100\.0%: /);
    expect(r.stdout).not.toMatch(/^fake\.png/m);
  });
  it('predict and eval: class names with a newline or an escape in the model are damaged metadata', async () => {
    const model = readFileSync(join(run, 'model.onnx'));
    const names: string[] = [...CLASS_NAMES];
    names[0] = 'T-shirt\nshoe.png: Sandal 99.9%';
    names[9] = `Ankle${ESC}]0;x\u0007`;
    await writeFile(p('evil-names.onnx'), withMetadata(model, 'class_names', JSON.stringify(names)));
    for (const args of [
      ['predict', p('evil-names.onnx'), p('shoe.png')],
      ['eval', p('evil-names.onnx')],
    ]) {
      const r = await fmnist(...args);
      expectUserError(r, 1, /'class_names\[0\]' must be a class name without control characters.*\[E_NO_METADATA\]/);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain(ESC);
    }
  });
});

describe('ONNX models that reach past their file', () => {
  it("onnxruntime's own log never prints a node name from the model (escape sequences, fake lines)", async () => {
    // A Reshape to [7, 7] fails at run time: onnxruntime logs the node's name, which carries an OSC title, a clear
    // screen and a forged result line.
    const shape = Buffer.alloc(16);
    shape.writeBigInt64LE(7n, 0);
    shape.writeBigInt64LE(7n, 8);
    const name = `r${ESC}]0;PWNED\u0007${ESC}[2J\nfake.png: Bag 100.0%`;
    await writeFile(p('runtime-fail.onnx'), foreignModel(nodeOf(['input', 'S'], 'logits', name, 'Reshape'), tensorOf('S', [2], 7, shape)));
    const r = await fmnist('predict', p('runtime-fail.onnx'), p('shoe.png'));
    expectUserError(r, 1, /runtime-fail\.onnx: onnxruntime failed to run it/);
    expect(r.stderr).not.toContain(ESC);
    expect(r.stderr).not.toMatch(/^fake\.png/m);
    expect(r.stdout).toBe('');
  });
  it('a model whose weights live in an external file is refused, even when that file sits in the working directory', async () => {
    const cwd = p('cwd-with-secret');
    await mkdir(cwd);
    await writeFile(join(cwd, 'secret.bin'), Buffer.alloc(784 * 10 * 4, 1));
    await writeFile(
      p('external.onnx'),
      foreignModel(nodeOf(['input', 'W'], 'logits', 'mm', 'MatMul'), tensorOf('W', [784, 10], 1, undefined, 'secret.bin')),
    );
    for (const dir of [cwd, work]) {
      const r = await runCli(['predict', p('external.onnx'), p('shoe.png')], { cwd: dir, timeoutMs: 60_000 });
      expectUserError(
        r,
        1,
        /external\.onnx: The model keeps tensor "W" in an external file \("secret\.bin"\); only self-contained models are read/,
      );
      expect(r.stdout).toBe('');
    }
  });
  it('predict refuses a model that gives NaN instead of printing a class', async () => {
    const nan = Buffer.alloc(784 * 10 * 4);
    for (let i = 0; i < 784 * 10; i++) nan.writeFloatLE(Number.NaN, 4 * i);
    await writeFile(p('nan.onnx'), foreignModel(nodeOf(['input', 'W'], 'logits', 'mm', 'MatMul'), tensorOf('W', [784, 10], 1, nan)));
    for (const args of [[], ['--json']]) {
      const r = await fmnist('predict', p('nan.onnx'), p('shoe.png'), ...args);
      expectUserError(r, 1, /nan\.onnx: the model gives NaN for image 1 of 1 .*NaN or infinite values/);
      expect(r.stdout).toBe('');
    }
  });
  it('an .onnx file over 512 MiB is refused from its size, without reading it', async () => {
    await writeFile(p('huge.onnx'), '');
    await truncate(p('huge.onnx'), 600 * 2 ** 20); // sparse: no disk used
    const r = await fmnist('predict', p('huge.onnx'), p('shoe.png'));
    expectUserError(r, 1, /huge\.onnx: 629,145,600 bytes, more than the 512 MiB read for a model/);
  });
});

describe('export --fp16 of weights float16 cannot hold', () => {
  it('is refused naming the tensor; float32 and int8 still export the same checkpoint', async () => {
    const { loadCheckpoint, saveCheckpoint } = await import('@fmnist/model');
    const ckpt = await loadCheckpoint(join(run, 'checkpoint'));
    (ckpt.params['embed.weight'] as Float32Array)[0] = 1e6;
    await saveCheckpoint(p('big-weights'), ckpt);
    const r = await fmnist('export', p('big-weights'), '--fp16', '-o', p('big16.onnx'));
    expectUserError(r, 1, /Parameter 'embed\.weight' holds 1000000 at index 0, beyond float16's range .*\[E_NON_FINITE\]/);
    expect(existsSync(p('big16.onnx'))).toBe(false);
    expect((await fmnist('export', p('big-weights'), '-o', p('big32.onnx'))).code).toBe(0);
    expect((await fmnist('export', p('big-weights'), '--int8', '-o', p('big8.onnx'))).code).toBe(0);
  });
});

describe('training when the reader of its output goes away (fmnist train | head)', () => {
  it('stops like at Ctrl-C: exit 130, the run marked aborted, a checkpoint and a model of the same weights', async () => {
    const dir = p('piped');
    const child = spawn(
      process.execPath,
      [BIN, 'train', '--subset', '512', '--epochs', '3', '--threads', '1', '--no-report', '--out', dir],
      {
        cwd: work,
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // Like `head -1`: read the first line, then close the pipe.
    child.stderr?.once('data', () => child.stderr?.destroy());
    const result = await new Promise<Pick<CliResult, 'code' | 'signal'>>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    expect(result.code).toBe(130);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.status).toBe('aborted');
    expect(existsSync(join(dir, 'model.onnx'))).toBe(true);
    const resumed = await fmnist('train', '--resume', dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).status).toBe('completed');
  }, 120_000);
});

describe('a resume and the model of the previous stop', () => {
  it('the old model.onnx and report are removed before training moves the checkpoint on (a kill -9 leaves none stale)', async () => {
    const dir = p('resumed');
    await cp(run, dir, { recursive: true });
    const child = spawn(process.execPath, [BIN, 'train', '--resume', dir, '--epochs', '5', '--threads', '1'], {
      cwd: work,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    const closed = new Promise((resolve) => child.on('close', resolve));
    const t0 = Date.now();
    while (!/Resuming from the checkpoint/.test(stderr) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
    expect(stderr).toMatch(/Removed model\.onnx(, [a-z.-]+)* of the previous stop/);
    process.kill(-(child.pid as number), 'SIGKILL');
    await closed;
    expect(existsSync(join(dir, 'model.onnx'))).toBe(false);
    // eval of the run now evaluates its checkpoint (the current weights), and export rebuilds the model.
    const ev = await fmnist('eval', dir);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stderr).toMatch(/resumed\/checkpoint on 10,000 test images/);
    expect((await fmnist('export', dir)).code).toBe(0);
    expect(existsSync(join(dir, 'model.onnx'))).toBe(true);
  }, 120_000);
});

describe('paths that look like runs or checkpoints', () => {
  it("train --out a folder whose 'checkpoint' is a file: refused before any training", async () => {
    const dir = p('notes');
    await mkdir(dir);
    await writeFile(join(dir, 'checkpoint'), 'my notes');
    await writeFile(join(dir, 'todo.txt'), 'x');
    const r = await fmnist('train', '--subset', '256', '--epochs', '1', '--out', dir);
    expectUserError(r, 1, /notes: a folder whose 'checkpoint' is a regular file, not the run's checkpoint folder/);
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
    expect(readFileSync(join(dir, 'checkpoint'), 'utf8')).toBe('my notes');
  });
  it('a checkpoint folder reached through a symbolic link still resumes', async () => {
    const dir = p('linked');
    await mkdir(dir);
    await cp(join(run, 'checkpoint'), p('elsewhere-ckpt'), { recursive: true });
    await copyFile(join(run, 'config.json'), join(dir, 'config.json'));
    execFileSync('ln', ['-s', p('elsewhere-ckpt'), join(dir, 'checkpoint')]);
    const r = await fmnist('train', '--resume', dir, '--epochs', '2');
    expect(r.code, r.stderr).toBe(0);
  });
  it.each([
    ['eval', 'notes.json'],
    ['export', 'notes.json'],
    ['eval', 'config.json'],
  ])('%s of a .json that is not checkpoint.json is refused, not swapped for the checkpoint beside it', async (cmd, name) => {
    const dir = p(`json-${cmd}-${name}`);
    await cp(run, dir, { recursive: true });
    await writeFile(join(dir, 'notes.json'), '{"not":"a checkpoint"}');
    const r = await fmnist(cmd, join(dir, name), ...(cmd === 'export' ? ['-o', p(`${cmd}.onnx`)] : []));
    expectUserError(r, 1, new RegExp(`${name.replace('.', '\\.')}: not a checkpoint\\. Pass a run directory`));
  });
});

describe('predict of a blank picture', () => {
  it('warns that the class is a guess, and says so in --json', async () => {
    const r = await fmnist('predict', join(run, 'model.onnx'), p('white.png'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the picture is blank/);
    expect(JSON.parse(r.stdout).predictions[0].blank).toBe(true);
    const garment = await fmnist('predict', join(run, 'model.onnx'), p('shoe.png'), '--json');
    expect(garment.stderr).not.toMatch(/blank/);
    expect(JSON.parse(garment.stdout).predictions[0].blank).toBeUndefined();
  });
});
