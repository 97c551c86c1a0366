/**
 * End-to-end tests: the built binary (dist/bin.js) run as a subprocess on the real dataset. `pnpm test` builds first
 * (turbo's `test` depends on `build`). Training runs on small subsets to keep the suite near a minute.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getImage, loadFashionMnist } from '@fmnist/data';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetricsCsv } from './metrics';

/** The version of @fmnist/model in the workspace: what the run must record. */
const modelVersion = (
  JSON.parse(readFileSync(new URL('../../../packages/model/package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let work: string;
const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true' };

function start(args: string[]): { child: ChildProcess; done: Promise<Result>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const done = new Promise<Result>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

const fmnist = (...args: string[]): Promise<Result> => start(args).done;

async function waitFor(read: () => string, pattern: RegExp, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!pattern.test(read())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${pattern}; stderr so far:\n${read()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run 'pnpm build' (or 'pnpm --filter @fmnist/cli build') first.`);
  work = await mkdtemp(join(tmpdir(), 'fmnist-cli-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('help, version and usage errors', () => {
  it('--help lists every command with examples and exits 0', async () => {
    const r = await fmnist('--help');
    expect(r.code).toBe(0);
    for (const cmd of ['data', 'train', 'eval', 'export', 'predict', 'bench']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    expect(r.stdout).toContain('Examples:');
  });

  it.each(['data', 'train', 'eval', 'export', 'predict', 'bench'])('%s --help has a description and examples', async (cmd) => {
    const r = await fmnist(cmd, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: fmnist ${cmd}`);
    expect(r.stdout).toMatch(/Examples:\n {2}\$ fmnist /);
    expect(r.stdout).toContain('--json');
  });

  it("train --help names the presets, the seed alias and each preset's --eval-every", async () => {
    const r = await fmnist('train', '--help');
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toContain(
      'model preset: patch-mlp, coursework, mixer-s, mixer-s7, mixer-s7-long, mixer-m, mixer-l (seed is the old name of coursework)',
    );
    expect(help).toContain("(default: the preset's — patch-mlp, coursework, mixer-s, mixer-m, mixer-l: 1; mixer-s7: 7; mixer-s7-long: 10)");
    expect(help).toContain('fmnist train --preset coursework --epochs 2000');
  });

  it('stops quietly when its reader closes the pipe (fmnist ... | head)', async () => {
    const { child, done } = start(['train', '--help']);
    child.stdout?.destroy(); // the reader is gone before the first write: that write fails with EPIPE
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('no command shows the help on stderr and is a usage error', async () => {
    const r = await fmnist();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: fmnist');
    expect(r.stdout).toBe('');
  });

  it('--version prints the version and exits 0', async () => {
    const r = await fmnist('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    [['train', '--epochs', '0'], /--epochs <n>' argument '0' is invalid\. expected an integer from 1 to 1,000,000/],
    [['train', '--lr', 'fast'], /--lr <rate>' argument 'fast' is invalid/],
    [['train', '--time-budget', '10 minutes'], /expected a duration such as 90s, 10m or 1h30m/],
    [
      ['train', '--preset', 'tiny'],
      /--preset <name>' argument 'tiny' is invalid\. Allowed choices are patch-mlp, coursework, mixer-s, mixer-s7, mixer-s7-long, mixer-m, mixer-l \(seed is the old name of coursework\)\./,
    ],
    [['train', '--eval-every', '0'], /--eval-every <n>' argument '0' is invalid\. expected an integer from 1 to 1,000,000/],
    [
      ['train', '--eval-every', '1000001'],
      /expected an integer from 1 to 1,000,000 \(the most epochs a run has\), got '1000001' \(too large\)/,
    ],
    [['train', '--eval-every', '0x2'], /--eval-every <n>' argument '0x2' is invalid/],
    [['train', '--bogus'], /unknown option '--bogus'/],
    [
      ['train', '--augment', 'rotate'],
      /'rotate' is not an augmentation: use 'none', or a comma-separated list of 'flip', 'shift=N' \(N from 1 to 8\) and 'erase=P'/,
    ],
    [['train', '--lr-schedule', 'step'], /Allowed choices are constant, cosine/],
    [['train', '--weight-decay', '-1'], /expected a number ≥ 0 and ≤ 10/],
    [['train', '--checkpoint-every', '0'], /expected an integer ≥ 1/],
    [['trian'], /unknown command 'trian'[\s\S]*Did you mean train\?/],
    [['eval'], /missing required argument 'model'/],
    [['predict', 'model.onnx'], /give at least one image file, or --test-index N/],
    [['train', '--resume'], /--resume needs the run directory/],
    [['export', 'run', '--int8', '--fp16'], /option '--fp16' cannot be used with option '--int8'/],
  ])('%j is a usage error: exit 2, one clear message, no stack', async (args, message) => {
    const r = await fmnist(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    // one style for commander's errors and fmnist's own
    expect(r.stderr).toMatch(/^fmnist: /);
    expect(r.stderr).not.toMatch(/^error:/m);
    expect(r.stderr).toContain('--help');
    expect(r.stdout).toBe('');
    noStack(r.stderr);
  });

  it('missing files and corrupt checkpoints fail with exit 1 and name the file and the fix', async () => {
    const missing = await fmnist('eval', 'no-such-model.onnx');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/no-such-model\.onnx: no such file or directory \(ENOENT\)\. Pass a \.onnx file/);

    const corrupt = join(work, 'corrupt');
    await mkdir(corrupt);
    await writeFile(join(corrupt, 'checkpoint.json'), '{"format": "fmnist-checkpoint", ');
    const r = await fmnist('export', corrupt);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/checkpoint\.json: not valid JSON .*use an earlier checkpoint/);
    expect(r.stderr).toContain('[E_CHECKPOINT_CORRUPT]');
    noStack(r.stderr);

    await writeFile(join(work, 'garbage.onnx'), 'this is not a model');
    const g = await fmnist('predict', join(work, 'garbage.onnx'), '--test-index', '0');
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/garbage\.onnx: not an ONNX model/);
    noStack(g.stderr);

    const verbose = await fmnist('export', corrupt, '--verbose');
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^\s+at /m);
  });
});

describe('data', () => {
  it('--json describes the real dataset: source, paths, checksums, counts per class', async () => {
    const r = await fmnist('data', '--json');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(['dir', 'env', 'cache', 'system', 'download']).toContain(d.source);
    expect(d.train.count).toBe(60000);
    expect(d.test.count).toBe(10000);
    expect(d.train.perClass).toEqual(new Array(10).fill(6000));
    expect(d.test.perClass).toEqual(new Array(10).fill(1000));
    expect(d.files).toHaveLength(4);
    for (const f of d.files) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(d.classes[9]).toBe('Ankle boot');
  });

  it('--preview writes a PNG grid and prints terminal art; human text goes to stderr', async () => {
    const out = join(work, 'preview.png');
    const r = await fmnist('data', '--preview', '12', '--preview-out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Ankle boot');
    expect(r.stderr).toMatch(/[@%#]{6,}/); // ASCII art off a TTY
    const png = await readFile(out);
    expect([...png.subarray(0, 4)]).toEqual(PNG_SIGNATURE);
    const meta = await sharp(png).metadata();
    expect(meta.width).toBeGreaterThan(600);
  });
});

describe('train → eval → predict', () => {
  let run: string;
  let summary: { testAccuracy: number; epochs: number; status: string };

  it('a short real run writes every artifact', async () => {
    run = join(work, 'runs', 'short');
    const r = await fmnist('train', '--subset', '3000', '--epochs', '1', '--out', run, '--json');
    expect(r.code, r.stderr).toBe(0);
    summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ status: 'completed', epochs: 1 });
    expect(r.stderr).toMatch(/epoch 1\/1 {2}train loss \d\.\d{4} acc \d+\.\d\d% {2}test loss \d\.\d{4} acc \d+\.\d\d%/);
    expect(r.stderr).not.toContain('\r'); // no progress bar off a TTY
    expect(r.stderr).toContain('on 3,000 images, 1 epoch, batch 256,');
    expect(r.stderr).toMatch(/after 1 epoch in /);

    for (const f of [
      'config.json',
      'metrics.csv',
      'metrics.jsonl',
      'curves.svg',
      'curves.png',
      'confusion.svg',
      'confusion.png',
      'per-class.csv',
      'report.html',
      'model.onnx',
      'checkpoint/checkpoint.json',
      'checkpoint/model.safetensors',
    ]) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }

    const rows = parseMetricsCsv(await readFile(join(run, 'metrics.csv'), 'utf8'));
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.epoch).toBe(1);
    expect(row.train_loss).toBeGreaterThan(0);
    expect(row.train_loss).toBeLessThan(3);
    for (const v of [row.train_accuracy, row.test_accuracy as number]) expect(v).toBeGreaterThan(0.1);
    expect(row.test_loss).toBeGreaterThan(0);
    expect(row.time_s).toBeGreaterThan(0);
    expect(row.images_per_s).toBeGreaterThan(0);
    expect(row.test_accuracy).toBeCloseTo(summary.testAccuracy, 6);
    const jsonl = (await readFile(join(run, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(jsonl).toHaveLength(1);
    expect(jsonl[0].test_accuracy).toBeCloseTo(row.test_accuracy as number, 6);

    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8'));
    expect(config.status).toBe('completed');
    expect(config.training).toMatchObject({
      optimizer: 'adam',
      learningRate: 0.001,
      batchSize: 256,
      epochs: 1,
      seed: 0,
      trainExamples: 3000,
    });
    expect(config.model).toMatchObject({ preset: 'patch-mlp', parameters: 49211 });
    expect(config.environment.node).toBe(process.version);
    // the default backend (auto) trains the patch-MLP on the kernels, one worker per core
    expect(config.environment.backend).toBe('wasm-relaxed-simd'); // bin.ts turns relaxed SIMD on in Node 20
    expect(config.environment.threads).toBe(cpus().length);
    expect(config.environment.packages['@fmnist/model']).toBe(modelVersion);
    expect(Object.keys(config.dataset.sha256)).toHaveLength(4);
    expect(Date.parse(config.endTime)).toBeGreaterThanOrEqual(Date.parse(config.startTime));

    for (const png of ['curves.png', 'confusion.png']) {
      const bytes = await readFile(join(run, png));
      expect([...bytes.subarray(0, 4)]).toEqual(PNG_SIGNATURE);
    }
    const curves = await readFile(join(run, 'curves.svg'), 'utf8');
    for (const label of ['train loss', 'test loss', 'train accuracy', 'test accuracy', 'epoch']) expect(curves).toContain(label);

    const perClass = (await readFile(join(run, 'per-class.csv'), 'utf8')).trim().split('\n');
    expect(perClass).toHaveLength(11);

    const html = await readFile(join(run, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Confusion matrix');
    expect(html).toContain('Misclassified test images');
    expect(html.match(/src="data:image\/png;base64,/g)?.length).toBeGreaterThan(10);
    expect(html).toContain('"learningRate": 0.001');
    // self-contained: nothing loaded from elsewhere
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|src="(https?:)?\/\//);
  });

  it('a second train into the same directory is refused without --resume', async () => {
    const r = await fmnist('train', '--subset', '3000', '--epochs', '1', '--out', run);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already holds a run\. Continue it with --resume, or choose another --out/);
  });

  it('eval of the exported ONNX model agrees with the run’s final test accuracy', async () => {
    const r = await fmnist('eval', join(run, 'model.onnx'), '--json', '--svg', join(work, 'cm.svg'));
    expect(r.code, r.stderr).toBe(0);
    const ev = JSON.parse(r.stdout);
    expect(ev.kind).toBe('onnx');
    expect(ev.images).toBe(10000);
    expect(Math.abs(ev.accuracy - summary.testAccuracy)).toBeLessThanOrEqual(0.0005);
    expect(ev.recordedTestAccuracy).toBeCloseTo(summary.testAccuracy, 6);
    expect(ev.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(10000);
    expect(await readFile(join(work, 'cm.svg'), 'utf8')).toContain('Confusion matrix');
    // human text on stderr alongside the JSON: accuracy line and the confusion table
    expect(r.stderr).toMatch(/accuracy \d+\.\d\d% {3}loss \d\.\d{4}/);
    expect(r.stderr).toMatch(/^9 Ankle boot +(\S+ +){10}\d+\.\d%$/m);
  });

  it('eval --tta flip: the ONNX model (onnxruntime-node) and the checkpoint (kernels) give the same flip-averaged result', async () => {
    // The run was trained without flips: refused without --force (a usage error naming the model), run with it.
    const [refused, onnx, ckpt, plain] = await Promise.all([
      fmnist('eval', join(run, 'model.onnx'), '--tta', 'flip'),
      fmnist('eval', join(run, 'model.onnx'), '--tta', 'flip', '--force', '--json'),
      fmnist('eval', run, '--tta', 'flip', '--force', '--json'),
      fmnist('eval', join(run, 'model.onnx'), '--json'),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/model\.onnx was trained without flip augmentation, .*add --force to run it anyway/);
    expect(refused.stdout).toBe('');
    expect(onnx.code, onnx.stderr).toBe(0);
    expect(ckpt.code, ckpt.stderr).toBe(0);
    expect(onnx.stderr).toMatch(/warning: .*trained without flip augmentation.*\(running anyway: --force\)/);
    const [a, b] = [JSON.parse(onnx.stdout), JSON.parse(ckpt.stdout)];
    expect([a.tta, b.tta]).toEqual(['flip', 'flip']);
    expect(Math.abs(a.accuracy - b.accuracy)).toBeLessThanOrEqual(0.0002);
    expect(a.loss).toBeCloseTo(b.loss, 4);
    // A different evaluation from the plain one (the mirrored pass counts), of the same model.
    const c = JSON.parse(plain.stdout);
    expect(c.tta).toBe('none');
    expect(a.loss).not.toBeCloseTo(c.loss, 4);
    expect(Math.abs(a.accuracy - c.accuracy)).toBeLessThan(0.05);
    expect(onnx.stderr).toMatch(/with onnxruntime-node \(cpu\), flip test-time augmentation/);
    const bad = await fmnist('eval', join(run, 'model.onnx'), '--tta', 'rotate');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are none, flip/);
  });

  it('export --int8 writes a smaller model that still works', async () => {
    const out = join(work, 'small.onnx');
    const r = await fmnist('export', run, '-o', out, '--int8', '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.quantization).toBe('int8');
    const full = (await readFile(join(run, 'model.onnx'))).length;
    expect(info.bytes).toBeLessThan(full / 2);
    const p = await fmnist('predict', out, '--test-index', '0', '--json');
    expect(p.code, p.stderr).toBe(0);
  });

  it('export --fp16 writes float16 weights, half the size, and predicts as the float32 model does', async () => {
    const r = await fmnist('export', run, '--fp16', '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.quantization).toBe('fp16');
    expect(info.output).toBe(join(run, 'model.fp16.onnx'));
    expect(r.stderr).toContain('fp16 weights');
    const full = (await readFile(join(run, 'model.onnx'))).length;
    expect(info.bytes).toBeLessThan(full * 0.6);
    const args = ['--test-index', '0', '--test-index', '1', '--test-index', '2', '--json'];
    const [half, single] = await Promise.all([
      fmnist('predict', info.output, ...args),
      fmnist('predict', join(run, 'model.onnx'), ...args),
    ]);
    expect(half.code, half.stderr).toBe(0);
    const labels = (out: string) => (JSON.parse(out).predictions as { label: number }[]).map((p) => p.label);
    expect(labels(half.stdout)).toEqual(labels(single.stdout));
  });

  it('predict --json names classes the same way at the top level and in top[] (label, className; class/name deprecated)', async () => {
    const r = await fmnist('predict', join(run, 'model.onnx'), '--test-index', '0', '--json');
    expect(r.code, r.stderr).toBe(0);
    const [p] = JSON.parse(r.stdout).predictions;
    expect(Object.keys(p.top[0]).sort()).toEqual(['class', 'className', 'label', 'name', 'probability']);
    expect(p.top[0]).toEqual({ label: p.label, className: p.className, probability: p.probability, class: p.label, name: p.className });
    for (const t of p.top) expect([t.class, t.name]).toEqual([t.label, t.className]);
    expect(p.trueClassName).toBe('Ankle boot');
  });

  it('predict on a PNG written from a known test image returns its label', async () => {
    const { test } = await loadFashionMnist();
    // the test image (of the first 30) the model classifies correctly with the highest confidence
    const probe = await fmnist(
      'predict',
      join(run, 'model.onnx'),
      ...Array.from({ length: 30 }, (_, i) => ['--test-index', String(i)]).flat(),
      '--json',
    );
    expect(probe.code, probe.stderr).toBe(0);
    const preds = JSON.parse(probe.stdout).predictions as { label: number; trueLabel: number; probability: number; top: unknown[] }[];
    expect(preds).toHaveLength(30);
    expect(preds[0]!.top).toHaveLength(3);
    const correct = preds.map((p, i) => ({ ...p, i })).filter((p) => p.label === p.trueLabel);
    expect(correct.length).toBeGreaterThan(3);
    const k = correct.reduce((best, p) => (p.probability > best.probability ? p : best)).i;
    const pixels = getImage(test, k);

    // exactly as stored: 28×28 grayscale
    const exact = join(work, 'exact.png');
    await sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(exact);
    // like a user's picture: 4× larger, RGB, dark object on a white background (needs --invert)
    const big = join(work, 'photo.png');
    const rgb = Buffer.alloc(784 * 3);
    for (let i = 0; i < 784; i++) rgb.fill(255 - (pixels[i] as number), i * 3, i * 3 + 3);
    await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } })
      .resize(112, 112, { kernel: 'nearest' })
      .png()
      .toFile(big);

    const r = await fmnist('predict', join(run, 'model.onnx'), exact, big, '--invert', '--json');
    expect(r.code, r.stderr).toBe(0);
    const [a, b] = JSON.parse(r.stdout).predictions;
    // --invert applies to every image: the exact one is inverted too, so predict it again on its own
    expect(b.label).toBe(test.labels[k]);
    expect(a.converted).toContain('inverted');
    // --no-crop: the stored 28×28 image exactly as --test-index feeds it (cropping would refit it).
    const e = await fmnist('predict', join(run, 'model.onnx'), exact, '--no-crop', '--json');
    const onlyExact = JSON.parse(e.stdout).predictions[0];
    expect(onlyExact.label).toBe(test.labels[k]);
    expect(onlyExact.probability).toBeCloseTo(preds[k]!.probability, 5);
    expect(e.stderr).toMatch(/^exact\.png: \S.* \d+\.\d%/m);
  });
});

describe('interrupting and resuming', () => {
  it('Ctrl-C stops cleanly with a checkpoint; --resume continues; after SIGKILL mid-epoch, --resume continues from the last checkpoint', async () => {
    const run = join(work, 'runs', 'resume');
    const base = ['--subset', '6000', '--epochs', '2', '--no-export', '--no-report'];

    // 1. SIGINT (Ctrl-C) during epoch 1: checkpoint written mid-epoch, exit 130.
    const a = start(['train', ...base, '--out', run]);
    await waitFor(a.stderr, /Run directory:/);
    await new Promise((r) => setTimeout(r, 600));
    a.child.kill('SIGINT');
    const ra = await a.done;
    expect(ra.code, ra.stderr).toBe(130);
    expect(ra.stderr).toContain('stopping after this batch');
    expect(ra.stderr).toContain(`Continue with: fmnist train --resume`);
    const afterInt = JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
    expect(afterInt.epoch).toBe(0);
    expect(afterInt.resumeAt.batch).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(join(run, 'config.json'), 'utf8')).status).toBe('aborted');

    // 2. Resume, and SIGKILL the whole process (worker threads included) early in epoch 2.
    const b = start(['train', '--resume', run]);
    await waitFor(b.stderr, /epoch 1\/2 {2}train loss/);
    await new Promise((r) => setTimeout(r, 400));
    process.kill(-(b.child.pid as number), 'SIGKILL');
    const rb = await b.done;
    expect(rb.signal).toBe('SIGKILL');
    // where it really resumes: in epoch 1, after the step the Ctrl-C checkpoint saved (6,000 images / 256 = 24 steps)
    expect(rb.stderr).toContain(`Resuming from the checkpoint in epoch 1, after step ${afterInt.resumeAt.batch} of 24, in `);
    expect(rb.stderr).not.toMatch(/epoch 2\/2 {2}train loss/);
    const afterKill = JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
    expect(afterKill.epoch).toBe(1);
    const epoch1 = parseMetricsCsv(await readFile(join(run, 'metrics.csv'), 'utf8'));
    expect(epoch1.map((r) => r.epoch)).toEqual([1]);

    // 3. Resume again: epoch 2 runs from the epoch-1 checkpoint and the run completes.
    const rc = await fmnist('train', '--resume', run, '--json');
    expect(rc.code, rc.stderr).toBe(0);
    expect(rc.stderr).toContain('Resuming from the checkpoint after epoch 1');
    expect(rc.stderr).not.toMatch(/epoch 1\/2 {2}train loss/);
    const rows = parseMetricsCsv(await readFile(join(run, 'metrics.csv'), 'utf8'));
    expect(rows.map((r) => r.epoch)).toEqual([1, 2]);
    expect(rows[0]).toEqual(epoch1[0]);
    const final = JSON.parse(rc.stdout);
    expect(final.status).toBe('completed');
    expect(final.testAccuracy).toBeCloseTo(rows[1]!.test_accuracy as number, 6);
    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8'));
    expect(config.status).toBe('completed');
    expect(config.resumedAt).toHaveLength(2);
    expect(config.settings.subset).toBe(6000);
  });
});

describe('recipes and step checkpoints', () => {
  it('--optimizer sgd --momentum --label-smoothing: recorded in config.json and the checkpoint, kept on resume; bad values are usage errors', async () => {
    const run = join(work, 'runs', 'sgd');
    const args = ['--subset', '1200', '--no-export', '--no-report', '--out', run];
    const bad = await Promise.all([
      fmnist('train', ...args, '--optimizer', 'sgd', '--momentum', '1'),
      fmnist('train', ...args, '--momentum', '0.9'),
      fmnist('train', ...args, '--optimizer', 'rmsprop'),
      fmnist('train', ...args, '--label-smoothing', '1'),
    ]);
    for (const r of bad) {
      expect(r.code, r.stderr).toBe(2);
      noStack(r.stderr);
    }
    expect(bad[0]!.stderr).toMatch(/--momentum.*expected a number ≥ 0 and < 1, such as 0\.9, got '1' \(too large\)/);
    expect(bad[1]!.stderr).toMatch(/--momentum 0\.9 is an SGD setting; add --optimizer sgd/);
    expect(bad[2]!.stderr).toMatch(/--optimizer.*rmsprop.*adam, sgd/);
    expect(bad[3]!.stderr).toMatch(/--label-smoothing.*expected a number ≥ 0 and < 1, such as 0\.1, got '1' \(too large\)/);
    expect(existsSync(run)).toBe(false);

    const first = await fmnist(
      'train',
      ...args,
      '--epochs',
      '1',
      '--optimizer',
      'sgd',
      '--momentum',
      '0.8',
      '--lr',
      '0.05',
      '--label-smoothing',
      '0.1',
    );
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('lr 0.05, sgd momentum 0.8, label smoothing 0.1');
    const ckpt = JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
    expect(ckpt.training).toMatchObject({ optimizer: 'sgd', learningRate: 0.05, momentum: 0.8, labelSmoothing: 0.1 });
    expect(ckpt.training).not.toHaveProperty('beta1');
    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8'));
    expect(config.settings).toMatchObject({ optimizer: 'sgd', momentum: 0.8, labelSmoothing: 0.1 });
    expect(config.training).toMatchObject({ optimizer: 'sgd', momentum: 0.8, labelSmoothing: 0.1 });

    const otherSmoothing = await fmnist('train', '--resume', run, '--epochs', '2', '--label-smoothing', '0.2');
    expect(otherSmoothing.code).toBe(2);
    expect(otherSmoothing.stderr).toMatch(/--label-smoothing 0\.2 differs from the run's 0\.1/);

    const asAdam = await fmnist('train', '--resume', run, '--epochs', '2', '--optimizer', 'adam');
    expect(asAdam.code).toBe(2);
    expect(asAdam.stderr).toMatch(/--optimizer adam differs from the run's sgd: a resumed run keeps its hyperparameters/);
    const resumed = await fmnist('train', '--resume', run, '--epochs', '2', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8')).training).toMatchObject({
      optimizer: 'sgd',
      momentum: 0.8,
      labelSmoothing: 0.1,
      epochs: 2,
    });
  });

  it('--checkpoint-every: a SIGKILL mid-epoch loses at most N steps; the schedule, weight decay and augmentation are kept on resume', async () => {
    const run = join(work, 'runs', 'every');
    const ckptJson = join(run, 'checkpoint', 'checkpoint.json');
    const args = ['--subset', '12000', '--epochs', '1', '--no-export', '--no-report'];
    const recipe = ['--lr-schedule', 'cosine', '--weight-decay', '0.01', '--augment', 'shift=1,flip'];
    const a = start(['train', ...args, ...recipe, '--checkpoint-every', '5', '--out', run]);
    // 47 steps in the epoch; kill the process (workers included) once a mid-epoch checkpoint exists.
    let saved: { epoch: number; step: number; resumeAt?: { batch: number }; training: Record<string, unknown> } | undefined;
    const t0 = Date.now();
    while (!saved?.resumeAt) {
      if (Date.now() - t0 > 120_000) throw new Error(`no mid-epoch checkpoint; stderr:\n${a.stderr()}`);
      await new Promise((r) => setTimeout(r, 30));
      if (existsSync(ckptJson)) saved = JSON.parse(await readFile(ckptJson, 'utf8'));
    }
    process.kill(-(a.child.pid as number), 'SIGKILL');
    expect((await a.done).signal).toBe('SIGKILL');
    expect(a.stderr()).toContain('lr 0.001 (cosine), weight decay 0.01, augment shift ±1 px + flip');
    const killed = JSON.parse(await readFile(ckptJson, 'utf8'));
    expect(killed.epoch).toBe(0);
    expect(killed.step % 5).toBe(0);
    expect(killed.resumeAt.batch).toBe(killed.step);
    expect(killed.training).toMatchObject({
      optimizer: 'adamw',
      lrSchedule: 'cosine',
      weightDecay: 0.01,
      augment: { shift: 1, flip: true },
    });

    const changed = await fmnist('train', '--resume', run, '--lr-schedule', 'constant');
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/--lr-schedule constant differs from the run's cosine: a resumed run keeps its hyperparameters/);

    const done = await fmnist('train', '--resume', run, '--json');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain('Resuming from the checkpoint');
    expect(JSON.parse(done.stdout).status).toBe('completed');
    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8'));
    expect(config.settings).toMatchObject({ lrSchedule: 'cosine', weightDecay: 0.01, augment: { shift: 1, flip: true } });
    expect(config.training).toMatchObject({ optimizer: 'adamw', lrSchedule: 'cosine', weightDecay: 0.01 });
  });
});
