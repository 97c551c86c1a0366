import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadCheckpoint } from '@fmnist/model';
import { FmnistOnnxError, readOnnxMetadata, readOnnxWeights } from '@fmnist/onnx';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModel } from '../model-info';
import { CHECKPOINT_JSON, checkpointSource, checkpointZip, checkpointZipPaths, exportRunOnnx, RunFilesError, runName } from './run-files';
import type { FinishedRun } from './session-types';
import { trainTestRun } from './test-run';

const CLI_BIN = fileURLToPath(new URL('../../../cli/dist/bin.js', import.meta.url));
const NAME = 'patch-mlp-20261202-033000';
if (!existsSync(CLI_BIN))
  console.warn(`\n⚠ SKIPPING the fmnist export comparison: ${CLI_BIN} is missing; build the CLI first (pnpm build).\n`);

let run: FinishedRun;
let dir: string;
beforeAll(async () => {
  run = await trainTestRun();
  dir = await mkdtemp(join(tmpdir(), 'fmnist-web-zip-'));
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Writes the zip's entries under `root`. */
async function unzipTo(zip: Uint8Array, root: string): Promise<string[]> {
  const entries = unzipSync(zip);
  for (const [path, bytes] of Object.entries(entries)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), bytes);
  }
  return Object.keys(entries).sort();
}

const withFiles = (files: Record<string, Uint8Array>): FinishedRun => ({ ...run, checkpointFiles: files });
/** Byte equality (vitest's deep equality is slow on arrays of a few hundred KB). */
const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b));
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('runName', () => {
  it('names the run as fmnist train names a run directory (local time)', () => {
    expect(runName(run, new Date(2026, 11, 2, 3, 30, 0))).toBe(NAME);
  });
});

describe('the ONNX model of a finished run', () => {
  it("is the checkpoint's parameters bit for bit, with the run's training record, metrics, dataset and time", () => {
    const bytes = exportRunOnnx(run);
    const meta = readOnnxMetadata(bytes);
    const ckpt = JSON.parse(new TextDecoder().decode(run.checkpointFiles[CHECKPOINT_JSON]));
    expect(meta.preset).toBe('patch-mlp');
    expect(meta.quantization).toBe('none');
    expect(meta.training).toEqual(ckpt.training);
    expect(meta.training?.batchSize).toBe(100);
    expect(meta.training?.trainExamples).toBe(300);
    const last = run.epochs.at(-1);
    expect(meta.metrics).toEqual({
      epoch: 1,
      trainLoss: last?.trainLoss,
      trainAccuracy: last?.trainAccuracy,
      testLoss: last?.testLoss,
      testAccuracy: last?.testAccuracy,
    });
    expect(meta.metrics?.testAccuracy).toBe(run.evaluation.accuracy);
    expect(meta.trainedAt).toBe(ckpt.createdAt);
    expect(meta.dataset?.name).toBe('fashion-mnist');
    const weights = readOnnxWeights(bytes);
    for (const [name, data] of Object.entries(run.params)) expect(weights.params[name]).toEqual(data);
    // The app accepts it as a model.
    expect(inspectModel(bytes, `${NAME}.onnx`).metadata.preset).toBe('patch-mlp');
  });

  it('int8: quantised, about 3.5× smaller, the same record', () => {
    const fp32 = exportRunOnnx(run);
    const int8 = exportRunOnnx(run, 'int8');
    expect(readOnnxMetadata(int8).quantization).toBe('int8');
    expect(readOnnxMetadata(int8).metrics).toEqual(readOnnxMetadata(fp32).metrics);
    expect(int8.length).toBeLessThan(fp32.length / 3);
  });

  it('reads the weights file that checkpoint.json names (a step file), not a stale model.safetensors', () => {
    const named = JSON.parse(new TextDecoder().decode(run.checkpointFiles[CHECKPOINT_JSON])).files.weights;
    expect(named).toMatch(/^model\.step\d+\.safetensors$/);
    expect(checkpointSource(run).weights).toBe(run.checkpointFiles[named]);
    const { [named]: _dropped, ...rest } = run.checkpointFiles;
    expect(() => checkpointSource(withFiles(rest))).toThrow(new RegExp(`lacks ${named.replace(/\./g, '\\.')}, the weights file`));
  });

  it('refuses checkpoint files whose names leave the folder, and a checkpoint.json naming such a file', () => {
    const evil = { ...run.checkpointFiles, '../evil.json': json({}) };
    expect(() => exportRunOnnx(withFiles(evil))).toThrow(RunFilesError);
    expect(() => checkpointZip(withFiles(evil), NAME)).toThrow(/"\.\.\/evil\.json" is not a plain file name/);
    const ckpt = JSON.parse(new TextDecoder().decode(run.checkpointFiles[CHECKPOINT_JSON]));
    const pointing = { ...run.checkpointFiles, [CHECKPOINT_JSON]: json({ ...ckpt, files: { weights: '../../etc/passwd' } }) };
    expect(() => checkpointSource(withFiles(pointing))).toThrow(
      /names the weights file "\.\.\/\.\.\/etc\/passwd", which is not a plain file name/,
    );
    const err = (() => {
      try {
        checkpointSource(withFiles({}));
      } catch (e) {
        return e as RunFilesError;
      }
    })();
    expect(err?.code).toBe('E_RUN_FILES');
    expect(err?.message).toBe("The run's checkpoint has no checkpoint.json.");
  });

  it('a checkpoint with NaN weights is not exported (E_NON_FINITE), so it never becomes the app model', () => {
    const ckpt = JSON.parse(new TextDecoder().decode(run.checkpointFiles[CHECKPOINT_JSON]));
    const weights = new Uint8Array(run.checkpointFiles[ckpt.files.weights] as Uint8Array);
    // The last 4 bytes are the last float of the last tensor: make it NaN.
    weights.set([0x00, 0x00, 0xc0, 0x7f], weights.length - 4);
    const err = (() => {
      try {
        exportRunOnnx(withFiles({ ...run.checkpointFiles, [ckpt.files.weights]: weights }));
      } catch (e) {
        return e as FmnistOnnxError;
      }
    })();
    expect(err).toBeInstanceOf(FmnistOnnxError);
    expect(err?.code).toBe('E_NON_FINITE');
  });
});

describe('the checkpoint zip', () => {
  it('is a run directory NAME/checkpoint/… holding every checkpoint file unchanged, the same bytes each time', async () => {
    const zip = checkpointZip(run, NAME);
    expect(same(checkpointZip(run, NAME), zip)).toBe(true);
    const paths = checkpointZipPaths(run, NAME);
    expect(paths).toEqual(
      Object.keys(run.checkpointFiles)
        .sort()
        .map((f) => `${NAME}/checkpoint/${f}`),
    );
    expect(paths).toContain(`${NAME}/checkpoint/checkpoint.json`);
    const entries = unzipSync(zip);
    expect(Object.keys(entries).sort()).toEqual(paths);
    for (const [file, bytes] of Object.entries(run.checkpointFiles)) expect(same(entries[`${NAME}/checkpoint/${file}`], bytes)).toBe(true);
  });

  it("unzipped, @fmnist/model's Node reader loads it: the run's parameters and record", async () => {
    const root = join(dir, 'load');
    await unzipTo(checkpointZip(run, NAME), root);
    const ckpt = await loadCheckpoint(join(root, NAME, 'checkpoint'));
    expect(ckpt.meta.preset).toBe('patch-mlp');
    expect(ckpt.meta.epoch).toBe(1);
    expect(ckpt.meta.history).toEqual(run.epochs);
    for (const [name, data] of Object.entries(run.params)) expect(ckpt.params[name]).toEqual(data);
  });

  it.skipIf(!existsSync(CLI_BIN))(
    'unzipped, `fmnist export <run>` writes the same bytes as the page’s model.onnx',
    async () => {
      const root = join(dir, 'cli');
      await unzipTo(checkpointZip(run, NAME), root);
      const out = join(root, 'cli.onnx');
      await promisify(execFile)(process.execPath, [CLI_BIN, 'export', join(root, NAME), '-o', out]);
      expect(same(await readFile(out), exportRunOnnx(run))).toBe(true);
      await promisify(execFile)(process.execPath, [CLI_BIN, 'export', join(root, NAME), '--int8', '-o', `${out}.int8`]);
      expect(same(await readFile(`${out}.int8`), exportRunOnnx(run, 'int8'))).toBe(true);
    },
    60_000,
  );

  it('refuses a folder name that is not a plain name', () => {
    expect(() => checkpointZip(run, '../up')).toThrow(/"\.\.\/up" is not a plain folder name/);
    expect(() => checkpointZip(run, 'a/b')).toThrow(RunFilesError);
  });
});
