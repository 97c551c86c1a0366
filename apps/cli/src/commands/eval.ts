/** `fmnist eval <checkpoint|model.onnx>`: accuracy, loss, per-class accuracy and confusion matrix on the test set. */
import { resolve } from 'node:path';
import { type Augmentation, CLASS_NAMES, normalize } from '@fmnist/data';
import type { BackendName } from '@fmnist/model';
import { type Evaluation, flipAveragedLogits, scoreLogits } from '@fmnist/model/core';
import { confusionSvg, perClassAccuracy } from '@fmnist/report';
import { loadData } from '../dataset';
import { ExitError, UsageError } from '../errors';
import { checkOutputFile } from '../files';
import { checkFiniteLogits, loadOnnx, type OnnxRunner } from '../onnx-io';
import { fmtLoss, formatDuration, pct } from '../parse';
import { resolveModel } from '../paths';
import { svgToPng } from '../render';
import { colors, log, printJson, oneLine as t, table } from '../ui';

interface EvalFlags {
  svg?: string;
  png?: string;
  backend: BackendName;
  tta: 'none' | 'flip';
  dir?: string;
  json?: boolean;
  /** Run `--tta flip` even on a model trained without flips. */
  force?: boolean;
}

/**
 * Guards `--tta flip`: mirrored images are out of distribution for a model trained without flip augmentation (≈ 15
 * points lost on the coursework model), so refuse unless `force`; with `force`, or when the model records no training
 * settings (an ONNX file without our metadata), warn. Returns the warning to print, if any.
 * @throws UsageError (exit 2) when the training record says no flips and `force` is not set
 */
export function checkFlipTta(
  tta: EvalFlags['tta'],
  training: { augment?: Augmentation | null } | null | undefined,
  force: boolean,
  what: string,
): string | undefined {
  if (tta !== 'flip' || training?.augment?.flip === true) return undefined;
  if (!training) return `${what} records no training augmentation; --tta flip helps only a model trained with flips.`;
  const why = `${what} was trained without flip augmentation, so its mirror images are out of distribution and --tta flip lowers its accuracy`;
  if (!force) throw new UsageError(`${why}. Evaluate without --tta, or add --force to run it anyway.`);
  return `${why} (running anyway: --force).`;
}

// onnxruntime-node is fastest here around 100 images per run (larger batches fall out of cache).
const EVAL_BATCH = 1000;
const SHORT = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Boot'];

export async function run(modelPath: string, flags: EvalFlags): Promise<void> {
  const ref = resolveModel(modelPath, 'onnx');
  // Check the output paths before the work, so a bad path fails at once.
  const svgPath = flags.svg !== undefined ? checkOutputFile(flags.svg, { flag: '--svg' }) : undefined;
  const pngPath = flags.png !== undefined ? checkOutputFile(flags.png, { flag: '--png' }) : undefined;
  // An ONNX model is checked before the data is loaded (or downloaded): scored against Fashion-MNIST's test labels,
  // the graph must give one score per class of the 10.
  const runner = ref.kind === 'onnx' ? await loadOnnx(ref.path, { classCount: CLASS_NAMES.length }) : null;
  if (runner && ref.kind === 'onnx') {
    let warning: string | undefined;
    try {
      warning = checkFlipTta(flags.tta, runner.metadata?.training as never, flags.force === true, ref.path);
    } catch (err) {
      await runner.dispose();
      throw err;
    }
    if (warning) log(colors.yellow(`warning: ${warning}`));
  }
  let data: Awaited<ReturnType<typeof loadData>>;
  try {
    data = await loadData({ dir: flags.dir });
  } catch (err) {
    await runner?.dispose();
    throw err;
  }
  const test = data.test;
  if (test.count === 0)
    throw new ExitError(
      `the test set at ${data.location} holds 0 images: there is nothing to evaluate. Pass a --dir whose t10k files hold the test images.`,
    );
  const started = performance.now();
  let score: Evaluation;
  let engine: string;
  let classNames: string[] = [...CLASS_NAMES];
  let recorded: number | undefined;
  if (ref.kind === 'onnx') {
    const onnx = runner as OnnxRunner; // loaded above for every ONNX model
    classNames = onnx.classNames;
    const classes = classNames.length;
    const predict = async (images: Uint8Array): Promise<Float32Array> => {
      const logits = new Float32Array(test.count * classes);
      for (let start = 0; start < test.count; start += EVAL_BATCH) {
        const n = Math.min(EVAL_BATCH, test.count - start);
        const x = normalize(images.subarray(start * 784, (start + n) * 784));
        logits.set(await onnx.logits(x, n), start * classes);
      }
      return logits;
    };
    const images = test.images.subarray(0, test.count * 784);
    let logits: Float32Array;
    try {
      // The same flip test-time augmentation as evaluate(..., { tta: 'flip' }) on checkpoints.
      logits = flags.tta === 'flip' ? await flipAveragedLogits(images, predict) : await predict(images);
    } finally {
      await onnx.dispose();
    }
    checkFiniteLogits(logits, classes, ref.path, (k) => `test image ${k}`);
    score = scoreLogits(logits, test.labels.subarray(0, test.count), classes);
    engine = 'onnxruntime-node (cpu)';
    recorded = (onnx.metadata?.metrics as { testAccuracy?: number } | undefined)?.testAccuracy;
  } else {
    const { evaluate, loadCheckpoint, modelFromParams } = await import('@fmnist/model');
    const ckpt = await loadCheckpoint(ref.dir);
    const warning = checkFlipTta(flags.tta, ckpt.meta.training, flags.force === true, ref.dir);
    if (warning) log(colors.yellow(`warning: ${warning}`));
    const model = modelFromParams(ckpt.meta.config, ckpt.params, ckpt.meta.preset);
    const ev = await evaluate(model, test, { backend: flags.backend, tta: flags.tta });
    score = ev;
    engine = `@fmnist/model (backend ${flags.backend})`;
    recorded = ckpt.meta.history.at(-1)?.testAccuracy;
  }
  const ms = performance.now() - started;
  const perClass = perClassAccuracy(score.confusion);

  const written: string[] = [];
  if (svgPath || pngPath) {
    const svg = confusionSvg(score.confusion, classNames, { title: `Confusion matrix — test accuracy ${pct(score.accuracy)}` });
    // Atomic: a kill midway leaves the previous file (or none), never a truncated one.
    const { writeFileAtomic } = await import('@fmnist/model');
    try {
      if (svgPath) {
        await writeFileAtomic(svgPath, String(svg));
        written.push(svgPath);
      }
      if (pngPath) {
        await writeFileAtomic(pngPath, await svgToPng(svg));
        written.push(pngPath);
      }
    } catch (err) {
      throw new ExitError(`cannot write the confusion matrix: ${(err as Error).message}`, 1, { cause: err });
    }
  }

  log(
    `${colors.bold(t(ref.kind === 'onnx' ? ref.path : ref.dir))} on ${test.count.toLocaleString('en-US')} test images with ${engine}${flags.tta === 'flip' ? ', flip test-time augmentation' : ''} ${colors.dim(`(${formatDuration(ms)})`)}`,
  );
  log(
    `accuracy ${colors.bold(pct(score.accuracy))}   loss ${fmtLoss(score.loss)}${recorded !== undefined ? colors.dim(`   (recorded at training: ${pct(recorded)})`) : ''}`,
  );
  log('');
  log(
    table(
      [
        ['true \\ predicted', ...SHORT.map((_, j) => String(j)), 'accuracy'],
        ...score.confusion.map((row, i) => [
          `${i} ${t(String(classNames[i]))}`,
          ...row.map((v, j) => (i === j ? colors.green(String(v)) : v === 0 ? colors.dim('·') : String(v))),
          pct(perClass[i], 1),
        ]),
      ],
      ['l', ...SHORT.map(() => 'r' as const), 'r'],
    ),
  );
  log(colors.dim(`columns: ${SHORT.map((s, j) => `${j} ${s}`).join(', ')}`));
  for (const f of written) log(`${colors.green('✓')} ${t(f)}`);
  if (flags.json) {
    printJson({
      model: ref.kind === 'onnx' ? resolve(ref.path) : resolve(ref.dir),
      kind: ref.kind,
      engine,
      tta: flags.tta,
      images: test.count,
      accuracy: score.accuracy,
      loss: score.loss,
      perClass: Object.fromEntries(classNames.map((n, i) => [n, perClass[i]])),
      confusion: score.confusion,
      recordedTestAccuracy: recorded ?? null,
      timeMs: Math.round(ms),
      files: written,
    });
  }
}
