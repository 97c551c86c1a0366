// `pnpm bench` / `pnpm --filter @fmnist/model bench`: per preset, training images/s of the kernels and of PyTorch on
// the same model and recipe (bench/torch_mixer.py, run with /usr/bin/python3 when it has torch), measured in turns in
// this run; then the wall time to 80.1 % test accuracy of `patch-mlp`, ours and PyTorch's, data loading included.
// With FMNIST_BENCH_FULL=1 (or --full; most of a day on 2 cores; turbo passes the variable through) the time to
// 80.1 / 90 / 91 % of every preset, both implementations. Figures are printed, not asserted. Build first (`pnpm bench`
// does, through turbo). The output is described in the README's Benchmark section.
//
// usage: node bench/train.mjs [--full] [--steps 24] [--rounds 3] [--threads 2] [--presets a,b] [--skip-torch]
//          [--skip-time-to-accuracy] [--accuracy-presets a,b] [--thresholds 0.801,0.9,0.91] [--epochs N] [--subset N]
//          [--backends]
//   --steps       timed training steps per preset and implementation (split over --rounds turns, after 3 warm-up steps)
//   --presets     presets of the images/s table (default: all)
//   --accuracy-presets, --thresholds   what the time-to-accuracy rows train and watch (default: patch-mlp and 0.801;
//                 with --full every preset and 0.801,0.9,0.91)
//   --epochs, --subset   override the recipe's epochs / train on the first N training images: for trying the script
//                 out, not for figures (the cosine schedule follows --epochs)
//   --backends    also the older table: patch-mlp on every available engine (kernels 1 and 2 threads, tfjs wasm, …)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadFashionMnist, subset } from '@fmnist/data';
import {
  canonicalPresetName,
  createEngine,
  createModel,
  initParams,
  PRESETS,
  resolveConfig,
  TRAINING_RECIPES,
  train,
  tryLoadTfjsNode,
} from '../dist/index.js';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean' },
    steps: { type: 'string', default: '24' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    presets: { type: 'string' },
    'skip-torch': { type: 'boolean' },
    'skip-time-to-accuracy': { type: 'boolean' },
    'accuracy-presets': { type: 'string' },
    thresholds: { type: 'string' },
    epochs: { type: 'string' },
    subset: { type: 'string' },
    backends: { type: 'boolean' },
  },
});
const FULL = values.full || process.env.FMNIST_BENCH_FULL === '1';
const BATCH = 256;
const ROUNDS = positive('rounds');
const STEPS_PER_ROUND = Math.max(1, Math.round(positive('steps') / ROUNDS));
const THREADS = positive('threads');
const ALL = Object.keys(PRESETS);
const presetList = (text) => {
  if (!text) return undefined;
  return [
    ...new Set(
      text.split(',').map((s) => canonicalPresetName(s.trim()) ?? fail(`unknown preset '${s.trim()}'; choose from ${ALL.join(', ')}`)),
    ),
  ];
};
const SPEED_PRESETS = presetList(values.presets) ?? ALL;
const ACCURACY_PRESETS = presetList(values['accuracy-presets']) ?? (FULL ? ALL : ['patch-mlp']);
const THRESHOLDS = (values.thresholds ?? (FULL ? '0.801,0.9,0.91' : '0.801')).split(',').map((t) => {
  const x = Number(t);
  if (!(x > 0 && x < 1)) fail(`--thresholds: '${t}' is not an accuracy between 0 and 1, e.g. 0.801`);
  return x;
});
THRESHOLDS.sort((a, b) => a - b);
const EPOCHS = values.epochs === undefined ? undefined : positive('epochs');
const SUBSET = values.subset === undefined ? undefined : positive('subset');
const here = dirname(fileURLToPath(import.meta.url));
// The Python that runs PyTorch (FMNIST_BENCH_PYTHON overrides it, e.g. a virtualenv's).
const PYTHON = process.env.FMNIST_BENCH_PYTHON || '/usr/bin/python3';
const TORCH_SCRIPT = join(here, 'torch_mixer.py');

function fail(message) {
  console.error(`bench/train.mjs: ${message}`);
  process.exit(2);
}
function positive(name) {
  const x = Number(values[name]);
  if (!Number.isInteger(x) || x < 1) fail(`--${name} must be a positive integer, got '${values[name]}'`);
  return x;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (x) => `${(x * 100).toFixed(2)} %`;
/** A threshold as written: 80.1 %, 90 %. */
const pctShort = (x) => `${Number((x * 100).toFixed(2))} %`;
const fmtInt = (x) => Math.round(x).toLocaleString('en-US');
const fmtTime = (s) => (s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`);
const pad = (cells, widths) =>
  cells
    .map((c, i) => String(c).padEnd(widths[i] ?? 0))
    .join('  ')
    .trimEnd();

// Unset OpenBLAS overrides for PyTorch only (they slow current BLAS builds; see the machine notes).
const torchEnv = { ...process.env };
delete torchEnv.OPENBLAS_CORETYPE;
delete torchEnv.OPENBLAS_L2_SIZE;

/** Why PyTorch cannot run here, or undefined when /usr/bin/python3 imports torch. */
function torchMissing() {
  if (values['skip-torch']) return '--skip-torch';
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { env: torchEnv, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    return undefined;
  } catch (err) {
    if (err.code === 'ENOENT') return `${PYTHON} does not exist`;
    const last = String(err.stderr ?? '')
      .trim()
      .split('\n')
      .at(-1);
    return `${PYTHON} cannot import torch (${last || err.message}); apt-get install python3-torch libopenblas0-pthread`;
  }
}

/** The PyTorch step-timing server (torch_mixer.py bench): one JSON request and one JSON answer per line. */
function startTorchBench() {
  const child = spawn(PYTHON, [TORCH_SCRIPT, 'bench', String(THREADS)], { env: torchEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  let stderr = '';
  let ended;
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-2000);
  });
  lines.on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.on('exit', (code, signal) => {
    ended = new Error(`PyTorch stopped (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').at(-1) ?? ''}`);
    for (const w of waiting.splice(0)) w.reject(ended);
  });
  return {
    request: (req) =>
      ended
        ? Promise.reject(ended)
        : new Promise((resolve, reject) => {
            waiting.push({ resolve, reject });
            child.stdin.write(`${JSON.stringify(req)}\n`);
          }),
    close: () =>
      new Promise((resolve) => {
        if (ended) return resolve();
        child.on('exit', resolve);
        child.stdin.end();
      }),
  };
}

const recipeOf = (preset) => TRAINING_RECIPES[preset];
/** The optimizer update and loss options of a preset's recipe at its peak learning rate. */
function updateOf(preset) {
  const r = recipeOf(preset);
  return {
    update: {
      learningRate: r.learningRate,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      ...(r.weightDecay ? { weightDecay: r.weightDecay } : {}),
    },
    loss: r.labelSmoothing ? { labelSmoothing: r.labelSmoothing } : undefined,
  };
}

console.log(`@fmnist/model bench — ${cpus().length}× ${cpus()[0]?.model}, Node ${process.version}${FULL ? ', FULL run' : ''}`);
const missing = torchMissing();
if (missing) console.log(`PyTorch: skipped — ${missing}`);

// ---- 0. the PyTorch model is ours: the same weights give the same logits, for every preset
if (!missing) {
  const n = 8;
  const x = Float32Array.from({ length: n * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000);
  const models = {};
  for (const preset of ALL) {
    const model = createModel(preset);
    const engine = await createEngine(model.config, model.params, { backend: 'kernels', threads: 1, maxBatch: n });
    try {
      const logits = await engine.predict(x);
      models[preset] = {
        config: model.config,
        params: Object.fromEntries(Object.entries(model.params).map(([k, v]) => [k, Array.from(v)])),
        logits: Array.from(logits),
      };
    } finally {
      await engine.dispose();
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'fmnist-bench-'));
  try {
    writeFileSync(join(dir, 'parity.json'), JSON.stringify({ n, x: Array.from(x), models }));
    const result = JSON.parse(
      execFileSync(PYTHON, [TORCH_SCRIPT, 'parity', join(dir, 'parity.json')], { env: torchEnv, encoding: 'utf8' }),
    );
    const worst = Object.entries(result).map(([name, r]) => `${name} ${(r.max_abs_diff / Math.max(1, r.max_abs_logit)).toExponential(1)}`);
    console.log(`PyTorch model check, our initial weights on ${n} images, max |logit difference| / max(1, |logit|): ${worst.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 1. training images/s per preset, ours and PyTorch's in turns
console.log(
  `\ntraining step: batch ${BATCH}, random data, the preset's optimizer settings; median of ${ROUNDS * STEPS_PER_ROUND} steps each ` +
    `(${ROUNDS} turn${ROUNDS === 1 ? '' : 's'} of ${STEPS_PER_ROUND}, ours and PyTorch's alternating), ${THREADS} threads`,
);
const speed = {}; // preset → { ours, torch } images/s
// The first column fits the longest preset name (mixer-s7-long is 13 characters).
const widths = [Math.max(12, ...SPEED_PRESETS.map((p) => p.length)), 14, 12, 18, 12, 10];
console.log(pad(['preset', 'kernels', 'img/s', 'PyTorch', 'img/s', 'ours ÷ PyTorch'], widths));
const torchBench = missing ? undefined : startTorchBench();
let torchVersion;
for (const preset of SPEED_PRESETS) {
  const config = resolveConfig(preset);
  const { update, loss } = updateOf(preset);
  const x = Float32Array.from({ length: BATCH * 784 }, () => Math.random());
  const y = Uint8Array.from({ length: BATCH }, (_, i) => i % 10);
  const engine = await createEngine(config, initParams(config), { backend: 'kernels', threads: THREADS, maxBatch: BATCH });
  const ours = [];
  const theirs = [];
  let torchError;
  try {
    for (let i = 0; i < 3; i++) await engine.trainStep(x, y, update, loss);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < STEPS_PER_ROUND; i++) {
        const t = performance.now();
        await engine.trainStep(x, y, update, loss);
        ours.push(performance.now() - t);
      }
      if (torchBench && !torchError) {
        const r = recipeOf(preset);
        try {
          const answer = await torchBench.request({
            config,
            recipe: { learningRate: r.learningRate, weightDecay: r.weightDecay, labelSmoothing: r.labelSmoothing },
            steps: STEPS_PER_ROUND,
            batch: BATCH,
          });
          torchVersion = answer.torch;
          theirs.push(...answer.times_ms);
        } catch (err) {
          torchError = err;
        }
      }
    }
  } finally {
    await engine.dispose();
  }
  const oursIps = (BATCH * 1000) / median(ours);
  const torchIps = theirs.length > 0 ? (BATCH * 1000) / median(theirs) : undefined;
  speed[preset] = { ours: oursIps, torch: torchIps };
  console.log(
    pad(
      [
        preset,
        `${median(ours).toFixed(1)} ms/step`,
        fmtInt(oursIps),
        torchIps ? `${median(theirs).toFixed(1)} ms/step` : torchError ? 'failed' : '–',
        torchIps ? fmtInt(torchIps) : '–',
        torchIps ? `${(oursIps / torchIps).toFixed(2)}×` : '',
      ],
      widths,
    ) + (torchError ? `  (${torchError.message})` : ''),
  );
}
await torchBench?.close();
if (torchVersion) console.log(`(PyTorch ${torchVersion}, ${THREADS} threads; kernels: @fmnist/model's WebAssembly engine)`);

// ---- 2. time to accuracy
if (!values['skip-time-to-accuracy']) {
  const note = [EPOCHS ? `--epochs ${EPOCHS}` : '', SUBSET ? `--subset ${SUBSET}` : ''].filter(Boolean).join(', ');
  console.log(
    `\ntime to ${THRESHOLDS.map(pctShort).join(' / ')} test accuracy: each preset's recipe (${FULL ? 'FMNIST_BENCH_FULL' : 'quick run'}` +
      `${note ? `; ${note}: NOT the documented recipe` : ''}), batch ${BATCH}, seed 0, ${THREADS} threads; the test set evaluated after ` +
      'every epoch, stopping once the highest threshold is reached; wall time from the start of data loading, evaluations included',
  );
  const rows = [];
  for (const preset of ACCURACY_PRESETS) {
    const ours = await oursToAccuracy(preset);
    rows.push({ preset, impl: 'kernels', ...ours });
    if (missing) rows.push({ preset, impl: 'PyTorch', skipped: missing });
    else rows.push({ preset, impl: 'PyTorch', ...(await torchToAccuracy(preset, ours.files)) });
  }
  const w = [Math.max(12, ...ACCURACY_PRESETS.map((p) => p.length)), 10, 8, ...THRESHOLDS.map(() => 24), 30];
  console.log(`\n${pad(['preset', 'impl', 'img/s', ...THRESHOLDS.map(pctShort), 'best test accuracy'], w)}`);
  for (const r of rows) {
    const ips = r.impl === 'kernels' ? speed[r.preset]?.ours : speed[r.preset]?.torch;
    if (r.skipped) {
      console.log(pad([r.preset, r.impl, ips ? fmtInt(ips) : '–', ...THRESHOLDS.map(() => '–'), `skipped: ${r.skipped}`], w));
      continue;
    }
    const cells = THRESHOLDS.map((t) => (r.reached[t] ? `${fmtTime(r.reached[t].s)} (epoch ${r.reached[t].epoch})` : 'not reached'));
    const best = r.error ? `failed: ${r.error}` : `${pct(r.best)} (${r.epochsRun} of ${r.epochs} epochs)`;
    console.log(pad([r.preset, r.impl, ips ? fmtInt(ips) : '–', ...cells, best], w));
  }
}

/** Trains a preset with its recipe in this process until the highest threshold (or the recipe's end). */
async function oursToAccuracy(preset) {
  const t0 = performance.now();
  const data = await loadFashionMnist();
  const trainSet = SUBSET
    ? subset(
        data.train,
        Uint32Array.from({ length: Math.min(SUBSET, data.train.count) }, (_, i) => i),
      )
    : data.train;
  const recipe = recipeOf(preset);
  const epochs = EPOCHS ?? recipe.epochs;
  const reached = {};
  let best = 0;
  let epochsRun = 0;
  const controller = new AbortController();
  await train({
    model: createModel(preset),
    data: { train: trainSet, test: data.test },
    epochs,
    batchSize: BATCH,
    learningRate: recipe.learningRate,
    lrSchedule: recipe.lrSchedule,
    weightDecay: recipe.weightDecay,
    labelSmoothing: recipe.labelSmoothing,
    ...(recipe.augment ? { augment: recipe.augment } : {}),
    seed: 0,
    evalEvery: 1,
    backend: 'kernels',
    threads: THREADS,
    signal: controller.signal,
    callbacks: {
      onEpochEnd: (r) => {
        const s = (performance.now() - t0) / 1000;
        epochsRun = r.epoch;
        best = Math.max(best, r.testAccuracy ?? 0);
        for (const t of THRESHOLDS) if (!reached[t] && (r.testAccuracy ?? 0) >= t) reached[t] = { s, epoch: r.epoch };
        console.log(`  kernels ${preset} epoch ${r.epoch}/${epochs}: test ${pct(r.testAccuracy ?? 0)} at ${fmtTime(s)}`);
        if (THRESHOLDS.every((t) => reached[t])) controller.abort();
      },
    },
  });
  return { reached, best, epochsRun, epochs, files: data.files.map((f) => f.location) };
}

/** The same with torch_mixer.py: the same recipe, thresholds and data files (train images, labels, test images, labels). */
async function torchToAccuracy(preset, files) {
  const recipe = recipeOf(preset);
  const epochs = EPOCHS ?? recipe.epochs;
  const args = [
    TORCH_SCRIPT,
    'train',
    JSON.stringify(files),
    JSON.stringify(resolveConfig(preset)),
    JSON.stringify({
      epochs,
      learningRate: recipe.learningRate,
      lrSchedule: recipe.lrSchedule,
      weightDecay: recipe.weightDecay,
      labelSmoothing: recipe.labelSmoothing,
      augment: recipe.augment,
      batchSize: BATCH,
      seed: 0,
      ...(SUBSET ? { subset: SUBSET } : {}),
      stopAt: THRESHOLDS.at(-1),
    }),
    String(THREADS),
  ];
  const reached = {};
  let best = 0;
  let epochsRun = 0;
  const child = spawn(PYTHON, args, { env: torchEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-2000);
  });
  for await (const line of createInterface({ input: child.stdout })) {
    const r = JSON.parse(line);
    epochsRun = r.epoch;
    best = Math.max(best, r.eval_accuracy);
    for (const t of THRESHOLDS) if (!reached[t] && r.eval_accuracy >= t) reached[t] = { s: r.wall_s, epoch: r.epoch };
    console.log(`  PyTorch ${preset} epoch ${r.epoch}/${epochs}: test ${pct(r.eval_accuracy)} at ${fmtTime(r.wall_s)}`);
  }
  const code = await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', resolve)));
  const error = code === 0 ? undefined : `exit ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`;
  return { reached, best, epochsRun, epochs, error };
}

// ---- 3. (--backends) the older table: patch-mlp on every available engine
if (values.backends) {
  const steps = ROUNDS * STEPS_PER_ROUND;
  console.log(`\npatch-mlp training step on every available engine: batch ${BATCH}, random data, median of ${steps} steps`);
  const adam = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  const x = Float32Array.from({ length: BATCH * 784 }, () => Math.random());
  const y = Uint8Array.from({ length: BATCH }, (_, i) => i % 10);
  const engines = [
    { label: `kernels, ${THREADS} threads`, backend: 'kernels', threads: THREADS },
    { label: 'kernels, 1 thread', backend: 'kernels', threads: 1 },
    { label: 'tfjs wasm (custom gradients)', backend: 'wasm' },
  ];
  if (await tryLoadTfjsNode()) engines.push({ label: 'tfjs-node (libtensorflow)', backend: 'tensorflow' });
  else console.log('tfjs-node: not installed / not loadable here — skipped');
  engines.push({ label: 'tfjs cpu', backend: 'cpu', steps: 3 });
  for (const e of engines) {
    const model = createModel('patch-mlp');
    const engine = await createEngine(model.config, model.params, { backend: e.backend, threads: e.threads, maxBatch: 1000 });
    try {
      await engine.trainStep(x, y, adam);
      const times = [];
      for (let i = 0; i < (e.steps ?? steps); i++) {
        const t = performance.now();
        await engine.trainStep(x, y, adam);
        times.push(performance.now() - t);
      }
      const test = new Float32Array(10000 * 784).map(() => Math.random());
      await engine.predict(test.subarray(0, 1000 * 784));
      const t = performance.now();
      await engine.predict(test);
      const inferMs = performance.now() - t;
      const ms = median(times);
      console.log(
        `  ${e.label.padEnd(30)} ${ms.toFixed(1).padStart(8)} ms/step ${fmtInt((BATCH / ms) * 1000).padStart(7)} img/s train   ${fmtInt((10000 / inferMs) * 1000).padStart(7)} img/s inference`,
      );
    } finally {
      await engine.dispose();
    }
  }
}
