#!/usr/bin/env node
// Install size and import time of @fmnist/model and @fmnist/onnx as a user gets them: `pnpm pack` data, model and
// onnx (build first: `pnpm build:published`), `npm install` the model (and, separately, onnx) tarballs into fresh
// projects under the system temp folder (with @fmnist/data's tarball beside them, since it is not on the registry),
// then print the node_modules size, whether a @tensorflow folder exists and the cold `import('@fmnist/model')` time,
// beside the same time for `import('@fmnist/model/tfjs')` in a project that also installs the TensorFlow.js peers
// (from the npm registry), and the same for `npm i @fmnist/classify` (with its bundled model). Prints figures only;
// scripts/pack-smoke.mjs asserts the sizes.
//
// usage: node scripts/install-size.mjs [--keep]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  coldImportMs,
  consumerEnv,
  formatClassifyInstall,
  formatLeanInstalls,
  installInto,
  leanInstallProblems,
  MAX_INSTALL_MB,
  measureClassifyInstall,
  measureLeanInstalls,
  NO_TFJS_SCRIPT,
} from './lib/install-size.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = [
  { name: '@fmnist/data', dir: 'packages/data' },
  { name: '@fmnist/model', dir: 'packages/model' },
  { name: '@fmnist/classify', dir: 'packages/classify' },
  { name: '@fmnist/onnx', dir: 'packages/onnx' },
];
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'fmnist-install-size-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);

try {
  const packed = PACKAGES.map((pkg) => {
    const dir = join(ROOT, pkg.dir);
    if (!existsSync(join(dir, 'dist'))) throw new Error(`${pkg.dir}/dist is missing: run \`pnpm build:published\` first.`);
    const before = new Set(readdirSync(tarballs));
    const r = spawnSync('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir, env: consumerEnv(), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pnpm pack failed in ${pkg.dir}:\n${r.stdout}${r.stderr}`);
    const file = readdirSync(tarballs).find((f) => !before.has(f) && f.endsWith('.tgz'));
    return { ...pkg, file: join(tarballs, file) };
  });
  const lean = measureLeanInstalls(packed, work);

  // The opt-in: the same model tarball with the TensorFlow.js peers installed next to it.
  const tfjsDir = join(work, 'with-tfjs');
  const tfjsVersion = createRequire(join(ROOT, 'packages/model/package.json'))('@tensorflow/tfjs/package.json').version;
  const withTfjs = installInto(
    tfjsDir,
    packed.filter((p) => p.name === '@fmnist/data' || p.name === '@fmnist/model').map((p) => p.file),
    [`@tensorflow/tfjs@${tfjsVersion}`, `@tensorflow/tfjs-backend-wasm@${tfjsVersion}`],
  );
  const tfjsMs = coldImportMs(tfjsDir, '@fmnist/model/tfjs');

  console.log(formatLeanInstalls(lean, tfjsMs));
  console.log(
    `npm i @fmnist/model @tensorflow/tfjs @tensorflow/tfjs-backend-wasm: ${withTfjs.megabytes.toFixed(2)} MB node_modules (${withTfjs.packages} packages)`,
  );
  writeFileSync(join(lean.model.dir, 'no-tfjs.mjs'), NO_TFJS_SCRIPT);
  const r = spawnSync(process.execPath, ['no-tfjs.mjs'], { cwd: lean.model.dir, env: consumerEnv(), encoding: 'utf8' });
  console.log(r.status === 0 ? r.stdout.trim() : `no-TensorFlow.js check failed:\n${r.stdout}${r.stderr}`);
  const classify = measureClassifyInstall(packed, work);
  console.log(formatClassifyInstall(classify));
  const problems = [
    ...leanInstallProblems('npm i @fmnist/model', lean.model),
    ...leanInstallProblems('npm i @fmnist/onnx', lean.onnx),
    ...leanInstallProblems('npm i @fmnist/classify', classify),
  ];
  console.log(
    problems.length ? `over target:\n${problems.join('\n')}` : `targets: ≤ ${MAX_INSTALL_MB} MB and no @tensorflow folder, both met`,
  );
  if (problems.length || r.status !== 0) process.exitCode = 1;
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
