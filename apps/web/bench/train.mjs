#!/usr/bin/env node
/**
 * Benchmark: training in the page against training in Node, in one go (not a test: figures are printed, not asserted).
 *
 *   pnpm --filter @fmnist/web bench:train          # after pnpm build
 *   node bench/train.mjs --preset mixer-s7 --subset 6000 --epochs 1
 *   node bench/train.mjs --to-accuracy 0.801       # also time the page to the coursework's 80.1 % (full data)
 *   node bench/train.mjs --json
 *
 * The same run — preset, seed, subset, batch size, threads, the preset's recipe — is trained by `fmnist train` (the
 * built CLI) and by the built app in headless Chromium, served cross-origin isolated (the kernels workers share
 * memory) and not (they get their shards by message). For each it prints the training speed (img/s of the epoch, as
 * the trainer measures it), the wall time, the SHA-256 of the trained parameters (`model.safetensors`: the same bytes
 * mean the same weights, bit for bit) and, in the page, the longest main-thread task while training
 * (PerformanceObserver `longtask`; the Train view open and updating). The runs are interleaved (Node, isolated, not
 * isolated, and again) so that a machine whose speed drifts affects each alike; the median is printed.
 * `--to-accuracy A` trains the coursework-sized patch-mlp on all 60,000 images in the isolated page until the test
 * accuracy after an epoch reaches A, and prints the wall time from "Start" (the training set download included).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TRAINING_RECIPES } from '@fmnist/model/core';
import { chromium } from 'playwright-core';
import { serveDist } from '../e2e/serve.mjs';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    preset: { type: 'string', default: 'patch-mlp' },
    subset: { type: 'string', default: '20000' },
    epochs: { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
    threads: { type: 'string', default: String(cpus().length) },
    'batch-size': { type: 'string', default: '256' },
    rounds: { type: 'string', default: '2' },
    'to-accuracy': { type: 'string' },
  },
});
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CLI = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const log = flags.json ? (...a) => console.error(...a) : (...a) => console.log(...a);
for (const [what, path] of [
  ['Chromium', CHROMIUM],
  ['the built app (pnpm --filter @fmnist/web build)', fileURLToPath(new URL('../dist/index.html', import.meta.url))],
  ['the built CLI (pnpm build)', CLI],
]) {
  if (!existsSync(path)) {
    console.error(`bench:train needs ${what}: ${path} is missing.`);
    process.exit(1);
  }
}

const preset = flags.preset;
const recipe = TRAINING_RECIPES[preset];
if (!recipe) {
  console.error(`Unknown preset ${preset}; use one of ${Object.keys(TRAINING_RECIPES).join(', ')}.`);
  process.exit(2);
}
const settings = {
  preset,
  epochs: Number(flags.epochs),
  batchSize: Number(flags['batch-size']),
  learningRate: recipe.learningRate,
  lrSchedule: recipe.lrSchedule,
  weightDecay: recipe.weightDecay ?? 0,
  labelSmoothing: recipe.labelSmoothing ?? 0,
  augment: recipe.augment ?? {},
  subset: flags.subset === 'all' ? null : Number(flags.subset),
  seed: Number(flags.seed),
  threads: Number(flags.threads),
};
const augmentFlag = () => {
  const a = settings.augment;
  const parts = [...(a.flip ? ['flip'] : []), ...(a.shift ? [`shift=${a.shift}`] : []), ...(a.erase ? [`erase=${a.erase}`] : [])];
  return parts.length ? parts.join(',') : 'none';
};

/** `fmnist train` with the same settings: img/s of the last epoch, wall time, SHA-256 of the weights. */
function runNode() {
  const out = mkdtempSync(join(tmpdir(), 'fmnist-bench-train-'));
  const args = [
    CLI,
    'train',
    '--preset',
    preset,
    '--epochs',
    String(settings.epochs),
    '--batch-size',
    String(settings.batchSize),
    '--lr',
    String(settings.learningRate),
    '--lr-schedule',
    settings.lrSchedule,
    '--weight-decay',
    String(settings.weightDecay),
    '--label-smoothing',
    String(settings.labelSmoothing),
    '--augment',
    augmentFlag(),
    '--seed',
    String(settings.seed),
    '--threads',
    String(settings.threads),
    ...(settings.subset !== null ? ['--subset', String(settings.subset)] : []),
    '--out',
    join(out, 'run'),
    '--no-report',
    '--no-export',
    '--json',
  ];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
      const wallMs = performance.now() - t0;
      try {
        if (err) throw new Error(`fmnist train failed: ${err.message}\n${stderr}`);
        const epochs = readFileSync(join(out, 'run', 'metrics.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        const weights = readFileSync(join(out, 'run', 'checkpoint', 'model.safetensors'));
        const last = epochs.at(-1);
        resolve({
          imagesPerSecond: last.images_per_s,
          testAccuracy: last.test_accuracy,
          wallMs,
          sha256: createHash('sha256').update(weights).digest('hex'),
        });
      } catch (e) {
        reject(e);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
const servers = { isolated: await serveDist({ isolated: true }), plain: await serveDist({ isolated: false }) };

/** The same run in the page, through the app's training session, with the Train view open. */
async function runPage(kind, pageSettings = settings, stopAt = undefined) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => log(`  [page error] ${e.message}`));
  await page.goto(servers[kind].url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
  await page.evaluate(() => document.querySelector('#tab-train')?.click());
  const result = await page.evaluate(
    async ({ s, stopAt }) => {
      const { session } = globalThis.fmnist;
      let longest = 0;
      let tasks = 0;
      let training = false;
      let runningAt = 0;
      const t0 = performance.now();
      /** Long tasks while training: [ms after the run started training, duration]. */
      const seen = [];
      const observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          // Entries arrive after their task: count those that started while training.
          if (!runningAt || e.startTime < runningAt || (!training && e.startTime > doneAt)) continue;
          tasks++;
          longest = Math.max(longest, e.duration);
          seen.push([Math.round(e.startTime - runningAt), Math.round(e.duration)]);
        }
      });
      let doneAt = Number.POSITIVE_INFINITY;
      observer.observe({ type: 'longtask', buffered: false });
      const reached = [];
      return await new Promise((resolve, reject) => {
        session.addEventListener('state', (e) => {
          if (e.detail.state === 'running') {
            training = true;
            runningAt ||= performance.now();
          }
          if (e.detail.state === 'failed') reject(new Error(e.detail.message));
        });
        session.addEventListener('epoch', (e) => {
          const acc = e.detail.testAccuracy;
          reached.push({ epoch: e.detail.epoch, testAccuracy: acc, wallMs: performance.now() - t0 });
          if (stopAt !== undefined && acc >= stopAt) session.stop();
        });
        session.addEventListener('done', async (e) => {
          training = false;
          doneAt = performance.now();
          // Let the observer deliver the entries of tasks that ran before "done".
          await new Promise((r) => setTimeout(r, 50));
          observer.disconnect();
          const digest = await crypto.subtle.digest('SHA-256', e.detail.checkpointFiles['model.safetensors']);
          const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
          const last = e.detail.epochs.at(-1);
          resolve({
            imagesPerSecond: last.imagesPerSecond,
            testAccuracy: e.detail.evaluation.accuracy,
            wallMs: performance.now() - t0,
            trainTimeMs: e.detail.trainTimeMs,
            sha256: hex,
            backend: e.detail.backend,
            threads: e.detail.threads,
            longestTaskMs: longest,
            longTasks: tasks,
            longTaskTimes: seen,
            isolated: crossOriginIsolated,
            reached,
          });
        });
        session.start(s).catch(reject);
      });
    },
    { s: pageSettings, stopAt },
  );
  await context.close();
  return result;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

log(
  `bench:train — ${preset}, ${settings.subset ?? 60000} images × ${settings.epochs} epoch(s), batch ${settings.batchSize}, ${settings.threads} threads, seed ${settings.seed}; ${cpus()[0]?.model}, load ${loadavg()[0].toFixed(2)}`,
);
const rows = { node: [], isolated: [], plain: [] };
for (let round = 0; round < Number(flags.rounds); round++) {
  for (const kind of ['node', 'isolated', 'plain']) {
    const r = kind === 'node' ? await runNode() : await runPage(kind);
    rows[kind].push(r);
    log(
      `  round ${round + 1} ${kind.padEnd(8)} ${r.imagesPerSecond.toFixed(0).padStart(6)} img/s  ${(r.wallMs / 1000).toFixed(1).padStart(6)} s  test ${(100 * r.testAccuracy).toFixed(2)} %  sha256 ${r.sha256.slice(0, 16)}${r.longestTaskMs !== undefined ? `  longest task ${r.longestTaskMs.toFixed(0)} ms (${r.longTasks} over 50 ms${r.longTasks ? `: at ${r.longTaskTimes.map(([t, d]) => `${(t / 1000).toFixed(1)} s for ${d} ms`).join(', ')}` : ''})` : ''}`,
    );
  }
}
const nodeSpeed = median(rows.node.map((r) => r.imagesPerSecond));
const summary = Object.fromEntries(
  Object.entries(rows).map(([kind, rs]) => [
    kind,
    {
      imagesPerSecond: median(rs.map((r) => r.imagesPerSecond)),
      ratioToNode: median(rs.map((r) => r.imagesPerSecond)) / nodeSpeed,
      wallMs: median(rs.map((r) => r.wallMs)),
      sha256: [...new Set(rs.map((r) => r.sha256))],
      ...(kind !== 'node' ? { longestTaskMs: Math.max(...rs.map((r) => r.longestTaskMs)) } : {}),
    },
  ]),
);
const sameBits =
  new Set(
    Object.values(rows)
      .flat()
      .map((r) => r.sha256),
  ).size === 1;
log('');
log('| where | img/s (median) | × Node | wall | longest main-thread task |');
log('| --- | --- | --- | --- | --- |');
for (const [kind, s] of Object.entries(summary)) {
  log(
    `| ${{ node: 'fmnist train (Node)', isolated: 'page, cross-origin isolated (shared memory)', plain: 'page, not isolated (messages)' }[kind]} | ${s.imagesPerSecond.toFixed(0)} | ${s.ratioToNode.toFixed(2)} | ${(s.wallMs / 1000).toFixed(1)} s | ${s.longestTaskMs !== undefined ? `${s.longestTaskMs.toFixed(0)} ms` : '—'} |`,
  );
}
log(
  `Parameters after training: ${sameBits ? 'bit-identical in all runs' : 'DIFFER'} (${[
    ...new Set(
      Object.values(rows)
        .flat()
        .map((r) => r.sha256),
    ),
  ].join(', ')})`,
);

let toAccuracy;
if (flags['to-accuracy'] !== undefined) {
  const target = Number(flags['to-accuracy']);
  const r = TRAINING_RECIPES['patch-mlp'];
  const full = {
    ...settings,
    preset: 'patch-mlp',
    epochs: 10,
    learningRate: r.learningRate,
    lrSchedule: r.lrSchedule,
    weightDecay: r.weightDecay ?? 0,
    labelSmoothing: r.labelSmoothing ?? 0,
    augment: r.augment ?? {},
    subset: null,
  };
  const run = await runPage('isolated', full, target);
  const hit = run.reached.find((e) => e.testAccuracy >= target);
  toAccuracy = { target, ...run, hit };
  log(
    hit
      ? `Time to ${(100 * target).toFixed(1)} % in the page (patch-mlp, 60,000 images, isolated): ${(hit.wallMs / 1000).toFixed(1)} s from Start (download included), after epoch ${hit.epoch} (${(100 * hit.testAccuracy).toFixed(2)} %), ${run.imagesPerSecond.toFixed(0)} img/s, longest task ${run.longestTaskMs.toFixed(0)} ms`
      : `The page did not reach ${(100 * target).toFixed(1)} % in ${full.epochs} epochs (best ${Math.max(...run.reached.map((e) => e.testAccuracy))}).`,
  );
}

await browser.close();
await servers.isolated.close();
await servers.plain.close();
if (flags.json)
  console.log(JSON.stringify({ settings, rows, summary, sameBits, toAccuracy, cpu: cpus()[0]?.model, loadavg: loadavg() }, null, 2));
