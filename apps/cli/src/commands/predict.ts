/**
 * `fmnist predict [model] <image…> | --test-index N`: class and top-k probabilities, on stdout.
 *
 * The first argument is the model when it names a `.onnx` file or is a directory (a run directory holding
 * `model.onnx`); otherwise every argument is an image and the model is `@fmnist/classify`'s bundled one (run on the
 * WebAssembly-SIMD kernels, no onnxruntime). Images go through `@fmnist/classify`'s one preprocessing either way.
 */
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { getImage, normalize } from '@fmnist/data';
import { loadData } from '../dataset';
import { ExitError, UsageError } from '../errors';
import { loadImageAs28 } from '../image';
import { checkFiniteLogits, loadOnnx, softmax } from '../onnx-io';
import { pct } from '../parse';
import { resolveModel } from '../paths';
import { terminalArt } from '../render';
import { shellCommand } from '../shell';
import { colors, isInteractive, log, printJson, oneLine as t } from '../ui';

interface PredictFlags {
  testIndex?: number[];
  /** `--invert` (true) / `--no-invert` (false); unset: auto. */
  invert?: boolean;
  /** `--auto-invert`: the default now, kept for scripts that pass it. */
  autoInvert?: boolean;
  /** `--no-crop` sets false. */
  crop: boolean;
  top: number;
  show?: boolean;
  dir?: string;
  json?: boolean;
}

interface Input {
  name: string;
  pixels: Uint8Array;
  trueLabel?: number;
  note?: string;
  /** The picture holds nothing but background (blank, one colour): any class is a guess. */
  blank?: boolean;
}

/** What runs the images: class names and the softmax probabilities of `n` prepared images. */
interface Runner {
  /** What to print as the model: the .onnx path, or the bundled model's description. */
  model: string;
  classNames: readonly string[];
  probabilities(pixels: Uint8Array, n: number): Promise<number[][]>;
  dispose(): Promise<void>;
}

/**
 * Whether the first argument names the model (rather than an image): a `.onnx` file or a directory. Images are never
 * `.onnx` files or directories, so the choice is unambiguous.
 */
export function isModelArgument(arg: string): boolean {
  if (/\.onnx$/i.test(arg)) return true;
  try {
    return statSync(arg).isDirectory();
  } catch {
    return false;
  }
}

async function onnxRunner(modelPath: string): Promise<Runner> {
  const ref = resolveModel(modelPath, 'onnx');
  if (ref.kind !== 'onnx') {
    throw new ExitError(`${modelPath}: no model.onnx there. Export one first: ${shellCommand(['fmnist', 'export', modelPath])}`);
  }
  const runner = await loadOnnx(ref.path);
  return {
    model: resolve(ref.path),
    classNames: runner.classNames,
    async probabilities(pixels, n) {
      const logits = await runner.logits(normalize(pixels), n);
      const classes = runner.classNames.length;
      checkFiniteLogits(logits, classes, ref.path, (k) => `image ${k + 1} of ${n}`);
      return Array.from({ length: n }, (_, k) => softmax(logits.subarray(k * classes, (k + 1) * classes)));
    },
    dispose: () => runner.dispose(),
  };
}

async function bundledRunner(): Promise<Runner> {
  const { createClassifier } = await import('@fmnist/classify/node');
  const classifier = await createClassifier();
  const classes = classifier.classNames.length;
  const accuracy = classifier.info.accuracy;
  return {
    model: `@fmnist/classify bundled model (${classifier.info.preset ?? 'custom'}${accuracy !== undefined ? `, ${pct(accuracy, 2)} test accuracy` : ''})`,
    classNames: classifier.classNames,
    async probabilities(pixels) {
      const ranked = await classifier.classifyPixels(pixels, { topK: classes });
      return ranked.map((top) => {
        const probs = new Array<number>(classes).fill(0);
        for (const c of top) probs[c.index] = c.score;
        return probs;
      });
    },
    async dispose() {
      classifier.dispose();
    },
  };
}

export async function run(first: string | undefined, rest: string[], flags: PredictFlags): Promise<void> {
  const args = first === undefined ? rest : [first, ...rest];
  const modelPath = args.length > 0 && isModelArgument(args[0] as string) ? (args[0] as string) : undefined;
  const images = modelPath === undefined ? args : args.slice(1);
  const indices = flags.testIndex ?? [];
  if (images.length === 0 && indices.length === 0) {
    throw new UsageError(
      'give at least one image file, or --test-index N (e.g. fmnist predict shoe.png, or fmnist predict model.onnx shoe.png).',
    );
  }
  if (flags.invert === true && flags.autoInvert) throw new UsageError('--invert and --auto-invert contradict each other: pick one.');
  const invert = flags.invert ?? 'auto';
  // The model first: a model that is not a Fashion-MNIST classifier is refused before any data or image is read.
  const runner = modelPath === undefined ? await bundledRunner() : await onnxRunner(modelPath);
  const inputs: Input[] = [];
  let probabilities: number[][];
  try {
    if (indices.length > 0) {
      const { test } = await loadData({ dir: flags.dir });
      for (const i of indices) {
        if (i >= test.count)
          throw new UsageError(`--test-index ${i} is out of range: the test set has ${test.count} images (0–${test.count - 1}).`);
        inputs.push({ name: `test #${i}`, pixels: getImage(test, i), trueLabel: test.labels[i] as number });
      }
    }
    for (const file of images) {
      const img = await loadImageAs28(file, { invert, crop: flags.crop });
      inputs.push({
        name: file,
        pixels: img.pixels,
        note: `${img.format} ${img.width}×${img.height}${img.cropped ? ', cropped' : ''}${img.inverted ? ', inverted' : ''}`,
        blank: img.empty,
      });
    }
    const x = new Uint8Array(inputs.length * 784);
    for (const [k, inp] of inputs.entries()) x.set(inp.pixels, k * 784);
    probabilities = await runner.probabilities(x, inputs.length);
  } finally {
    await runner.dispose();
  }
  const { classNames } = runner;
  const top = Math.min(flags.top, classNames.length);
  const results = inputs.map((inp, k) => {
    const probs = probabilities[k] as number[];
    // One naming at the top level and in `top[]`: `label` (class index) and `className`. `class` and `name` in `top[]`
    // are the old keys, kept for one release (deprecated).
    const ranked = probs
      .map((p, c) => ({ label: c, className: classNames[c] as string, probability: p }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, top)
      .map((entry) => ({ ...entry, class: entry.label, name: entry.className }));
    const best = ranked[0] as (typeof ranked)[number];
    return {
      input: inp.name.startsWith('test #') ? inp.name : resolve(inp.name),
      label: best.label,
      className: best.className,
      probability: best.probability,
      top: ranked,
      ...(inp.trueLabel !== undefined
        ? { trueLabel: inp.trueLabel, trueClassName: classNames[inp.trueLabel], correct: inp.trueLabel === best.label }
        : {}),
      ...(inp.note ? { converted: inp.note } : {}),
      ...(inp.blank ? { blank: true } : {}),
    };
  });
  // The result goes to stdout (`> out.txt` keeps it); notes stay on stderr. With --json, stdout holds the one JSON
  // document and the human-readable lines move to stderr.
  const color = isInteractive();
  const out = flags.json ? log : (line: string) => process.stdout.write(`${t(line, { keepSgr: color })}\n`);
  if (modelPath === undefined) log(colors.dim(`model: ${runner.model}`));
  results.forEach((r, k) => {
    const inp = inputs[k] as Input;
    const others = r.top
      .slice(1)
      .map((o) => `${t(o.className)} ${pct(o.probability, 1)}`)
      .join(', ');
    const truth =
      r.trueLabel !== undefined ? (r.correct ? colors.green(' ✓') : colors.red(` ✗ (true: ${t(String(r.trueClassName))})`)) : '';
    out(
      `${t(inp.name.startsWith('test #') ? inp.name : basename(inp.name))}: ${colors.bold(t(r.className))} ${pct(r.probability, 1)}${truth}${others ? colors.dim(`   then ${others}`) : ''}`,
    );
    if (inp.note) log(colors.dim(`  (${t(inp.note)} → 28×28 grayscale)`));
    if (inp.blank) log(colors.yellow('  warning: the picture is blank (nothing but its background colour); the class above is a guess.'));
    if (flags.show) for (const line of terminalArt(inp.pixels, color)) out(`  ${line}`);
  });
  if (flags.json) printJson({ model: runner.model, bundled: modelPath === undefined, predictions: results });
}
