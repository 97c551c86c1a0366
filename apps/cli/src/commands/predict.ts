/** `fmnist predict <model.onnx> <image…> | --test-index N`: class and top-k probabilities. */
import { basename, resolve } from 'node:path';
import { getImage, normalize } from '@fmnist/data';
import { loadData } from '../dataset';
import { ExitError, UsageError } from '../errors';
import { loadImageAs28 } from '../image';
import { loadOnnx, softmax } from '../onnx-io';
import { pct } from '../parse';
import { resolveModel } from '../paths';
import { terminalArt } from '../render';
import { shellCommand } from '../shell';
import { colors, isInteractive, log, printJson, sanitizeForTerminal as t } from '../ui';

interface PredictFlags {
  testIndex?: number[];
  invert?: boolean;
  autoInvert?: boolean;
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
}

export async function run(modelPath: string, images: string[], flags: PredictFlags): Promise<void> {
  const indices = flags.testIndex ?? [];
  if (images.length === 0 && indices.length === 0) {
    throw new UsageError('give at least one image file, or --test-index N (e.g. fmnist predict model.onnx shoe.png).');
  }
  const ref = resolveModel(modelPath, 'onnx');
  if (ref.kind !== 'onnx') {
    throw new ExitError(`${modelPath}: no model.onnx there. Export one first: ${shellCommand(['fmnist', 'export', modelPath])}`);
  }
  // The model first: a model that is not a Fashion-MNIST classifier is refused before any data or image is read.
  const runner = await loadOnnx(ref.path);
  const inputs: Input[] = [];
  let logits: Float32Array;
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
      const img = await loadImageAs28(file, { invert: flags.invert, autoInvert: flags.autoInvert });
      inputs.push({
        name: file,
        pixels: img.pixels,
        note: `${img.format} ${img.width}×${img.height}${img.inverted ? ', inverted' : ''}`,
      });
    }
    const x = new Float32Array(inputs.length * 784);
    for (const [k, inp] of inputs.entries()) x.set(normalize(inp.pixels), k * 784);
    logits = await runner.logits(x, inputs.length);
  } finally {
    await runner.dispose();
  }
  const classes = runner.classNames.length;
  const top = Math.min(flags.top, classes);
  const results = inputs.map((inp, k) => {
    const probs = softmax(logits.subarray(k * classes, (k + 1) * classes));
    // One naming at the top level and in `top[]`: `label` (class index) and `className`. `class` and `name` in `top[]`
    // are the old keys, kept for one release (deprecated).
    const ranked = probs
      .map((p, c) => ({ label: c, className: runner.classNames[c] as string, probability: p }))
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
        ? { trueLabel: inp.trueLabel, trueClassName: runner.classNames[inp.trueLabel], correct: inp.trueLabel === best.label }
        : {}),
      ...(inp.note ? { converted: inp.note } : {}),
    };
  });
  const color = isInteractive();
  results.forEach((r, k) => {
    const inp = inputs[k] as Input;
    const others = r.top
      .slice(1)
      .map((o) => `${t(o.className)} ${pct(o.probability, 1)}`)
      .join(', ');
    const truth =
      r.trueLabel !== undefined ? (r.correct ? colors.green(' ✓') : colors.red(` ✗ (true: ${t(String(r.trueClassName))})`)) : '';
    log(
      `${t(inp.name.startsWith('test #') ? inp.name : basename(inp.name))}: ${colors.bold(t(r.className))} ${pct(r.probability, 1)}${truth}${others ? colors.dim(`   then ${others}`) : ''}`,
    );
    if (inp.note) log(colors.dim(`  (${t(inp.note)} → 28×28 grayscale)`));
    if (flags.show) for (const line of terminalArt(inp.pixels, color)) log(`  ${line}`);
  });
  if (flags.json) printJson({ model: resolve(ref.path), predictions: results });
}
