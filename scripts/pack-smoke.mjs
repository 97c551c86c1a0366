#!/usr/bin/env node
// Pack-and-install smoke test: what a user gets from `npm install @fmnist/…`, checked outside the workspace.
//
// 1. `pnpm pack` every published package (pnpm rewrites `workspace:*` to real versions, as `pnpm publish` does) and
//    check each tarball's contents (scripts/lib/tarball.mjs);
// 2. one plain `npm install` of all the tarballs + typescript + esbuild + @types/node into a fresh project under the
//    system temp folder (no workspace, no links), then `npm ls` proves every @fmnist/* dependency is a tarball;
// 3. in that project: `import` and `require` each package and load the real Fashion-MNIST test split; train a tiny
//    model, export it to ONNX (from memory and from a checkpoint) and run it with onnxruntime-node; load only the test
//    split through the Node and the browser entries from a local server that counts the requests; run the TensorFlow.js
//    and onnxruntime adapters; typecheck small TypeScript consumers (the subpaths /node and /tfjs included) with
//    moduleResolution node16 (ESM + CJS), bundler and a CommonJS project, and every README example, which then also runs
//    (scripts/check-readme-examples.mjs: data from the system copy, no network); run the installed `fmnist --help`,
//    `fmnist --version`, `fmnist data` and `fmnist-data`; bundle a browser consumer of @fmnist/data, @fmnist/onnx,
//    @fmnist/classify and @fmnist/report with esbuild (platform: browser) and fail on any Node built-in (or TensorFlow.js)
//    in it; run @fmnist/classify's
//    bundled model on real test images and on photo-like PNGs (a test image enlarged onto a white page, through crop
//    and auto-invert), and `fmnist predict` with it, results on stdout.
// 4. lean installs (scripts/lib/install-size.mjs): `npm i @fmnist/model` and `npm i @fmnist/onnx` each in its own fresh
//    project stay ≤ 10 MB with no @tensorflow folder (asserted; the cold import time is printed, not asserted), the
//    kernels engine runs there and a TensorFlow.js backend fails with E_BACKEND_UNAVAILABLE; `@fmnist/model/tfjs`
//    runs in the full project, where the CLI brings TensorFlow.js; `npm i @fmnist/classify` likewise (size printed and
//    ≤ 10 MB, no @tensorflow, sharp not installed: it is an optional peer).
//
// usage: node scripts/pack-smoke.mjs [--keep]   (build first: `pnpm test:pack` does both; --keep leaves the temp project)
// The dataset is found as @fmnist/data finds it (FMNIST_DATA_DIR, the cache, /usr/share/datasets/fashion-mnist):
// nothing is downloaded.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkReadmeExamples, runReadmeExamples, SYSTEM_DIR } from './check-readme-examples.mjs';
import { createChecks } from './lib/checks.mjs';
import {
  coldImportMs,
  formatClassifyInstall,
  formatLeanInstalls,
  leanInstallProblems,
  MAX_INSTALL_MB,
  measureClassifyInstall,
  measureLeanInstalls,
  NO_TFJS_SCRIPT,
} from './lib/install-size.mjs';
import { checkTarball, formatKb, formatTable, readTarball } from './lib/tarball.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The published packages, dependencies first. */
const PACKAGES = [
  { name: '@fmnist/data', dir: 'packages/data' },
  { name: '@fmnist/model', dir: 'packages/model' },
  { name: '@fmnist/classify', dir: 'packages/classify' },
  { name: '@fmnist/onnx', dir: 'packages/onnx' },
  { name: '@fmnist/report', dir: 'packages/report' },
  { name: '@fmnist/cli', dir: 'apps/cli' },
];
const keep = process.argv.includes('--keep');
const { check, setupFailed, finish } = createChecks('pack-smoke');

// Tool versions for the consumer: the workspace's own, so the smoke test checks what the repo is built with.
// (esbuild is a devDependency of @fmnist/data, typescript of the root.)
const versionOf = (name) => createRequire(join(ROOT, 'packages/data/package.json'))(`${name}/package.json`).version;
// @tensorflow/tfjs (an optional peer of @fmnist/data) for the TensorFlow.js adapter's runtime and type checks.
const TOOLS = [
  `typescript@${versionOf('typescript')}`,
  `esbuild@${versionOf('esbuild')}`,
  `@types/node@^20`,
  `@tensorflow/tfjs@${versionOf('@tensorflow/tfjs')}`,
];

/** The environment for npm and the consumer: no pnpm/npm script variables (they leak from `pnpm run`). */
function cleanEnv(extra = {}) {
  const keepNpm = /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl|cafile|ca)$/i;
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm|pnpm)_/i.test(k) && !keepNpm.test(k)) continue;
    if (k === 'INIT_CWD' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  // onnxruntime-node's install script would fetch CUDA files; its CPU binaries ship in the package.
  return { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip', NO_COLOR: '1', ...extra };
}

/** Runs a command; throws with its output when it fails. */
function run(cmd, args, { cwd, env = cleanEnv(), allowFail = false, timeoutMs = 600_000 } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: timeoutMs });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (!allowFail && (r.status !== 0 || r.error)) {
    const tail = output.trim().split('\n').slice(-40).join('\n');
    const why = r.error ? r.error.message : `exit status ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
    throw new Error(`\`${cmd} ${args.join(' ')}\` failed in ${cwd}: ${why}\n${tail}`);
  }
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', output };
}

function writeFiles(dir, files) {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

/** A consumer of the explicit subpaths and the adapters' types (checked as .mts, .cts and under bundler). */
const SUBPATHS_TS = `import { batches, type LoadResult, oneHot, toBatch } from '@fmnist/data';
import { defaultCacheDir, loadFashionMnist as loadNode } from '@fmnist/data/node';
import { type TfBatch, type TfDatasetOptions, toTfDataset } from '@fmnist/data/tfjs';
import { exportOnnxFile } from '@fmnist/onnx/node';
import { toModelInput } from '@fmnist/onnx';
import type * as tf from '@tensorflow/tfjs';

declare const tfjs: typeof tf;
declare const ort: { Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => { dims: readonly number[] } };
export async function main(): Promise<unknown[]> {
  const cache: string = defaultCacheDir();
  const onlyTest = await loadNode({ splits: ['test'], dir: cache });
  const n: number = onlyTest.test.count;
  // @ts-expect-error a test-only result has no train split
  onlyTest.train;
  const both: LoadResult = await loadNode({ dir: cache });
  const options: TfDatasetOptions = { seed: 1, layout: 'nchw', labels: 'index' };
  const ds: tf.data.Dataset<TfBatch> = toTfDataset(tfjs, both.train, options);
  // @ts-expect-error not a layout
  toTfDataset(tfjs, both.train, { seed: 1, layout: 'hwc' });
  const ys: Float32Array = oneHot(both.test.labels);
  const dims: readonly number[] = toModelInput(ort, toBatch(onlyTest.test, { layout: 'nchw' })).dims;
  for (const b of batches(both.test, { layout: 'nhwc' })) b.shape satisfies number[];
  return [n, ds, ys, dims, exportOnnxFile];
}
`;

const work = mkdtempSync(join(tmpdir(), 'fmnist-pack-smoke-'));
const tarballDir = join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(tarballDir);
mkdirSync(app);
console.log(`pack-smoke: temp project ${work}`);

const packed = [];
try {
  await check(
    'pack every published package (pnpm pack) and check the tarballs',
    () => {
      const rows = [['package', 'version', 'files', 'packed', 'unpacked']];
      const problems = [];
      for (const pkg of PACKAGES) {
        const dir = join(ROOT, pkg.dir);
        if (!existsSync(join(dir, 'dist')))
          throw new Error(`${pkg.dir}/dist is missing: run \`pnpm build\` first (\`pnpm test:pack\` does).`);
        const before = new Set(readdirSync(tarballDir));
        run('pnpm', ['pack', '--pack-destination', tarballDir], { cwd: dir, env: cleanEnv() });
        const file = readdirSync(tarballDir).find((f) => !before.has(f) && f.endsWith('.tgz'));
        if (!file) throw new Error(`pnpm pack wrote no tarball for ${pkg.name}`);
        const tarball = readTarball(join(tarballDir, file));
        const manifest = JSON.parse(tarball.files.find((f) => f.path === 'package.json').data.toString('utf8'));
        problems.push(...checkTarball(tarball).map((p) => `${pkg.name}: ${p}`));
        packed.push({ ...pkg, file: join(tarballDir, file), version: manifest.version, manifest });
        rows.push([pkg.name, manifest.version, tarball.files.length, formatKb(tarball.packedBytes), formatKb(tarball.unpackedBytes)]);
      }
      if (problems.length) throw new Error(`tarball problems:\n${problems.join('\n')}`);
      return formatTable(rows, ['l', 'l', 'r', 'r', 'r']);
    },
    { fatal: true },
  );

  writeFiles(app, {
    'package.json': `${JSON.stringify({ name: 'fmnist-smoke-consumer', version: '1.0.0', private: true, license: 'MIT' }, null, 2)}\n`,
  });
  await check(
    `npm install the ${packed.length} tarballs + ${TOOLS.join(' ')} into a fresh project`,
    () => {
      const t = run(
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...packed.map((p) => p.file), ...TOOLS],
        { cwd: app },
      );
      return t.output.trim().split('\n').slice(-3).join('\n');
    },
    { fatal: true },
  );

  await check('npm ls: every @fmnist/* package comes from its tarball, no registry copy, no tfjs-node', () => {
    const tree = JSON.parse(run('npm', ['ls', '--all', '--json', '--long'], { cwd: app, allowFail: true }).stdout);
    const problems = [];
    const seen = new Map();
    const walk = (deps, trail) => {
      for (const [name, node] of Object.entries(deps ?? {})) {
        if (name.startsWith('@fmnist/')) {
          const expected = packed.find((p) => p.name === name);
          if (!expected) problems.push(`${[...trail, name].join(' > ')}: not one of the packed packages`);
          else if (node.missing) problems.push(`${[...trail, name].join(' > ')}: missing (wanted ${node.required ?? '?'})`);
          else if (!String(node.resolved ?? '').startsWith('file:'))
            problems.push(`${[...trail, name].join(' > ')}: resolved from ${node.resolved} instead of the tarball`);
          else if (node.version !== expected.version)
            problems.push(`${[...trail, name].join(' > ')}: version ${node.version}, packed ${expected.version}`);
          else seen.set(name, node.path);
        }
        if (name === '@tensorflow/tfjs-node' && (node.version || node.path))
          problems.push(`${[...trail, name].join(' > ')}: the optional peer @tensorflow/tfjs-node was installed`);
        if (node.dependencies && trail.length < 12) walk(node.dependencies, [...trail, name]);
      }
    };
    walk(tree.dependencies, []);
    for (const p of packed) if (!seen.has(p.name)) problems.push(`${p.name} is not installed`);
    if (existsSync(join(app, 'node_modules/@tensorflow/tfjs-node'))) problems.push('node_modules/@tensorflow/tfjs-node exists');
    if (problems.length) throw new Error(problems.join('\n'));
    return [...seen.entries()].map(([n, p]) => `${n} → ${p.replace(app, '.')}`).join('\n');
  });

  const versions = Object.fromEntries(packed.map((p) => [p.name, p.version]));
  writeFiles(app, {
    // ESM: load the real data, train a tiny model on the kernels (worker threads from the installed package), export
    // it from memory and from a checkpoint through the node entry of @fmnist/onnx, run it with onnxruntime-node.
    'esm.mjs': `import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CLASS_NAMES, loadFashionMnist, normalize, subset } from '@fmnist/data';
import { createModel, train } from '@fmnist/model';
import { PRESETS } from '@fmnist/model/core';
import { exportOnnx, exportOnnxFile, readOnnxMetadata } from '@fmnist/onnx';
import * as ort from 'onnxruntime-node';

const { test, train: trainSet, source, location } = await loadFashionMnist({ download: false });
assert.equal(test.count, 10000);
assert.equal(test.images.length, 10000 * 784);
assert.equal(test.labels.length, 10000);
assert.equal(CLASS_NAMES[test.labels[0]], 'Ankle boot');
assert.ok(PRESETS['patch-mlp']);

const range = (n) => Array.from({ length: n }, (_, i) => i);
const model = createModel('patch-mlp');
const history = await train({
  model,
  data: { train: subset(trainSet, range(1024)), test: subset(test, range(512)) },
  epochs: 1,
  checkpointDir: 'ckpt',
});
assert.equal(history.epochs.length, 1);
assert.ok(Number.isFinite(history.loss[0]), 'loss is finite');

const bytes = exportOnnx(model, { history });
const meta = readOnnxMetadata(bytes);
assert.equal(meta.producerVersion, ${JSON.stringify(versions['@fmnist/onnx'])}, 'producer_version is the package version');
const { path } = await exportOnnxFile('ckpt', 'model.onnx', { quantize: 'int8' });
assert.equal(readOnnxMetadata(readFileSync(path)).quantization, 'int8');

const session = await ort.InferenceSession.create(bytes);
const image = new ort.Tensor('float32', normalize(test.images.subarray(0, 4 * 784)), [4, 1, 28, 28]);
const { probabilities } = await session.run({ image });
for (let i = 0; i < 4; i++) {
  const sum = probabilities.data.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-4, 'probabilities sum to 1');
}
console.log(\`test split: \${test.count} images from \${source} (\${location}); trained 1 epoch on 1,024 images with \${history.backend} × \${history.threads}, loss \${history.loss[0].toFixed(3)}; ONNX \${bytes.length} bytes, int8 from checkpoint \${readFileSync(path).length} bytes, onnxruntime-node ran it\`);
`,
    // @fmnist/classify: the bundled model on real test images (its recorded accuracy on a slice) and on photo-like PNGs
    // (a test image enlarged 10× onto a 600×400 white page, encoded with sharp, which the CLI brings) through crop and
    // auto-invert; the browser entry's preprocessing and hostile inputs.
    'classify.mjs': `import assert from 'node:assert/strict';
import { getImage, loadFashionMnist } from '@fmnist/data';
import { createClassifier, FmnistClassifyError } from '@fmnist/classify';
import * as browser from '@fmnist/classify/browser';
import sharp from 'sharp';

const { test } = await loadFashionMnist({ splits: ['test'], download: false });
const classifier = await createClassifier();
assert.ok(classifier.info.accuracy >= 0.9, \`recorded accuracy \${classifier.info.accuracy}\`);
const n = 1000;
const ranked = await classifier.classifyPixels(test.images.subarray(0, n * 784), { topK: 1 });
const correct = ranked.filter((r, i) => r[0].index === test.labels[i]).length;
assert.ok(correct / n >= 0.88, \`\${correct} / \${n} of the first test images\`);
const first = await classifier.classify({ data: getImage(test, 0), width: 28, height: 28 }, { topK: 3 });
assert.equal(first[0].label, 'Ankle boot');
assert.equal(first.length, 3);

const photos = [];
for (const i of [0, 1, 2, 3, 4, 5, 6, 7]) {
  const garment = await sharp(Buffer.from(getImage(test, i).map((v) => 255 - v)), { raw: { width: 28, height: 28, channels: 1 } })
    .resize(280, 280, { kernel: 'lanczos3' }).png().toBuffer();
  const png = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#ffffff' } })
    .composite([{ input: garment, left: 160, top: 60 }]).png().toBuffer();
  photos.push({ png, label: test.labels[i] });
}
const results = await classifier.classify(photos.map((p) => p.png), { topK: 1 });
const right = results.filter((r, k) => r[0].index === photos[k].label).length;
assert.ok(right >= 7, \`photo-like pictures: \${right} / \${photos.length} right\`);
const prepared = await classifier.prepare(photos[0].png);
assert.ok(prepared.cropped && prepared.inverted, 'cropped and inverted');

await assert.rejects(classifier.classify({ data: new Uint8Array(5), width: 28, height: 28 }), (e) => e instanceof FmnistClassifyError && e.code === 'E_IMAGE_DATA');
await assert.rejects(classifier.classify(new TextEncoder().encode('not an image')), (e) => e.code === 'E_IMAGE_DECODE');
assert.equal(browser.prepareImage({ data: getImage(test, 0), width: 28, height: 28 }, { crop: false }).pixels.length, 784);
classifier.dispose();
console.log(\`bundled model (\${classifier.info.preset}, recorded \${(classifier.info.accuracy * 100).toFixed(2)} %): \${correct} / \${n} of the first test images; photo-like PNGs (600×400, crop + auto-invert): \${right} / \${photos.length}\`);
`,
    // CJS: require() every entry, load the real data, export a model.
    'cjs.cjs': `const assert = require('node:assert/strict');
const data = require('@fmnist/data');
const browserData = require('@fmnist/data/browser');
const model = require('@fmnist/model');
const core = require('@fmnist/model/core');
const onnx = require('@fmnist/onnx');
const browserOnnx = require('@fmnist/onnx/browser');
const classify = require('@fmnist/classify');
const classifyNode = require('@fmnist/classify/node');
const report = require('@fmnist/report');

(async () => {
  for (const [name, fn] of Object.entries({ 'data.loadFashionMnist': data.loadFashionMnist, 'data/browser.loadFashionMnist': browserData.loadFashionMnist, 'model.train': model.train, 'core.createModel': core.createModel, 'onnx.exportOnnxFile': onnx.exportOnnxFile, 'onnx/browser.exportOnnx': browserOnnx.exportOnnx, 'classify.createClassifier': classify.createClassifier, 'classify/node.readImage': classifyNode.readImage, 'report.renderRunReport': report.renderRunReport }))
    assert.equal(typeof fn, 'function', name);
  const { test, source } = await data.loadFashionMnist({ download: false });
  assert.equal(test.count, 10000);
  assert.equal(test.labels.length, 10000);
  const bytes = onnx.exportOnnx(core.createModel('patch-mlp'));
  assert.equal(onnx.readOnnxMetadata(bytes).preset, 'patch-mlp');
  assert.equal(require('@fmnist/data/package.json').version, ${JSON.stringify(versions['@fmnist/data'])});
  console.log(\`test split: \${test.count} images from \${source}; ONNX export \${bytes.length} bytes\`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`,
    // Split-only loading against a local server on 127.0.0.1 that counts the requests per file, through the Node
    // loader (download into an empty cache) and the browser entry; then both adapters on the real test split.
    'splits-adapters.mjs': `import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FASHION_MNIST_FILES, loadFashionMnist, subset, toBatch } from '@fmnist/data';
import { loadFashionMnist as loadInBrowser } from '@fmnist/data/browser';
import { loadFashionMnist as loadNode } from '@fmnist/data/node';
import { toTfDataset } from '@fmnist/data/tfjs';
import { createModel, createPredictor } from '@fmnist/model/core';
import { exportOnnx, INPUT_NAME, toModelInput } from '@fmnist/onnx';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';

const { location } = await loadFashionMnist({ download: false, splits: ['test'] });
const names = Object.values(FASHION_MNIST_FILES).map((f) => f.name);
const counts = new Map();
const server = createServer((req, res) => {
  const name = decodeURIComponent(req.url.slice(1));
  counts.set(name, (counts.get(name) ?? 0) + 1);
  if (!names.includes(name)) return void res.writeHead(404).end();
  res.writeHead(200, { 'access-control-allow-origin': '*' }).end(readFileSync(join(location, name)));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = \`http://127.0.0.1:\${server.address().port}/\`;
const requested = () => names.map((n) => counts.get(n) ?? 0).join(' ');
const cacheDir = mkdtempSync(join(tmpdir(), 'fmnist-smoke-cache-'));
try {
  delete process.env.FMNIST_DATA_DIR;
  const node = await loadNode({ splits: ['test'], cacheDir, systemDir: false, mirrors: [base], verify: true });
  assert.equal(node.source, 'download');
  assert.equal(node.test.count, 10000);
  assert.equal('train' in node, false);
  assert.equal(requested(), '0 0 1 1', 'Node: only the two test files are requested');
  counts.clear();
  const web = await loadInBrowser({ baseUrl: base, splits: ['test'], verify: true });
  assert.equal(web.test.count, 10000);
  assert.equal(requested(), '0 0 1 1', 'browser entry: only the two test files are requested');
} finally {
  server.close();
  rmSync(cacheDir, { recursive: true, force: true });
}
const { test } = await loadFashionMnist({ download: false, splits: ['test'] });

await tf.setBackend('cpu');
const ds = toTfDataset(tf, subset(test, Array.from({ length: 100 }, (_, i) => i)), { batchSize: 64, seed: 1 });
const shapes = [];
await ds.forEachAsync(({ xs, ys }) => {
  shapes.push(\`\${xs.shape.join('×')}/\${ys.shape.join('×')}\`);
  tf.dispose([xs, ys]);
});
assert.deepEqual(shapes, ['64×28×28×1/64×10', '36×28×28×1/36×10']);

const model = createModel('patch-mlp');
const session = await ort.InferenceSession.create(exportOnnx(model));
const few = subset(test, [0, 1, 2, 3]);
const out = await session.run({ [INPUT_NAME]: toModelInput(ort, few) });
assert.deepEqual(out.logits.dims, [4, 10]);
const reference = (await createPredictor(model)).predict(toBatch(few).x);
const diff = Math.max(...Array.from(reference, (v, i) => Math.abs(v - out.logits.data[i])));
assert.ok(diff <= 1e-5, \`ORT vs kernels logits differ by \${diff}\`);
console.log(\`splits ['test']: requests per file (train images, train labels, test images, test labels) 0 0 1 1 in Node and the browser entry; toTfDataset: \${shapes.join(', ')}; toModelInput → ORT [4, 10], max |logit diff| vs kernels \${diff.toExponential(1)}\`);
`,
    // TypeScript consumers. The @ts-expect-error lines fail the check if the types silently degrade to \`any\`.
    'ts/esm.mts': `import { type Classification, createClassifier, readImage } from '@fmnist/classify/node';
import { CLASS_NAMES, type FashionMnistSplit, loadFashionMnist } from '@fmnist/data';
import { loadFashionMnist as loadFromUrls } from '@fmnist/data/browser';
import { createModel, type FmnistModel, type History, train } from '@fmnist/model';
import { PRESETS } from '@fmnist/model/core';
import { exportOnnx, exportOnnxFile, type OnnxMetadata, readOnnxMetadata } from '@fmnist/onnx';

const { test, source } = await loadFashionMnist({ download: false });
const split: FashionMnistSplit = test;
const count: number = split.count;
// @ts-expect-error count is a number
const wrong: string = split.count;
const model: FmnistModel = createModel('patch-mlp');
const history: History = await train({ model, data: { train: test }, epochs: 1 });
const meta: OnnxMetadata = readOnnxMetadata(exportOnnx(model, { history, quantize: 'int8' }));
// @ts-expect-error not a quantization
exportOnnx(model, { quantize: 'int4' });
const classifier = await createClassifier();
const top: Classification[] = await classifier.classify('shoe.png', { topK: 3, invert: 'auto', crop: true });
const batch: Classification[][] = await classifier.classify([new Uint8Array(8), { data: new Uint8Array(784), width: 28, height: 28 }]);
// @ts-expect-error invert is a boolean or 'auto'
await classifier.classify('shoe.png', { invert: 'yes' });
export { CLASS_NAMES, PRESETS, batch, count, exportOnnxFile, loadFromUrls, meta, readImage, source, top, wrong };
`,
    // The explicit subpaths and the adapters' types, in each of the three setups (node16 ESM, node16 CommonJS, bundler).
    'ts/subpaths.mts': SUBPATHS_TS,
    'ts/subpaths.cts': SUBPATHS_TS,
    'ts/subpaths-bundler.ts': SUBPATHS_TS,
    // A .ts file of a package without "type": a CommonJS project (module nodenext compiles its imports to require).
    'ts/subpaths-commonjs.ts': SUBPATHS_TS,
    'ts/tsconfig.commonjs.json': `${JSON.stringify(
      {
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['subpaths-commonjs.ts'],
      },
      null,
      2,
    )}\n`,
    'ts/cjs.cts': `import { createClassifier } from '@fmnist/classify';
import { loadFashionMnist } from '@fmnist/data';
import { createModel } from '@fmnist/model';
import { exportOnnx } from '@fmnist/onnx';
import { FmnistReportError, renderRunReport } from '@fmnist/report';

export async function main(): Promise<number> {
  const { test } = await loadFashionMnist({ download: false });
  // @ts-expect-error labels is a typed array, not a string
  const wrong: string = test.labels;
  const [best] = await (await createClassifier()).classify({ data: new Uint8Array(784), width: 28, height: 28 }, { topK: 1 });
  const html: string = renderRunReport({ title: 't', epochs: [], evaluation: { confusion: [], predictions: test.labels }, testImages: test, config: {} }).html;
  // @ts-expect-error the code is one of FmnistReportErrorCode
  const code: 'E_OTHER' = new FmnistReportError('E_REPORT_INPUT', 'x').code;
  return exportOnnx(createModel('patch-mlp')).length + test.count + wrong.length + (best?.score ?? 0) + html.length + code.length;
}
`,
    'ts/bundler.ts': `import { type Classification, createClassifier, type FmnistClassifyErrorCode } from '@fmnist/classify';
import { CLASS_NAMES, loadFashionMnist } from '@fmnist/data';
import { createModel, PRESETS } from '@fmnist/model/core';
import { exportOnnx, readOnnxMetadata } from '@fmnist/onnx';
import { type RunReport, renderRunReport } from '@fmnist/report';

export async function main(): Promise<string> {
  const { test } = await loadFashionMnist({ baseUrl: '/data/' });
  const bytes: Uint8Array = exportOnnx(createModel('patch-mlp'), { quantize: 'fp16' });
  // @ts-expect-error preset names are checked
  createModel('no-such-preset');
  const top: Classification[] = await (await createClassifier()).classify(new OffscreenCanvas(28, 28), { topK: 3 });
  const code: FmnistClassifyErrorCode = 'E_IMAGE_DATA';
  // @ts-expect-error topK is a number
  await (await createClassifier()).classify(new OffscreenCanvas(28, 28), { topK: '3' });
  const report: RunReport = renderRunReport({ title: 't', epochs: [], evaluation: { confusion: [], predictions: test.labels }, testImages: test, config: {} });
  // @ts-expect-error epochs are EpochRecord objects
  renderRunReport({ title: 't', epochs: [1], evaluation: { confusion: [], predictions: test.labels }, testImages: test, config: {} });
  String(report.curvesSvg) satisfies string;
  return top.length + code + \`\${CLASS_NAMES[test.labels[0] ?? 0]} \${readOnnxMetadata(bytes).preset} \${Object.keys(PRESETS).length}\`;
}
`,
    'ts/tsconfig.node16.json': `${JSON.stringify(
      {
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          lib: ['es2022'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['esm.mts', 'cjs.cts', 'subpaths.mts', 'subpaths.cts'],
      },
      null,
      2,
    )}\n`,
    'ts/tsconfig.bundler.json': `${JSON.stringify(
      {
        compilerOptions: {
          module: 'esnext',
          moduleResolution: 'bundler',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['bundler.ts', 'subpaths-bundler.ts'],
      },
      null,
      2,
    )}\n`,
    // Browser consumer: the default entries under the browser conditions, bundled by esbuild.
    'browser/entry.mjs': `import { createClassifier, prepareImage } from '@fmnist/classify';
import { batches, CLASS_NAMES, loadFashionMnist, normalize, patchify } from '@fmnist/data';
import { exportOnnx, readOnnxMetadata, readOnnxWeights } from '@fmnist/onnx';
import { createModel, createPredictor, memoryCheckpointStore, runKernelsWorker, scoreLogits, train } from '@fmnist/model/core';
import { renderRunReport } from '@fmnist/report';

// The training in a page: core's train with kernels web workers, and the workers' own body.
export const trainInPage = (data) =>
  train({ model: createModel('patch-mlp'), data, epochs: 1, kernels: { spawn: () => new Worker(new URL('./kernels.js', import.meta.url), { type: 'module' }) }, checkpointStore: memoryCheckpointStore() });
export const kernelsWorker = runKernelsWorker;

export async function main(baseUrl) {
  const { test } = await loadFashionMnist({ baseUrl });
  const bytes = exportOnnx(createModel('patch-mlp'), { quantize: 'int8' });
  const predictor = await createPredictor(readOnnxWeights(bytes));
  const logits = predictor.predict(normalize(test.images.subarray(0, 784)), 1);
  const classifier = await createClassifier({ model: new URL('./fmnist-classify.safetensors', baseUrl) });
  const top = await classifier.classify(new OffscreenCanvas(28, 28), { topK: 3 });
  const evaluation = scoreLogits(logits, test.labels.subarray(0, 1), 10);
  const { html } = renderRunReport({ title: 'in a page', epochs: [], evaluation, testImages: { images: test.images.subarray(0, 784), labels: test.labels.subarray(0, 1) }, config: {} });
  return { meta: readOnnxMetadata(bytes), first: CLASS_NAMES[test.labels[0]], logits, batches, patchify, prepareImage, top, html };
}
`,
    'browser/bundle.mjs': `import { builtinModules, createRequire } from 'node:module';
const esbuild = createRequire(import.meta.url)('esbuild');
const builtins = new Set(builtinModules.flatMap((m) => [m, \`node:\${m}\`]));
const isBuiltin = (p) => p.startsWith('node:') || builtins.has(p) || builtins.has(p.split('/')[0]) || p.startsWith('(disabled):');
let result;
try {
  result = await esbuild.build({
    entryPoints: ['browser/entry.mjs'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    outfile: 'browser/out/bundle.js',
    metafile: true,
    logLevel: 'silent',
  });
} catch (err) {
  const lines = (err.errors ?? []).map((e) => \`\${e.location ? \`\${e.location.file}:\${e.location.line}: \` : ''}\${e.text}\`);
  console.error(\`esbuild could not bundle for the browser:\\n\${lines.join('\\n') || err.message}\`);
  process.exit(1);
}
const problems = [];
const { inputs, outputs } = result.metafile;
for (const [file, input] of Object.entries(inputs)) {
  if (isBuiltin(file)) problems.push(\`\${file} (a Node built-in) is in the bundle\`);
  if (/node_modules\\/@tensorflow\\//.test(file)) problems.push(\`\${file}: TensorFlow.js is in the bundle (use @fmnist/model/core in browser code)\`);
  for (const imp of input.imports) if (isBuiltin(imp.path)) problems.push(\`\${file} imports the Node built-in '\${imp.path}'\`);
}
for (const [file, output] of Object.entries(outputs))
  for (const imp of output.imports) if (isBuiltin(imp.path) || imp.external) problems.push(\`\${file} imports '\${imp.path}' at run time\`);
if (problems.length) {
  console.error(problems.join('\\n'));
  process.exit(1);
}
const [out] = Object.values(outputs);
const fromPkgs = new Set(Object.keys(inputs).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));
console.log(\`\${Object.keys(inputs).length} modules from \${[...fromPkgs].sort().join(', ')}; \${out.bytes} bytes minified; no Node built-ins\`);
`,
  });

  const node = (args, opts) => run(process.execPath, args, { cwd: app, ...opts });
  await check('ESM: import @fmnist/data, load the real test split; train, export and run a model from the installed packages', () =>
    node(['esm.mjs']).stdout.trim(),
  );
  await check('CJS: require() every entry of @fmnist/data, /model, /onnx; load the real test split', () => node(['cjs.cjs']).stdout.trim());
  await check(
    '@fmnist/classify: the bundled model on real test images and on photo-like PNGs (600×400 white page; crop + auto-invert), hostile inputs',
    () => node(['classify.mjs']).stdout.trim(),
  );
  await check(
    "splits ['test'] through Node and the browser entry against a counting local server; toTfDataset; toModelInput in onnxruntime-node",
    () => node(['splits-adapters.mjs']).stdout.trim(),
  );
  // skipLibCheck is off so that our own .d.ts/.d.cts are checked; errors inside other packages' declarations (TensorFlow.js
  // needs the DOM lib and has strictness errors of its own) are listed but do not fail the check.
  const typecheck = (project) => {
    const r = node([join(app, 'node_modules/typescript/bin/tsc'), '-p', project, '--pretty', 'false'], { allowFail: true });
    const errors = r.stdout.split('\n').filter((l) => /^\S.*\(\d+,\d+\): error TS/.test(l));
    const foreign = errors.filter((l) => l.startsWith('node_modules/') && !l.startsWith('node_modules/@fmnist/'));
    const ours = errors.filter((l) => !foreign.includes(l));
    if (ours.length || (r.status !== 0 && errors.length === 0)) throw new Error(ours.join('\n') || r.output);
    const pkgs = [...new Set(foreign.map((l) => /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(l)[1]))].sort();
    return `tsc ${versionOf('typescript')}: no errors in the consumer or in @fmnist/* declarations${
      foreign.length ? `; ${foreign.length} errors inside third-party declarations ignored (${pkgs.join(', ')})` : ''
    }`;
  };
  await check('TypeScript consumer, moduleResolution node16 (.mts + .cts; lib es2022 without DOM; skipLibCheck off)', () =>
    typecheck('ts/tsconfig.node16.json'),
  );
  await check('TypeScript consumer, moduleResolution bundler (lib dom; skipLibCheck off)', () => typecheck('ts/tsconfig.bundler.json'));
  await check('TypeScript consumer, CommonJS project (.ts without "type": "module", module nodenext; skipLibCheck off)', () =>
    typecheck('ts/tsconfig.commonjs.json'),
  );
  await check('every README example of packages/* type-checks as strict TypeScript against the installed packages', () =>
    checkReadmeExamples(app),
  );
  await check(
    `every README example runs against the installed packages (data from ${SYSTEM_DIR}, no network; no-run marks printed)`,
    () => {
      const lines = [];
      const { summary } = runReadmeExamples(app, { log: (l) => lines.push(l.trim()) });
      return [summary, ...lines].join('\n');
    },
  );

  const bin = (name) => join(app, 'node_modules/.bin', name);
  await check('installed `fmnist --help` and `fmnist --version`', () => {
    const help = run(bin('fmnist'), ['--help'], { cwd: app });
    for (const command of ['data', 'train', 'eval', 'export', 'predict', 'bench'])
      if (!new RegExp(`^\\s+${command}\\b`, 'm').test(help.stdout))
        throw new Error(`'fmnist --help' does not list '${command}':\n${help.stdout}`);
    const version = run(bin('fmnist'), ['--version'], { cwd: app }).stdout.trim();
    if (version !== versions['@fmnist/cli'])
      throw new Error(`'fmnist --version' printed '${version}', the package is ${versions['@fmnist/cli']}`);
    return `fmnist ${version}: ${help.stdout.split('\n').filter((l) => /^\s+\w+/.test(l)).length} help lines`;
  });
  await check('installed `fmnist data` (and --json)', () => {
    const human = run(bin('fmnist'), ['data'], { cwd: app });
    if (!/test: 10000 images/.test(human.output)) throw new Error(`'fmnist data' did not report the test split:\n${human.output}`);
    const json = JSON.parse(run(bin('fmnist'), ['data', '--json'], { cwd: app }).stdout);
    if (json.train.count !== 60000 || json.test.count !== 10000)
      throw new Error(`'fmnist data --json' counts: ${json.train.count}/${json.test.count}`);
    return human.output.trim().split('\n')[0];
  });
  await check('installed `fmnist predict --test-index 0` (bundled model): the result on stdout, notes on stderr', () => {
    const r = run(bin('fmnist'), ['predict', '--test-index', '0'], { cwd: app });
    if (!/^test #0: Ankle boot \d/.test(r.stdout)) throw new Error(`unexpected stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    if (!/bundled model/.test(r.stderr)) throw new Error(`no model note on stderr:\n${r.stderr}`);
    return r.stdout.trim();
  });
  await check('installed `fmnist-data --no-download --json` (the bin of @fmnist/data)', () => {
    const json = JSON.parse(run(bin('fmnist-data'), ['--no-download', '--json'], { cwd: app }).stdout);
    if (!json.source || !Array.isArray(json.files) || json.files.length !== 4)
      throw new Error(`unexpected output: ${JSON.stringify(json).slice(0, 300)}`);
    return `source ${json.source}: ${json.location}`;
  });
  await check(
    'browser bundle of @fmnist/data + @fmnist/onnx + @fmnist/model/core incl. createPredictor, train and runKernelsWorker + @fmnist/classify + @fmnist/report (esbuild, platform browser): no Node built-ins',
    () => node(['browser/bundle.mjs']).stdout.trim(),
  );

  // ── Lean installs: TensorFlow.js is opt-in (libmodel; helpers in scripts/lib/install-size.mjs) ──────────────────
  await leanInstallChecks();
  // ── end of lean installs ──────────────────────────────────────────────────────────────────────────────────────
} catch (err) {
  setupFailed(err);
} finally {
  if (keep) console.log(`pack-smoke: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

finish();

/**
 * `npm i @fmnist/model` and `npm i @fmnist/onnx` each in a fresh project: at most MAX_INSTALL_MB of node_modules and no
 * @tensorflow folder (asserted); the default engine works there and a TensorFlow.js backend fails with
 * E_BACKEND_UNAVAILABLE; in the full project (where the CLI brings TensorFlow.js) the tfjs entry loads and runs.
 * Import times are printed, never asserted.
 */
async function leanInstallChecks() {
  let lean;
  await check(
    `npm i @fmnist/model, npm i @fmnist/onnx (each with @fmnist/data) in fresh projects: ≤ ${MAX_INSTALL_MB} MB, no @tensorflow`,
    () => {
      lean = measureLeanInstalls(packed, work);
      const problems = [...leanInstallProblems('npm i @fmnist/model', lean.model), ...leanInstallProblems('npm i @fmnist/onnx', lean.onnx)];
      if (problems.length) throw new Error(`${problems.join('\n')}\n${formatLeanInstalls(lean)}`);
      return formatLeanInstalls(lean);
    },
  );
  if (lean) {
    await check(
      'without TensorFlow.js: the kernels engine runs; backend cpu/wasm/tensorflow -> E_BACKEND_UNAVAILABLE naming the package',
      () => {
        writeFiles(lean.model.dir, { 'no-tfjs.mjs': NO_TFJS_SCRIPT });
        return run(process.execPath, ['no-tfjs.mjs'], { cwd: lean.model.dir }).stdout.trim();
      },
    );
  }
  await check(
    `npm i @fmnist/classify (with @fmnist/data, @fmnist/model) in a fresh project: ≤ ${MAX_INSTALL_MB} MB, no @tensorflow, no sharp`,
    () => {
      const c = measureClassifyInstall(packed, work);
      const problems = leanInstallProblems('npm i @fmnist/classify', c);
      if (c.sharp) problems.push('npm i @fmnist/classify installed sharp; it must stay an optional peer');
      if (problems.length) throw new Error(`${problems.join('\n')}\n${formatClassifyInstall(c)}`);
      return formatClassifyInstall(c);
    },
  );
  await check("with TensorFlow.js installed (the CLI depends on it): @fmnist/model/tfjs loads, backend 'cpu' runs", () => {
    writeFiles(app, {
      'tfjs.mjs': `import assert from 'node:assert/strict';
import { createEngine, createModel } from '@fmnist/model';
import { tf, useTfjsBackend } from '@fmnist/model/tfjs';

const model = createModel('patch-mlp');
const engine = await createEngine(model.config, model.params, { backend: 'cpu' });
assert.equal(engine.name, 'tfjs-cpu');
assert.equal((await engine.predict(new Float32Array(784))).length, 10);
await engine.dispose();
assert.equal(await useTfjsBackend('wasm'), 'wasm');
assert.equal(typeof tf.tensor, 'function');
console.log('tfjs-cpu engine ran; wasm backend active');
`,
    });
    const out = run(process.execPath, ['tfjs.mjs'], { cwd: app }).stdout.trim();
    return `${out}\ncold import('@fmnist/model/tfjs'): ${coldImportMs(app, '@fmnist/model/tfjs').toFixed(0)} ms (printed, not asserted)`;
  });
}
