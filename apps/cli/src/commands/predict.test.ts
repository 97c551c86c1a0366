/**
 * `fmnist predict` with the model bundled in @fmnist/classify (no training run needed): results on stdout, notes on
 * stderr, `--json`, crop and inversion flags, how the first argument is told apart from an image, usage and decode
 * errors. The ONNX path is covered by cli.test.ts (train → eval → predict).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getImage, loadFashionMnist } from '@fmnist/data/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUserError, runCli } from '../test-cli';
import { isModelArgument } from './predict';

let dir: string;
const fmnist = (...args: string[]) => runCli(args, { cwd: dir, timeoutMs: 120_000 });

/** A test image enlarged 10× (280×280) onto a 600×400 white page, dark on light, as a PNG: a photo of a garment. */
async function photoOf(pixels: Uint8Array, file: string): Promise<void> {
  const garment = await sharp(Buffer.from(pixels.map((v) => 255 - v)), { raw: { width: 28, height: 28, channels: 1 } })
    .resize(280, 280, { kernel: 'lanczos3' })
    .png()
    .toBuffer();
  await sharp({ create: { width: 600, height: 400, channels: 3, background: '#ffffff' } })
    .composite([{ input: garment, left: 160, top: 60 }])
    .png()
    .toFile(file);
}

let labels: Uint8Array;
/** Test indices of the photos: the first image of each of four classes. */
const PHOTO_INDICES = [0, 1, 2, 3];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-predict-'));
  const { test } = await loadFashionMnist({ splits: ['test'], download: false });
  labels = test.labels;
  for (const i of PHOTO_INDICES) await photoOf(getImage(test, i), join(dir, `photo-${i}.png`));
  await mkdir(join(dir, 'run'));
  await writeFile(join(dir, 'notes.txt'), 'not a picture');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fmnist predict with the bundled model', () => {
  it('prints the result on stdout and the notes on stderr (so `> out.txt` keeps the result)', async () => {
    const r = await fmnist('predict', '--test-index', '0', '--top', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^test #0: Ankle boot \d+\.\d% ✓ {3}then \S.* \d+\.\d%\n$/);
    expect(r.stderr).toMatch(/^model: @fmnist\/classify bundled model \(mixer-s, \d+\.\d\d% test accuracy\)$/m);
    expect(r.stderr).not.toContain('Ankle boot');
  });

  it('classifies photo-like pictures (a test image enlarged onto a white page) correctly: crop and auto-invert by default', async () => {
    const files = PHOTO_INDICES.map((i) => `photo-${i}.png`);
    const r = await fmnist('predict', ...files, '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { bundled: boolean; predictions: { label: number; converted: string; input: string }[] };
    expect(doc.bundled).toBe(true);
    expect(doc.predictions.map((p) => p.label)).toEqual(PHOTO_INDICES.map((i) => labels[i]));
    for (const p of doc.predictions) expect(p.converted).toBe('png 600×400, cropped, inverted');
    // --json: stdout is the JSON document alone, the human-readable lines are on stderr.
    expect(r.stderr).toMatch(/^photo-0\.png: \S/m);
  });

  it('--no-crop fits the whole page (and says so); --no-invert and --invert decide the inversion', async () => {
    const plain = JSON.parse((await fmnist('predict', 'photo-0.png', '--no-crop', '--json')).stdout).predictions[0];
    expect(plain.converted).toBe('png 600×400, inverted');
    const never = JSON.parse((await fmnist('predict', 'photo-0.png', '--no-invert', '--json')).stdout).predictions[0];
    expect(never.converted).toBe('png 600×400, cropped');
    const always = JSON.parse((await fmnist('predict', 'photo-0.png', '--invert', '--no-crop', '--json')).stdout).predictions[0];
    expect(always.converted).toBe('png 600×400, inverted');
  });

  it('usage errors: no image, contradicting inversion flags', async () => {
    expectUserError(await fmnist('predict'), 2, /give at least one image file, or --test-index N/);
    expectUserError(await fmnist('predict', 'photo-0.png', '--invert', '--auto-invert'), 2, /--invert and --auto-invert contradict/);
  });

  it('refuses a file that is not an image, and a missing one, in one line naming it', async () => {
    expectUserError(
      await fmnist('predict', 'notes.txt'),
      1,
      /notes\.txt: not an image \(its first bytes are not those of a PNG.*\[E_IMAGE_DECODE\]/,
    );
    expectUserError(await fmnist('predict', 'nope.png'), 1, /nope\.png: no such file or directory \(ENOENT\)/);
  });

  it('takes a .onnx file or a directory first as the model (a run directory without model.onnx says how to export one)', async () => {
    expectUserError(
      await fmnist('predict', 'run', 'photo-0.png'),
      1,
      /run: no checkpoint\.json here or in run\/checkpoint\. Train one with: fmnist train --out run/,
    );
    expectUserError(await fmnist('predict', 'missing.onnx', '--test-index', '0'), 1, /missing\.onnx: no such file or directory/);
  });
});

describe('isModelArgument', () => {
  it('is true for .onnx names and directories, false for anything else', () => {
    expect(isModelArgument('model.onnx')).toBe(true);
    expect(isModelArgument('MODEL.ONNX')).toBe(true);
    expect(isModelArgument(tmpdir())).toBe(true);
    expect(isModelArgument('shoe.png')).toBe(false);
    expect(isModelArgument('does-not-exist')).toBe(false);
  });
});
