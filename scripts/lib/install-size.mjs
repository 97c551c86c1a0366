// Lean installs of @fmnist/model and @fmnist/onnx, shared by scripts/install-size.mjs (prints the figures) and
// scripts/pack-smoke.mjs (asserts the sizes): each package's tarball (plus the tarballs it depends on, since
// @fmnist/data is not on the registry) installed with plain npm into its own fresh project, then the size of
// node_modules, whether a @tensorflow folder exists, and the cold import time of the main entry.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The most `npm i @fmnist/model` (or `@fmnist/onnx`) may add to node_modules, in MB (10^6 bytes). */
export const MAX_INSTALL_MB = 10;

/** Imports timed per entry; the median is reported. */
export const IMPORT_RUNS = 5;

/** Bytes of the files under `dir` (apparent sizes; symlinks counted as links, not followed). */
export function directoryBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(path);
    else total += lstatSync(path).size;
  }
  return total;
}

/** The environment for npm and node in a consumer project: no pnpm/npm script variables, no NODE_OPTIONS. */
export function consumerEnv(extra = {}) {
  const keepNpm = /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl|cafile|ca)$/i;
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm|pnpm)_/i.test(k) && !keepNpm.test(k)) continue;
    if (k === 'INIT_CWD' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip', NO_COLOR: '1', ...extra };
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, env: consumerEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
  if (r.status !== 0 || r.error) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`\`${cmd} ${args.join(' ')}\` failed in ${cwd}: ${r.error?.message ?? `exit status ${r.status}`}\n${tail}`);
  }
  return r.stdout;
}

/**
 * Milliseconds a fresh `node` process spends in `await import(specifier)` (Node's own start-up not counted), the
 * median of {@link IMPORT_RUNS} processes.
 */
export function coldImportMs(dir, specifier) {
  const body = `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t);`;
  const times = [];
  for (let i = 0; i < IMPORT_RUNS; i++) times.push(Number(run(process.execPath, ['--input-type=module', '-e', body], dir).trim()));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * `npm install`s `tarballs` (and `extra` registry packages) into a fresh project `dir` and measures it.
 *
 * @returns {{ megabytes: number, tensorflow: string[], packages: number }} node_modules size in MB, the packages under
 *   node_modules/@tensorflow (empty when there is no such folder), and how many packages npm installed
 */
export function installInto(dir, tarballs, extra = []) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'fmnist-lean-consumer', version: '1.0.0', private: true }, null, 2)}\n`,
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs, ...extra], dir);
  const modules = join(dir, 'node_modules');
  const tfDir = join(modules, '@tensorflow');
  const lock = JSON.parse(run('npm', ['ls', '--all', '--json', '--package-lock-only'], dir) || '{}');
  let packages = 0;
  const count = (deps) => {
    for (const node of Object.values(deps ?? {})) {
      packages++;
      count(node.dependencies);
    }
  };
  count(lock.dependencies);
  return {
    megabytes: directoryBytes(modules) / 1e6,
    tensorflow: existsSync(tfDir) ? readdirSync(tfDir) : [],
    packages,
  };
}

/**
 * Installs `@fmnist/model` and `@fmnist/onnx` each on its own (with `@fmnist/data`, which is not published) and
 * measures both, plus the cold import time of `@fmnist/model`.
 *
 * @param {{ name: string, file: string }[]} packed - the tarballs, at least data, model and onnx
 * @param {string} work - a temp folder to create the projects in
 */
export function measureLeanInstalls(packed, work) {
  const file = (name) => {
    const p = packed.find((x) => x.name === name);
    if (!p) throw new Error(`no tarball for ${name}`);
    return p.file;
  };
  const modelDir = join(work, 'lean-model');
  const onnxDir = join(work, 'lean-onnx');
  const model = installInto(modelDir, [file('@fmnist/data'), file('@fmnist/model')]);
  const onnx = installInto(onnxDir, [file('@fmnist/data'), file('@fmnist/model'), file('@fmnist/onnx')]);
  return { model: { ...model, dir: modelDir, importMs: coldImportMs(modelDir, '@fmnist/model') }, onnx: { ...onnx, dir: onnxDir } };
}

/**
 * Installs `@fmnist/classify` on its own (with the `@fmnist/data` and `@fmnist/model` tarballs it depends on) and
 * measures it: node_modules size, no @tensorflow, whether the optional peer sharp was left out, the cold import time.
 *
 * @param {{ name: string, file: string }[]} packed - the tarballs, at least data, model and classify
 * @param {string} work - a temp folder to create the project in
 */
export function measureClassifyInstall(packed, work) {
  const file = (name) => {
    const p = packed.find((x) => x.name === name);
    if (!p) throw new Error(`no tarball for ${name}`);
    return p.file;
  };
  const dir = join(work, 'lean-classify');
  const install = installInto(dir, [file('@fmnist/data'), file('@fmnist/model'), file('@fmnist/classify')]);
  return {
    ...install,
    dir,
    sharp: existsSync(join(dir, 'node_modules', 'sharp')),
    packageKb: directoryBytes(join(dir, 'node_modules', '@fmnist', 'classify')) / 1e3,
    importMs: coldImportMs(dir, '@fmnist/classify'),
  };
}

/** One line about {@link measureClassifyInstall}'s result. */
export function formatClassifyInstall(c) {
  return `npm i @fmnist/classify: ${c.megabytes.toFixed(2)} MB node_modules (${c.packages} packages; @fmnist/classify itself ${c.packageKb.toFixed(0)} kB with its model), ${c.tensorflow.length ? `@tensorflow: ${c.tensorflow.join(', ')}` : 'no @tensorflow'}, ${c.sharp ? 'sharp installed' : 'no sharp (optional peer)'}; cold import('@fmnist/classify') ${c.importMs.toFixed(0)} ms`;
}

/** Problems with a lean install: over {@link MAX_INSTALL_MB}, or any @tensorflow package in it. */
export function leanInstallProblems(label, install) {
  const problems = [];
  if (install.megabytes > MAX_INSTALL_MB)
    problems.push(`${label}: node_modules is ${install.megabytes.toFixed(2)} MB, more than ${MAX_INSTALL_MB} MB`);
  if (install.tensorflow.length)
    problems.push(`${label}: node_modules/@tensorflow exists (${install.tensorflow.join(', ')}); TensorFlow.js must stay an optional peer`);
  return problems;
}

/** A script run in a lean project: the default engine works with no TensorFlow.js; a TF.js backend names the peer. */
export const NO_TFJS_SCRIPT = `import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createEngine, createModel, evaluate, FmnistModelError } from '@fmnist/model';

const model = createModel('patch-mlp');
const engine = await createEngine(model.config, model.params, { threads: 1 });
assert.match(engine.name, /^wasm-(relaxed-)?simd$/);
assert.equal((await engine.predict(new Float32Array(2 * 784))).length, 20);
await engine.dispose();
for (const backend of ['cpu', 'wasm', 'tensorflow']) {
  const err = await createEngine(model.config, model.params, { backend }).then(() => null, (e) => e);
  assert.ok(err instanceof FmnistModelError, backend + ': ' + err);
  assert.equal(err.code, 'E_BACKEND_UNAVAILABLE', backend);
  assert.match(err.message, /needs @tensorflow\\/tfjs, which is not installed/, backend);
}
const set = { images: new Uint8Array(4 * 784), labels: new Uint8Array(4), count: 4 };
const evalErr = await evaluate(model, set, { backend: 'wasm' }).then(() => null, (e) => e);
assert.equal(evalErr?.code, 'E_BACKEND_UNAVAILABLE');
assert.match(evalErr.message, /npm install @tensorflow\\/tfjs @tensorflow\\/tfjs-backend-wasm/);
const cjs = createRequire(import.meta.url)('@fmnist/model');
const cjsErr = await cjs.createEngine(model.config, model.params, { backend: 'cpu' }).then(() => null, (e) => e);
assert.equal(cjsErr?.code, 'E_BACKEND_UNAVAILABLE', 'CJS entry');
console.log('kernels engine ran with no TensorFlow.js installed; cpu/wasm/tensorflow (ESM, CJS) and evaluate({ backend }) -> E_BACKEND_UNAVAILABLE naming the package');
`;

/** Formats the figures of {@link measureLeanInstalls} (and the TF.js comparison, when measured). */
export function formatLeanInstalls({ model, onnx }, tfjsImportMs) {
  const tf = (i) => (i.tensorflow.length ? `yes (${i.tensorflow.join(', ')})` : 'no');
  const lines = [
    `npm i @fmnist/model: ${model.megabytes.toFixed(2)} MB node_modules (${model.packages} packages), @tensorflow folder: ${tf(model)}`,
    `npm i @fmnist/onnx:  ${onnx.megabytes.toFixed(2)} MB node_modules (${onnx.packages} packages), @tensorflow folder: ${tf(onnx)}`,
    `cold import('@fmnist/model'): ${model.importMs.toFixed(0)} ms (median of ${IMPORT_RUNS} fresh node processes)`,
  ];
  if (tfjsImportMs !== undefined)
    lines.push(`cold import('@fmnist/model/tfjs'), TensorFlow.js installed: ${tfjsImportMs.toFixed(0)} ms (same measure, for comparison)`);
  return lines.join('\n');
}
