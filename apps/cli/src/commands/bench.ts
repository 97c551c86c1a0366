/**
 * `fmnist bench`: training images/s per preset and available backend, and onnxruntime-node inference images/s; with
 * several presets, each training row also shows its speed relative to `patch-mlp` on the same backend in the same run.
 */
import type { BackendName } from '@fmnist/model';
import { UsageError } from '../errors';
import { loadOnnxBytes } from '../onnx-io';
import { canonicalPreset, PRESET_ALIAS_TEXT, PRESET_NAMES } from '../recipes';
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
  preset: string;
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

/**
 * The presets of `--preset`: one name, a comma-separated list, or `all` (every preset, in `--help` order). An alias
 * (`seed`) stands for its preset (`coursework`); each preset appears once.
 * @throws UsageError naming an unknown preset and the choices
 */
export function parsePresets(value: string): string[] {
  if (value.trim() === 'all') return [...PRESET_NAMES];
  const names: string[] = [];
  for (const given of value.split(',').map((p) => p.trim())) {
    const name = canonicalPreset(given);
    if (!name) {
      throw new UsageError(
        `--preset: unknown preset '${given}'. Choose from ${PRESET_NAMES.join(', ')} (a comma-separated list), or all; ${PRESET_ALIAS_TEXT}.`,
      );
    }
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

export async function run(flags: BenchFlags): Promise<void> {
  const presets = parsePresets(flags.preset);
  const wanted = flags.backends ? flags.backends.split(',').map((b) => b.trim()) : ALL;
  for (const b of wanted) {
    if (!(ALL as string[]).includes(b) && b !== 'onnx')
      throw new UsageError(`--backends: unknown backend '${b}'. Choose from ${[...ALL, 'onnx'].join(', ')}.`);
  }
  const { createEngine, createModel, kernelsSupport, tryLoadTfjsNode } = await import('@fmnist/model');
  const rows: Row[] = [];
  const { x, y } = randomBatch(flags.batchSize, 1);
  const adam = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  log(`${colors.bold('fmnist bench')}: ${presets.join(', ')}, batch ${flags.batchSize}, about ${flags.seconds}s per measurement`);
  for (const preset of presets) await benchPreset(preset);

  async function benchPreset(preset: string): Promise<void> {
    const model = createModel(preset as never);
    for (const backend of ALL.filter((b) => wanted.includes(b))) {
      const skip = (note: string) =>
        rows.push({
          preset,
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
      process.stderr.write(colors.dim(`  ${preset}: training on ${backend}…\n`));
      let engine: Awaited<ReturnType<typeof createEngine>> | undefined;
      try {
        engine = await createEngine(model.config, model.params, { backend, threads: flags.threads, maxBatch: flags.batchSize });
        const e = engine;
        const t = await timeIt(flags.seconds, () => e.trainStep(x, y, adam));
        rows.push({
          preset,
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
      process.stderr.write(colors.dim(`  ${preset}: inference with onnxruntime-node…\n`));
      const { exportOnnx } = await import('@fmnist/onnx');
      const runner = await loadOnnxBytes(exportOnnx(model as never), 'bench model');
      try {
        for (const batch of [1, 64, 1000]) {
          const input = randomBatch(batch, 2).x;
          const t = await timeIt(flags.seconds / 2, () => runner.logits(input, batch));
          rows.push({
            preset,
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
  }

  // Speed relative to patch-mlp on the same backend, measured in this run.
  const reference = (r: Row) =>
    rows.find((q) => q.preset === 'patch-mlp' && q.task === r.task && q.backend === r.backend && q.batch === r.batch)?.imagesPerSecond;
  const relative = (r: Row): number | null => {
    const ref = presets.length > 1 ? reference(r) : undefined;
    return r.imagesPerSecond === null || !ref ? null : r.imagesPerSecond / ref;
  };
  log('');
  log(
    table(
      [
        ['preset', 'task', 'backend', 'engine', 'threads', 'batch', 'images/s', '× patch-mlp', 'ms/step', 'note'],
        ...rows.map((r) => [
          r.preset,
          r.task,
          r.backend,
          r.engine,
          r.threads ?? '–',
          r.batch,
          r.imagesPerSecond === null ? '–' : Math.round(r.imagesPerSecond).toLocaleString('en-US'),
          relative(r)?.toFixed(2) ?? '–',
          r.msPerStep === null ? '–' : r.msPerStep.toFixed(1),
          r.note ?? '',
        ]),
      ],
      ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  if (flags.json) {
    printJson({
      presets,
      seconds: flags.seconds,
      node: process.version,
      results: rows.map((r) => ({ ...r, relativeToPatchMlp: relative(r) })),
    });
  }
}
