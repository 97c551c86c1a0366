#!/usr/bin/env node
/**
 * Trains the web app's default model with the workspace's CLI and copies it into `public/models/`:
 *
 *   fmnist train --preset patch-mlp --epochs 3 --seed 0 --no-report --out <tmp>/run
 *   → public/models/default.onnx   (the exported float32 model, ≈ 200 KB, committed)
 *   → public/models/default.json   (how it was made: command, accuracy, SHA-256, size)
 *
 * Run from anywhere after `pnpm build`: `pnpm --filter @fmnist/web train-default-model`. Extra arguments are passed to
 * `fmnist train` (e.g. `-- --epochs 5`; a leading `--` is dropped, with or without pnpm passing it on). The data is found the way the CLI finds it ($FMNIST_DATA_DIR, cache, Debian's
 * dataset-fashion-mnist, or a verified download).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const appDir = resolve(here, '..');
const cli = resolve(appDir, '../cli/dist/bin.js');
const outDir = join(appDir, 'public/models');

if (!existsSync(cli)) {
  console.error(`${cli} is missing: build the workspace first (pnpm build at the repository root).`);
  process.exit(1);
}

// pnpm 10 passes the `--` of `pnpm … train-default-model -- --epochs 5` through literally; fmnist would take it as
// the end of the options and reject what follows ("too many arguments"). Arguments after a leading `--` are ours.
const extra = process.argv.slice(2);
if (extra[0] === '--') extra.shift();
const trainArgs = ['--preset', 'patch-mlp', '--epochs', '3', '--seed', '0', ...extra];
const tmp = await mkdtemp(join(tmpdir(), 'fmnist-web-default-'));
const run = join(tmp, 'run');
try {
  const args = [cli, 'train', ...trainArgs, '--no-report', '--out', run, '--json'];
  console.error(`$ node ${args.map((a) => (a === cli ? 'apps/cli/dist/bin.js' : a)).join(' ')}`);
  const stdout = await new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok(out) : fail(new Error(`fmnist train exited with status ${code}`))));
  });
  const summary = JSON.parse(stdout);
  const bytes = await readFile(join(run, 'model.onnx'));
  await mkdir(outDir, { recursive: true });
  await copyFile(join(run, 'model.onnx'), join(outDir, 'default.onnx'));
  const sidecar = {
    file: 'default.onnx',
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    command: `fmnist train ${trainArgs.join(' ')}`,
    testAccuracy: summary.testAccuracy ?? summary.result?.testAccuracy ?? null,
    createdAt: new Date().toISOString(),
    node: process.version,
  };
  await writeFile(join(outDir, 'default.json'), `${JSON.stringify(sidecar, null, 2)}\n`);
  console.error(`✓ ${join(outDir, 'default.onnx')} (${bytes.length} bytes), test accuracy ${sidecar.testAccuracy}`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
