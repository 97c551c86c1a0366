/**
 * The one call for the common case: a training run's plain data (its epoch records, the final evaluation, the test
 * images) → the whole report page, plus the two charts it embeds. The CLI's `report.html` and the web app's downloaded
 * report are both made here.
 */
import { CLASS_NAMES, IMAGE_PIXELS } from '@fmnist/data';
import type { EpochRecord, Evaluation } from '@fmnist/model/core';
import { confusionSvg, curvesSvg } from './charts';
import { FmnistReportError } from './errors';
import type { SafeHtml } from './html';
import { toMetricsRows } from './metrics';
import { type Misclassified, renderReport } from './report';

/** How many misclassified test images per true class the report shows, by default. */
export const DEFAULT_MISCLASSIFIED_PER_CLASS = 4;

/** Test images with their labels: a `FashionMnistSplit` of `@fmnist/data`, or any `{ images, labels }` like it. */
export interface TestImages {
  /** 784 grey bytes (28×28, row-major) per label, image after image. */
  images: Uint8Array;
  /** One class index per image. */
  labels: ArrayLike<number>;
}

/** What {@link renderRunReport} needs: what a training run has, as plain data. */
export interface RunReportInput {
  /** The page's title and heading, e.g. `'patch-mlp — 88.12% test accuracy'`. */
  title: string;
  /** One record per epoch: `History.epochs` of `@fmnist/model` (or a checkpoint's). */
  epochs: readonly EpochRecord[];
  /**
   * The final evaluation on the test images: `confusion` and `predictions` (one per test image, aligned with
   * `testImages`); `accuracy` and `loss` feed the default title of the confusion matrix and the default highlights.
   */
  evaluation: Pick<Evaluation, 'confusion' | 'predictions'> & Partial<Pick<Evaluation, 'accuracy' | 'loss'>>;
  /** The test images the evaluation scored, for the grid of misclassified ones. */
  testImages: TestImages;
  /** Shown as JSON under "Configuration": the run's config / training record. */
  config: unknown;
  /** One name per class. @defaultValue CLASS_NAMES of `@fmnist/data` */
  classNames?: readonly string[];
  /** Headline figures, label → value. @defaultValue test accuracy, test loss, epochs and test images */
  highlights?: readonly (readonly [string, string])[];
  /** Paths of the run's other files, listed in the footer. @defaultValue [] */
  files?: readonly string[];
  /** Title above the training curves. @defaultValue none */
  curvesTitle?: string;
  /** Title of the confusion matrix. @defaultValue 'Confusion matrix — test accuracy XX.XX%' */
  confusionTitle?: string;
  /** Misclassified test images shown per true class. @defaultValue {@link DEFAULT_MISCLASSIFIED_PER_CLASS} */
  misclassifiedPerClass?: number;
  /** What made the report, named in its subtitle. @defaultValue 'fmnist train' */
  generator?: string;
  /** The file that also holds `config`, named under "Configuration"; null names none. @defaultValue 'config.json' */
  configFile?: string | null;
}

/** What {@link renderRunReport} returns. */
export interface RunReport {
  /** The whole page: one self-contained HTML file (no script, no network). */
  html: string;
  /** The training curves it embeds, a standalone SVG document (the CLI also writes it as `curves.svg`). */
  curvesSvg: SafeHtml;
  /** The confusion matrix it embeds, a standalone SVG document (`confusion.svg`). */
  confusionSvg: SafeHtml;
  /** The misclassified test images it shows, in order. */
  misclassified: Misclassified[];
}

/** Options of {@link selectMisclassified}. */
export interface SelectMisclassifiedOptions {
  /** One name per class. @defaultValue CLASS_NAMES of `@fmnist/data` */
  classNames?: readonly string[];
  /** At most this many per true class. @defaultValue {@link DEFAULT_MISCLASSIFIED_PER_CLASS} */
  perClass?: number;
}

const isClassIndex = (v: unknown, n: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < n;

/**
 * The test images the model got wrong: the first `perClass` of each true class (in test-set order), sorted by true
 * class, then index.
 *
 * @param testImages - the images and labels the predictions are for
 * @param predictions - one predicted class per test image (`Evaluation.predictions`)
 * @param options - see {@link SelectMisclassifiedOptions}
 * @returns the images, their index and both class names
 * @throws TypeError when `testImages.images` is not a `Uint8Array`; RangeError for a `perClass` that is not an integer
 *   ≥ 0; FmnistReportError `E_REPORT_INPUT` when the images are not 784 bytes per label, the predictions are not one per
 *   label, or a label or prediction is not a class index
 *
 * @example
 * ```ts
 * const labels = new Uint8Array([0, 1, 1]);
 * const wrong = selectMisclassified({ images: new Uint8Array(3 * 784), labels }, new Uint8Array([0, 0, 1]));
 * wrong.map((m) => `${m.index}: ${m.trueLabel} → ${m.predicted}`); // ['1: Trouser → T-shirt/top']
 * ```
 */
export function selectMisclassified(
  testImages: TestImages,
  predictions: ArrayLike<number>,
  options: SelectMisclassifiedOptions = {},
): Misclassified[] {
  const classNames = options.classNames ?? CLASS_NAMES;
  const perClass = options.perClass ?? DEFAULT_MISCLASSIFIED_PER_CLASS;
  if (!Number.isInteger(perClass) || perClass < 0)
    throw new RangeError(`selectMisclassified: 'perClass' must be an integer ≥ 0, got ${String(perClass)}.`);
  const { images, labels } = testImages ?? ({} as TestImages);
  if (!(images instanceof Uint8Array))
    throw new TypeError(`'testImages.images' must be a Uint8Array of 784 grey bytes per image, got ${typeof images}.`);
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number')
    throw new TypeError(`'testImages.labels' must be an array of class indices (e.g. a Uint8Array), got ${typeof labels}.`);
  if (images.length !== labels.length * IMAGE_PIXELS)
    throw new FmnistReportError(
      'E_REPORT_INPUT',
      `'testImages.images' holds ${images.length} bytes, but ${labels.length} labels need ${labels.length * IMAGE_PIXELS} (${IMAGE_PIXELS} per 28×28 image); pass the images the labels belong to.`,
    );
  if (predictions === null || typeof predictions !== 'object' || predictions.length !== labels.length)
    throw new FmnistReportError(
      'E_REPORT_INPUT',
      `'evaluation.predictions' must hold one class per test label (${labels.length}), got ${predictions?.length ?? typeof predictions}; pass the evaluation of these test images.`,
    );
  const n = classNames.length;
  const taken = new Array<number>(n).fill(0);
  const out: Misclassified[] = [];
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const p = predictions[i];
    for (const [what, v] of [
      ['testImages.labels', t],
      ['evaluation.predictions', p],
    ] as const) {
      if (!isClassIndex(v, n))
        throw new FmnistReportError(
          'E_REPORT_INPUT',
          `'${what}[${i}]' is ${String(v)}, not a class index from 0 to ${n - 1} (${n} class names); pass matching class names.`,
        );
    }
    if (t !== p && (taken[t as number] as number) < perClass) {
      taken[t as number]++;
      out.push({
        index: i,
        pixels: images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS),
        trueLabel: classNames[t as number] as string,
        predicted: classNames[p as number] as string,
      });
    }
  }
  const classOf = (m: Misclassified) => labels[m.index] as number;
  return out.sort((a, b) => classOf(a) - classOf(b) || a.index - b.index);
}

const percent = (v: number | undefined): string => (typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '–');
const loss = (v: number | undefined): string =>
  typeof v !== 'number' || !Number.isFinite(v) ? '–' : Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(2) : v.toFixed(4);

/** The accuracy a confusion matrix gives (its trace over its sum), or undefined for an empty one. */
function accuracyOf(confusion: readonly (readonly number[])[]): number | undefined {
  let total = 0;
  let correct = 0;
  for (const [i, row] of confusion.entries()) {
    for (const [j, v] of row.entries()) {
      if (Number.isFinite(v)) {
        total += v;
        if (i === j) correct += v;
      }
    }
  }
  return total > 0 ? correct / total : undefined;
}

/**
 * Renders a training run's report: one self-contained HTML page (no script, no network, images as PNG data URLs) with
 * the training curves, the confusion matrix, per-class accuracy, misclassified test images, the metrics per epoch and
 * the config. Pure and synchronous, with no Node built-ins: it runs in a page or a worker as in Node. Every string in
 * the input is shown as text, whatever it holds (the page is built with the escaping {@link html} template).
 *
 * @param input - see {@link RunReportInput}
 * @returns the page and the charts it embeds ({@link RunReport})
 * @throws TypeError for a field of the wrong type; RangeError for a bad `misclassifiedPerClass`; FmnistReportError
 *   `E_REPORT_INPUT` when the parts disagree (see {@link selectMisclassified}, and a confusion matrix that is not one
 *   row and column per class)
 *
 * @example
 * ```ts
 * import { renderRunReport } from '@fmnist/report';
 *
 * const labels = new Uint8Array([0, 1, 1, 0]);
 * const { html } = renderRunReport({
 *   title: 'demo run',
 *   epochs: [{ epoch: 1, trainLoss: 0.6, trainAccuracy: 0.8, testLoss: 0.5, testAccuracy: 0.75, timeMs: 900, imagesPerSecond: 5000 }],
 *   evaluation: { accuracy: 0.75, loss: 0.5, confusion: [[2, 0], [1, 1]], predictions: new Uint8Array([0, 1, 0, 0]) },
 *   classNames: ['T-shirt/top', 'Trouser'],
 *   testImages: { images: new Uint8Array(4 * 784), labels },
 *   config: { preset: 'patch-mlp' },
 * });
 * html.length; // 12416
 * ```
 */
export function renderRunReport(input: RunReportInput): RunReport {
  if (input === null || typeof input !== 'object') throw new TypeError(`renderRunReport: 'input' must be an object, got ${typeof input}.`);
  const classNames = input.classNames ?? CLASS_NAMES;
  if (!Array.isArray(classNames) || classNames.length === 0)
    throw new TypeError(`'classNames' must be a non-empty array of class names, got ${JSON.stringify(classNames) ?? typeof classNames}.`);
  if (!Array.isArray(input.epochs))
    throw new TypeError(`'epochs' must be an array of epoch records (History.epochs), got ${typeof input.epochs}.`);
  for (const [name, v] of [
    ['highlights', input.highlights],
    ['files', input.files],
  ] as const) {
    if (v !== undefined && !Array.isArray(v)) throw new TypeError(`'${name}' must be an array when given, got ${typeof v}.`);
  }
  const evaluation = input.evaluation;
  if (evaluation === null || typeof evaluation !== 'object')
    throw new TypeError(`'evaluation' must be the run's final Evaluation ({ confusion, predictions, … }), got ${typeof evaluation}.`);
  const n = classNames.length;
  const { confusion } = evaluation;
  if (!Array.isArray(confusion) || confusion.length !== n || !confusion.every((row) => Array.isArray(row) && row.length === n))
    throw new FmnistReportError(
      'E_REPORT_INPUT',
      `'evaluation.confusion' must be ${n} rows of ${n} counts (one per class name), got ${
        Array.isArray(confusion)
          ? `${confusion.length} rows of ${confusion.map((r) => (Array.isArray(r) ? r.length : typeof r)).join(', ')}`
          : typeof confusion
      }; pass the class names the model was evaluated with.`,
    );
  const perClass = input.misclassifiedPerClass ?? DEFAULT_MISCLASSIFIED_PER_CLASS;
  if (!Number.isInteger(perClass) || perClass < 0)
    throw new RangeError(`'misclassifiedPerClass' must be an integer ≥ 0 (images per true class), got ${String(perClass)}.`);
  const misclassified = selectMisclassified(input.testImages, evaluation.predictions, { classNames, perClass });
  const accuracy = evaluation.accuracy ?? accuracyOf(confusion);
  const curves = curvesSvg(input.epochs, input.curvesTitle === undefined ? {} : { title: input.curvesTitle });
  const matrix = confusionSvg(confusion, classNames, {
    title: input.confusionTitle ?? `Confusion matrix — test accuracy ${percent(accuracy)}`,
  });
  const last = input.epochs.at(-1);
  const highlights = input.highlights ?? [
    ['test accuracy', percent(accuracy)],
    ['test loss', loss(evaluation.loss)],
    ['epochs', String(last?.epoch ?? 0)],
    ['test images', input.testImages.labels.length.toLocaleString('en-US')],
  ];
  const page = renderReport({
    title: input.title,
    highlights,
    curvesSvg: curves,
    confusionSvg: matrix,
    classNames,
    confusion,
    metrics: toMetricsRows(input.epochs),
    misclassified,
    config: input.config,
    files: input.files ?? [],
    generator: input.generator,
    configFile: input.configFile,
  });
  return { html: page, curvesSvg: curves, confusionSvg: matrix, misclassified };
}
