/** `fmnist bench`: training images/s per available backend, and onnxruntime-node inference images/s. */
import type { BackendName } from '@fmnist/model';
import { UsageError } from '../errors';
import { loadOnnxBytes } from '../onnx-io';
import { colors, log, printJson, table } from '../ui';

interface BenchFlags {
  preset: string;
  seconds: number;
  batchSize: number;
  threads?: number;
  backends?: string;
  json?: boolean;
}

interface Row {
  task: 'train' | 'inference';
  backend: string;
  engine: string;
  threads: number | null;
  batch: number;
  steps: number;
  imagesPerSecond: number | null;
  msPerStep: number | null;
  note?: string;
}

const ALL: Exclude<BackendName, 'auto'>[] = ['kernels', 'tensorflow', 'wasm', 'cpu'];

function randomBatch(n: number, seed: number): { x: Float32Array; y: Uint8Array } {
  let s = seed >>> 0 || 1;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = next();
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.floor(next() * 10);
  return { x, y };
}

/**
 * Runs `step` repeatedly for about `seconds` after one warm-up call; returns steps done and ms per step. A step slower
 * than the whole budget (tfjs-cpu) is measured once, from the warm-up.
 */
async function timeIt(seconds: number, step: () => Promise<unknown>): Promise<{ steps: number; ms: number }> {
  const warm = performance.now();
  await step();
  const warmMs = performance.now() - warm;
  if (warmMs > seconds * 1000) return { steps: 1, ms: warmMs };
  const start = performance.now();
  let steps = 0;
  do {
    await step();
    steps++;
  } while (performance.now() - start < seconds * 1000);
  return { steps, ms: (performance.now() - start) / steps };
}

export async function run(flags: BenchFlags): Promise<void> {
  const wanted = flags.backends ? flags.backends.split(',').map((b) => b.trim()) : ALL;
  for (const b of wanted) {
    if (!(ALL as string[]).includes(b) && b !== 'onnx')
      throw new UsageError(`--backends: unknown backend '${b}'. Choose from ${[...ALL, 'onnx'].join(', ')}.`);
  }
  const { createEngine, createModel, kernelsSupport, tryLoadTfjsNode } = await import('@fmnist/model');
  const model = createModel(flags.preset as never);
  const rows: Row[] = [];
  const { x, y } = randomBatch(flags.batchSize, 1);
  const adam = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  log(`${colors.bold('fmnist bench')}: ${flags.preset}, batch ${flags.batchSize}, about ${flags.seconds}s per measurement`);
  for (const backend of ALL.filter((b) => wanted.includes(b))) {
    const skip = (note: string) =>
      rows.push({
        task: 'train',
        backend,
        engine: '–',
        threads: null,
        batch: flags.batchSize,
        steps: 0,
        imagesPerSecond: null,
        msPerStep: null,
        note,
      });
    if (backend === 'kernels' && !kernelsSupport(model.config)) {
      skip('kernels support only the one-block patch-MLP');
      continue;
    }
    if (backend === 'tensorflow' && !(await tryLoadTfjsNode())) {
      skip('@tensorflow/tfjs-node not installed');
      continue;
    }
    process.stderr.write(colors.dim(`  training on ${backend}…\n`));
    let engine: Awaited<ReturnType<typeof createEngine>> | undefined;
    try {
      engine = await createEngine(model.config, model.params, { backend, threads: flags.threads, maxBatch: flags.batchSize });
      const e = engine;
      const t = await timeIt(flags.seconds, () => e.trainStep(x, y, adam));
      rows.push({
        task: 'train',
        backend,
        engine: e.name,
        threads: e.threads,
        batch: flags.batchSize,
        steps: t.steps,
        imagesPerSecond: (flags.batchSize * 1000) / t.ms,
        msPerStep: t.ms,
      });
    } catch (err) {
      skip(`unavailable: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      await engine?.dispose();
    }
  }
  if (wanted.includes('onnx') || !flags.backends) {
    process.stderr.write(colors.dim('  inference with onnxruntime-node…\n'));
    const { exportOnnx } = await import('@fmnist/onnx');
    const runner = await loadOnnxBytes(exportOnnx(model as never), 'bench model');
    try {
      for (const batch of [1, 64, 1000]) {
        const input = randomBatch(batch, 2).x;
        const t = await timeIt(flags.seconds / 2, () => runner.logits(input, batch));
        rows.push({
          task: 'inference',
          backend: 'onnx',
          engine: 'onnxruntime-node cpu',
          threads: null,
          batch,
          steps: t.steps,
          imagesPerSecond: (batch * 1000) / t.ms,
          msPerStep: t.ms,
        });
      }
    } finally {
      await runner.dispose();
    }
  }
  log('');
  log(
    table(
      [
        ['task', 'backend', 'engine', 'threads', 'batch', 'images/s', 'ms/step', 'note'],
        ...rows.map((r) => [
          r.task,
          r.backend,
          r.engine,
          r.threads ?? '–',
          r.batch,
          r.imagesPerSecond === null ? '–' : Math.round(r.imagesPerSecond).toLocaleString('en-US'),
          r.msPerStep === null ? '–' : r.msPerStep.toFixed(1),
          r.note ?? '',
        ]),
      ],
      ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  if (flags.json) printJson({ preset: flags.preset, seconds: flags.seconds, node: process.version, results: rows });
}
