/**
 * The Train view's form as data: each preset's recipe as the defaults (as `fmnist train` takes them), and the one
 * validation of what the user typed — the CLI's ranges, a message naming the field — into {@link TrainSettings}.
 * DOM-free, so it is unit-tested in Node.
 */
import { DEFAULT_PRESET, PRESETS, type PresetName, TRAINING_RECIPES } from '@fmnist/model/core';
import type { TrainSettings } from './session-types';

/** Images in Fashion-MNIST's training split (the most a subset can take). */
export const TRAIN_IMAGES = 60_000;

/** Largest batch size: what the WebAssembly kernels hold for the largest preset (`fmnist train`'s limit). */
export const MAX_BATCH_SIZE = 1024;

/** `fmnist train`'s default batch size (not part of a recipe). */
export const DEFAULT_BATCH_SIZE = 256;

/** Most pixels of the random shift augmentation (`--augment shift=N`, N from 1 to 8). */
export const MAX_SHIFT = 8;

/** The presets the form offers, default first (every preset of `PRESETS`). */
export const PRESET_CHOICES: readonly PresetName[] = [
  DEFAULT_PRESET,
  ...(Object.keys(PRESETS) as PresetName[]).filter((p) => p !== DEFAULT_PRESET),
];

/** The form's fields, as the text (and checkbox) the user sees. */
export interface TrainFormValues {
  preset: string;
  epochs: string;
  batchSize: string;
  learningRate: string;
  lrSchedule: string;
  weightDecay: string;
  labelSmoothing: string;
  /** Random shift in pixels; `0` is none. */
  shift: string;
  flip: boolean;
  /** Random Erasing's probability per image (`fmnist train --augment erase=P`); `0` is none. */
  erase: string;
  /** Empty: all 60,000 training images. */
  subset: string;
  seed: string;
}

/** A field of the form. */
export type TrainField = keyof TrainFormValues;

/** What the form calls each field (messages name it so). */
export const FIELD_LABELS: Readonly<Record<TrainField, string>> = Object.freeze({
  preset: 'Preset',
  epochs: 'Epochs',
  batchSize: 'Batch size',
  learningRate: 'Learning rate',
  lrSchedule: 'Schedule',
  weightDecay: 'Weight decay',
  labelSmoothing: 'Label smoothing',
  shift: 'Shift',
  flip: 'Flip',
  erase: 'Erase',
  subset: 'Training images',
  seed: 'Seed',
});

/** One invalid field and why. */
export interface FieldError {
  field: TrainField;
  message: string;
}

/** What {@link parseTrainForm} found: the settings, or every invalid field. */
export type ParsedTrainForm = { ok: true; settings: TrainSettings } | { ok: false; errors: FieldError[] };

const isPreset = (name: string): name is PresetName => Object.hasOwn(PRESETS, name);

/**
 * The fields a preset's recipe sets (epochs, learning rate, schedule, weight decay, label smoothing, augmentation), as
 * `fmnist train --preset NAME` uses them when no flag says otherwise.
 *
 * @param preset - a preset name
 * @returns the recipe's form values
 * @throws RangeError for an unknown preset (listing the choices)
 *
 * @example
 * ```ts
 * recipeFormValues('mixer-s7').learningRate; // '0.003'
 * ```
 */
export function recipeFormValues(
  preset: string,
): Pick<TrainFormValues, 'epochs' | 'learningRate' | 'lrSchedule' | 'weightDecay' | 'labelSmoothing' | 'shift' | 'flip' | 'erase'> {
  if (!isPreset(preset)) throw new RangeError(`Unknown preset '${preset}'. Choose one of: ${PRESET_CHOICES.join(', ')}.`);
  const r = TRAINING_RECIPES[preset];
  return {
    epochs: String(r.epochs),
    learningRate: String(r.learningRate),
    lrSchedule: r.lrSchedule,
    weightDecay: String(r.weightDecay),
    labelSmoothing: String(r.labelSmoothing),
    shift: String(r.augment?.shift ?? 0),
    flip: r.augment?.flip === true,
    erase: String(r.augment?.erase ?? 0),
  };
}

/**
 * The whole form for a new run of `preset`: its recipe plus `fmnist train`'s other defaults (batch 256, all 60,000
 * images, seed 0).
 *
 * @param preset - a preset name @defaultValue `'patch-mlp'`
 * @returns the form values
 *
 * @example
 * ```ts
 * defaultFormValues().batchSize; // '256'
 * ```
 */
export function defaultFormValues(preset: string = DEFAULT_PRESET): TrainFormValues {
  return { preset, ...recipeFormValues(preset), batchSize: String(DEFAULT_BATCH_SIZE), subset: '', seed: '0' };
}

/**
 * The form showing a run's settings (a stored run being resumed, or the last run).
 *
 * @param s - the settings
 * @returns the form values
 *
 * @example
 * ```ts
 * formValuesOf(settings).subset; // '' for all 60,000 images
 * ```
 */
export function formValuesOf(s: TrainSettings): TrainFormValues {
  return {
    preset: s.preset,
    epochs: String(s.epochs),
    batchSize: String(s.batchSize),
    learningRate: String(s.learningRate),
    lrSchedule: s.lrSchedule,
    weightDecay: String(s.weightDecay),
    labelSmoothing: String(s.labelSmoothing),
    shift: String(s.augment?.shift ?? 0),
    flip: s.augment?.flip === true,
    erase: String(s.augment?.erase ?? 0),
    subset: s.subset === null ? '' : String(s.subset),
    seed: String(s.seed),
  };
}

/** Plain decimal integers: digits only. */
const DECIMAL_INT = /^[0-9]+$/;
/** Plain decimal numbers: digits with an optional fraction and exponent (no sign, hex, `_`, words). */
const DECIMAL_NUMBER = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

const fmt = (n: number) => (Number.isSafeInteger(n) ? n.toLocaleString('en-US') : String(n));

interface Bounds {
  integer?: boolean;
  min: number;
  minInclusive?: boolean;
  max?: number;
  maxInclusive?: boolean;
  /** Why `max` is the limit. */
  maxReason?: string;
  example?: string;
}

function describe(b: Bounds): string {
  const kind = b.integer ? 'a whole number' : 'a number';
  if (b.max === undefined)
    return `${kind} ${b.minInclusive === false ? '>' : '≥'} ${fmt(b.min)}${b.example ? `, such as ${b.example}` : ''}`;
  const range =
    b.integer && b.minInclusive !== false && b.maxInclusive !== false
      ? `${kind} from ${fmt(b.min)} to ${fmt(b.max)}`
      : `${kind} ${b.minInclusive === false ? '>' : '≥'} ${fmt(b.min)} and ${b.maxInclusive === false ? '<' : '≤'} ${fmt(b.max)}`;
  return `${range}${b.maxReason ? ` (${b.maxReason})` : ''}${b.example ? `, such as ${b.example}` : ''}`;
}

/**
 * Reads one numeric field: plain decimal text (spaces around it are ignored), finite, within the bounds.
 *
 * @returns the number, or the message naming the field, the range and what was typed
 */
function readNumber(field: TrainField, text: string, b: Bounds): number | FieldError {
  const value = text.trim();
  const fail = (why = ''): FieldError => ({
    field,
    message: `${FIELD_LABELS[field]}: expected ${describe(b)}, got ${value === '' ? 'nothing' : `'${value}'`}${why}.`,
  });
  if (!(b.integer ? DECIMAL_INT : DECIMAL_NUMBER).test(value)) {
    return fail(b.integer && DECIMAL_NUMBER.test(value) ? ' (not a whole number)' : '');
  }
  const n = Number(value);
  if (!Number.isFinite(n) || (b.integer && !Number.isSafeInteger(n))) return fail(' (too large)');
  if (n < b.min || (b.minInclusive === false && n === b.min)) return fail(' (too small)');
  if (b.max !== undefined && (n > b.max || (b.maxInclusive === false && n === b.max))) return fail(' (too large)');
  return n;
}

/**
 * The one validation of the Train form, with `fmnist train`'s ranges: epochs 1–1,000,000; batch size 1–1,024 and at
 * most the training images; learning rate > 0 and finite; weight decay 0–10; label smoothing 0 ≤ ε < 1; shift 0–8
 * pixels; erase probability 0–1; training images empty (all 60,000) or 1–60,000; seed 0 to 2³²−1. Every invalid
 * field gets a message naming it, the range and what was typed; a run is only started from `ok` settings.
 *
 * @param v - the form values
 * @returns the settings, or the errors in form order
 *
 * @example
 * ```ts
 * const parsed = parseTrainForm({ ...defaultFormValues(), batchSize: '2000' });
 * parsed.ok; // false: 'Batch size: expected a whole number from 1 to 1,024 …'
 * ```
 */
export function parseTrainForm(v: TrainFormValues): ParsedTrainForm {
  const errors: FieldError[] = [];
  const num = (field: TrainField, text: string, b: Bounds): number => {
    const r = readNumber(field, text, b);
    if (typeof r === 'number') return r;
    errors.push(r);
    return Number.NaN;
  };
  const preset = v.preset;
  if (!isPreset(preset))
    errors.push({ field: 'preset', message: `Preset: '${preset}' is not one; choose one of ${PRESET_CHOICES.join(', ')}.` });
  const epochs = num('epochs', v.epochs, { integer: true, min: 1, max: 1_000_000 });
  const subsetText = v.subset.trim();
  const subset =
    subsetText === ''
      ? null
      : num('subset', v.subset, {
          integer: true,
          min: 1,
          max: TRAIN_IMAGES,
          maxReason: 'the training images; leave it empty for all of them',
        });
  const batchSize = num('batchSize', v.batchSize, {
    integer: true,
    min: 1,
    max: MAX_BATCH_SIZE,
    maxReason: 'what the WebAssembly kernels hold for the largest preset',
  });
  if (Number.isFinite(batchSize) && subset !== null && Number.isFinite(subset) && batchSize > subset) {
    errors.push({
      field: 'batchSize',
      message: `Batch size: ${fmt(batchSize)} is more than the ${fmt(subset)} training images. Lower the batch size or train on more images.`,
    });
  }
  const learningRate = num('learningRate', v.learningRate, { min: 0, minInclusive: false, example: '0.001 or 1e-3' });
  const lrSchedule = v.lrSchedule;
  if (lrSchedule !== 'constant' && lrSchedule !== 'cosine') {
    errors.push({ field: 'lrSchedule', message: `Schedule: '${lrSchedule}' is not one; choose constant or cosine.` });
  }
  const weightDecay = num('weightDecay', v.weightDecay, { min: 0, max: 10, example: '0.05' });
  const labelSmoothing = num('labelSmoothing', v.labelSmoothing, { min: 0, max: 1, maxInclusive: false, example: '0.1' });
  const shift = num('shift', v.shift, { integer: true, min: 0, max: MAX_SHIFT, maxReason: '0 is no shift' });
  const erase = num('erase', v.erase, { min: 0, max: 1, maxReason: '0 is none', example: '0.25' });
  const seed = num('seed', v.seed, { integer: true, min: 0, max: 2 ** 32 - 1, maxReason: 'a 32-bit seed' });
  // Form order, so the first message is the first field to fix.
  const order = Object.keys(FIELD_LABELS) as TrainField[];
  errors.sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field));
  if (errors.length > 0) return { ok: false, errors };
  const augment: TrainSettings['augment'] = {};
  if (shift > 0) augment.shift = shift;
  if (v.flip) augment.flip = true;
  if (erase > 0) augment.erase = erase;
  return {
    ok: true,
    settings: {
      preset: preset as PresetName,
      epochs,
      batchSize,
      learningRate,
      lrSchedule: lrSchedule as TrainSettings['lrSchedule'],
      weightDecay,
      labelSmoothing,
      augment,
      subset,
      seed,
    },
  };
}
