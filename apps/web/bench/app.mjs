#!/usr/bin/env node
/**
 * Benchmark of the built app in headless Chromium (not a test: figures are printed, not asserted).
 *
 *   pnpm --filter @fmnist/web bench            # after pnpm build
 *   node bench/app.mjs --json                  # one JSON document on stdout
 *   node bench/app.mjs --runs 5 --batches 100,250,500,1000
 *   node bench/app.mjs --engines kernels          # only the default engine
 *
 * For each engine — `kernels` (fmnist's WebAssembly-SIMD kernels, one web worker per core: what Auto picks without a
 * GPU), `wasm` (onnxruntime-web, threads in the cross-origin isolated page) and `wasm-1` (onnxruntime-web in a page
 * that is not isolated, hence 1 thread) — it measures: the cold start (navigation
 * → default model ready, including the wasm download and compile), the model load (fetch + validate + session, warm
 * runtime; median of 5), the single-image latency (pixels → probabilities; median of 100 after 20 warm-up runs) and the
 * whole 10,000-image test set as the Evaluate view runs it, plus a sweep of batch sizes. Targets on a 2-core machine:
 * ≤ 1 ms per image and ≤ 1.5 s for the 10k. Run it on a quiet machine: the load average is printed with the figures.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { serveDist } from '../e2e/serve.mjs';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    batches: { type: 'string', default: '100,250,500,1000,2000' },
    engines: { type: 'string', default: 'kernels,wasm,wasm-1' },
  },
});
const RUNS = Number(flags.runs);
const BATCHES = flags.batches.split(',').map(Number);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const log = flags.json ? (...a) => console.error(...a) : (...a) => console.log(...a);

if (!existsSync(CHROMIUM)) {
  console.error(`Chromium not found at ${CHROMIUM}: install Debian's chromium or set CHROMIUM_PATH.`);
  process.exit(1);
}
if (!existsSync(fileURLToPath(new URL('../dist/index.html', import.meta.url)))) {
  console.error('dist/ is missing: run pnpm build first.');
  process.exit(1);
}

/**
 * CPU seconds (user + system) used so far by this process' descendants (Chromium's browser, renderer and helper
 * processes), from /proc. On a busy machine wall time says little; CPU time says what an idle machine would need.
 * Returns null off Linux.
 */
function chromiumCpuSeconds() {
  let entries;
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const stats = new Map();
  for (const pid of entries) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(pid), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the process ended meanwhile
    }
  }
  const children = new Map();
  for (const [pid, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let ticks = 0;
  const stack = [...(children.get(process.pid) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop();
    ticks += stats.get(pid)?.ticks ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** Everything measured inside the page, through the app's own engine and evaluation code. */
async function measureInPage(page, choice, batches, runs) {
  return page.evaluate(
    async ({ choice, batches, runs }) => {
      const { app, predictAll, toModelInput } = globalThis.fmnist;
      const test = await app.ensureTestSet();
      const engine = await app.setProvider(choice);
      const med = (xs) => {
        const s = [...xs].sort((a, b) => a - b);
        const m = s.length >> 1;
        return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
      };
      // Model load with a warm runtime: fetch, readOnnxMetadata validation, session creation.
      const loads = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await app.loadDefaultModel();
        loads.push(performance.now() - t);
      }
      const e = app.engine;
      // Single image: bytes → /255 → session.run → probabilities.
      const image = (i) => test.images.subarray(i * 784, (i + 1) * 784);
      for (let i = 0; i < 20; i++) await e.run(toModelInput(image(i)), 1);
      const single = [];
      for (let i = 0; i < 100; i++) {
        const t = performance.now();
        await e.run(toModelInput(image(100 + i)), 1);
        single.push(performance.now() - t);
      }
      // The Evaluate view's run (batches of EVAL_BATCH, yielding to the page between batches), with Chromium's CPU time.
      const evals = [];
      const evalCpu = [];
      for (let r = 0; r < runs; r++) {
        const cpu0 = await globalThis.benchCpuSeconds();
        evals.push((await app.reevaluate()).ms);
        const cpu1 = await globalThis.benchCpuSeconds();
        if (cpu0 !== null && cpu1 !== null) evalCpu.push((cpu1 - cpu0) * 1000);
      }
      // Batch-size sweep, no yields.
      const sweep = {};
      for (const b of batches) {
        const times = [];
        for (let r = 0; r < runs; r++) times.push((await predictAll(e, test.images, 10, { batchSize: b })).ms);
        sweep[b] = med(times);
      }
      return {
        provider: engine.info.provider,
        threads: engine.info.threads,
        note: engine.info.note ?? null,
        isolated: crossOriginIsolated,
        hardwareConcurrency: navigator.hardwareConcurrency,
        modelLoadMs: med(loads),
        singleMs: med(single),
        singleP90Ms: [...single].sort((a, b) => a - b)[89],
        evaluateMs: med(evals),
        evaluateRunsMs: evals,
        evaluateCpuMs: evalCpu.length ? med(evalCpu) : null,
        sweepMs: sweep,
      };
    },
    { choice, batches, runs },
  );
}

/** The engines the bench can measure: a provider choice and whether the page is cross-origin isolated. */
const ENGINES = {
  kernels: { choice: 'kernels', isolated: true },
  wasm: { choice: 'wasm', isolated: true },
  'wasm-1': { choice: 'wasm', isolated: false },
};

async function benchOne(browser, { choice, isolated }) {
  const server = await serveDist({ isolated });
  const context = await browser.newContext();
  try {
    await context.exposeFunction('benchCpuSeconds', chromiumCpuSeconds);
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(`${server.url}#evaluate`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
    const coldStartMs = Date.now() - t0;
    const figures = await measureInPage(page, choice, BATCHES, RUNS);
    return { isolated, coldStartMs, ...figures };
  } finally {
    await context.close();
    await server.close();
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  loadBefore: loadavg().map((l) => Number(l.toFixed(2))),
  chromium: browser.version(),
  onnxruntimeWeb: JSON.parse(readFileSync(new URL('../node_modules/onnxruntime-web/package.json', import.meta.url), 'utf8')).version,
  node: process.version,
};
log(
  `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB; load average ${machine.loadBefore.join(' ')} (1/5/15 min)`,
);
log(`Chromium ${machine.chromium}, onnxruntime-web ${machine.onnxruntimeWeb}, ${RUNS} run(s) per figure\n`);
const results = [];
try {
  for (const name of flags.engines.split(',')) {
    const engine = ENGINES[name];
    if (!engine) throw new Error(`Unknown engine '${name}' in --engines; choose from ${Object.keys(ENGINES).join(', ')}.`);
    const r = await benchOne(browser, engine);
    results.push(r);
    const unit = r.provider === 'kernels' ? 'worker' : 'thread';
    const ep = `${r.provider} × ${r.threads} ${unit}${r.threads === 1 ? '' : 's'}${r.isolated ? ' (cross-origin isolated)' : ' (not isolated)'}`;
    log(`== ${ep}`);
    log(`  cold start (navigation → ready, Auto): ${r.coldStartMs.toFixed(0)} ms`);
    log(`  model load (warm runtime, median of 5): ${r.modelLoadMs.toFixed(1)} ms`);
    log(`  single image (median of 100):           ${r.singleMs.toFixed(3)} ms   (p90 ${r.singleP90Ms.toFixed(3)} ms)   target ≤ 1 ms`);
    log(
      `  10,000 test images (Evaluate view):     ${(r.evaluateMs / 1000).toFixed(2)} s = ${Math.round(10_000_000 / r.evaluateMs).toLocaleString('en-US')} images/s, ${(r.evaluateMs / 10_000).toFixed(3)} ms/image   target ≤ 1.5 s`,
    );
    if (r.evaluateCpuMs !== null) {
      log(
        `  … CPU time used by Chromium for it:     ${(r.evaluateCpuMs / 1000).toFixed(2)} s (≈ the wall time on an idle machine with ${r.threads} ${unit}${r.threads === 1 ? '' : 's'}: ${(r.evaluateCpuMs / 1000 / r.threads).toFixed(2)} s)`,
      );
    }
    log(
      `  batch sweep (10k, ms):                  ${Object.entries(r.sweepMs)
        .map(([b, ms]) => `${b}: ${Math.round(ms)}`)
        .join('   ')}\n`,
    );
  }
} finally {
  await browser.close();
}
machine.loadAfter = loadavg().map((l) => Number(l.toFixed(2)));
log(`Load average after: ${machine.loadAfter.join(' ')}`);
if (flags.json) console.log(JSON.stringify({ machine, results }, null, 2));
