import { availableParallelism } from 'node:os';
import type { Augmentation } from '@fmnist/data';
import { InvalidArgumentError } from 'commander';

/** Bounds of one numeric flag, as {@link parseDecimal} checks them. */
export interface NumberBounds {
  /** Only whole numbers (digits only: no `.`, no exponent). @defaultValue false */
  integer?: boolean;
  /** Smallest allowed value. @defaultValue 0 */
  min?: number;
  /** Whether `min` itself is allowed. @defaultValue true */
  minInclusive?: boolean;
  /** Largest allowed value. @defaultValue `Number.MAX_SAFE_INTEGER` for integers, else the largest finite number */
  max?: number;
  /** Whether `max` itself is allowed. @defaultValue true */
  maxInclusive?: boolean;
  /** Why `max` is the limit, appended to the message, e.g. `the training set size`. */
  maxReason?: string;
  /** An example of a good value, e.g. `0.001 or 1e-3`. */
  example?: string;
}

/** Plain decimal integers: digits only. */
const DECIMAL_INT = /^[0-9]+$/;
/** Plain decimal numbers: digits with an optional fraction and exponent; no sign, hex, `_`, spaces or words. */
const DECIMAL_NUMBER = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

const fmtBound = (n: number) => (Number.isSafeInteger(n) ? n.toLocaleString('en-US') : String(n));

/** The range of a flag in words, e.g. `an integer from 1 to 64`. */
export function describeBounds(bounds: NumberBounds): string {
  const min = bounds.min ?? 0;
  const kind = bounds.integer ? 'an integer' : 'a number';
  const maxDefault = bounds.integer ? Number.MAX_SAFE_INTEGER : Number.MAX_VALUE;
  const max = bounds.max ?? maxDefault;
  const low = bounds.minInclusive === false ? `> ${fmtBound(min)}` : `≥ ${fmtBound(min)}`;
  const high = bounds.maxInclusive === false ? `< ${fmtBound(max)}` : `≤ ${fmtBound(max)}`;
  let text =
    max === maxDefault
      ? `${kind} ${low}`
      : bounds.integer && bounds.minInclusive !== false && bounds.maxInclusive !== false
        ? `${kind} from ${fmtBound(min)} to ${fmtBound(max)}`
        : `${kind} ${low} and ${high}`;
  if (bounds.maxReason && max !== maxDefault) text += ` (${bounds.maxReason})`;
  if (bounds.example) text += `, such as ${bounds.example}`;
  return text;
}

/**
 * The one parser of numeric flags: plain decimal text only (so `0x10`, `1_000`, ` 1`, `+1`, `Infinity`, `NaN` and `''`
 * are refused rather than read the way `Number()` reads them), finite, and within `bounds`.
 *
 * @param value - the flag's text
 * @param bounds - integer or not, min, max
 * @returns the number
 * @throws InvalidArgumentError stating the allowed range (commander adds the flag and exits with status 2)
 *
 * @example
 * ```ts
 * parseDecimal('64', { integer: true, min: 1, max: 64 }); // 64
 * parseDecimal('0x10', { min: 0 }); // throws: expected a number ≥ 0, got '0x10'.
 * ```
 */
export function parseDecimal(value: string, bounds: NumberBounds = {}): number {
  const expected = describeBounds(bounds);
  const bad = (why = '') => new InvalidArgumentError(`expected ${expected}, got '${value}'${why}.`);
  if (!(bounds.integer ? DECIMAL_INT : DECIMAL_NUMBER).test(value)) {
    if (bounds.integer && DECIMAL_NUMBER.test(value)) throw bad(' (not a whole number)');
    throw bad(
      value === ''
        ? ' (empty)'
        : /^[-+]/.test(value)
          ? ''
          : value.trim() !== value
            ? ' (spaces around it)'
            : ' (plain decimal digits only)',
    );
  }
  const n = Number(value);
  if (!Number.isFinite(n)) throw bad(' (too large)');
  if (bounds.integer && !Number.isSafeInteger(n)) throw bad(' (too large)');
  const min = bounds.min ?? 0;
  const max = bounds.max ?? (bounds.integer ? Number.MAX_SAFE_INTEGER : Number.MAX_VALUE);
  if (n < min || (bounds.minInclusive === false && n === min)) throw bad(n === 0 && min === 0 ? ' (too small)' : '');
  if (n > max || (bounds.maxInclusive === false && n === max)) throw bad(' (too large)');
  return n;
}

/** A commander parser for a flag with these bounds. */
export const decimalOption =
  (bounds: NumberBounds) =>
  (value: string): number =>
    parseDecimal(value, bounds);

/** Commander parser for a positive integer flag value. */
export const positiveInt = decimalOption({ integer: true, min: 1 });

/** Commander parser for a non-negative integer flag value. */
export const nonNegativeInt = decimalOption({ integer: true, min: 0 });

/** Commander parser for a positive finite number. */
export const positiveNumber = decimalOption({ min: 0, minInclusive: false, example: '0.001 or 1e-3' });

/** Commander parser for a finite number ≥ 0. */
export const nonNegativeNumber = decimalOption({ min: 0, example: '0.05' });

/** Commander parser for `--lr`: more than 0, at most 10 (Adam diverges long before). */
export const learningRateOption = decimalOption({ min: 0, minInclusive: false, max: 10, example: '0.001 or 1e-3' });

/** Commander parser for `--weight-decay`: 0 to 10 (AdamW's decoupled decay, SGD's coupled L2; recipes use 0 to 0.1). */
export const weightDecayOption = decimalOption({ min: 0, max: 10, example: '0.05' });

/** Commander parser for `--momentum` (SGD): 0 ≤ m < 1, as PyTorch's `torch.optim.SGD` and `@fmnist/model` accept. */
export const momentumOption = decimalOption({ min: 0, max: 1, maxInclusive: false, example: '0.9' });

/** Commander parser for `--label-smoothing`: 0 ≤ ε < 1 (PyTorch's `CrossEntropyLoss(label_smoothing=ε)`). */
export const labelSmoothingOption = decimalOption({ min: 0, max: 1, maxInclusive: false, example: '0.1' });

/**
 * Most worker threads `--threads` accepts: the machine's cores, but at least 64 (each worker holds its own WebAssembly
 * memory, about 13 MB, and more workers than cores only slow training down).
 */
export const MAX_THREADS = Math.max(availableParallelism(), 64);

/** Commander parser for `--threads`: 1 to {@link MAX_THREADS}. */
export const threadsOption = decimalOption({ integer: true, min: 1, max: MAX_THREADS, maxReason: `at most max(CPU cores, 64)` });

/**
 * Largest `--batch-size`: what one WebAssembly kernels instance (4 GiB of memory at most) holds for the largest preset,
 * mixer-l, on one thread (2,048 images run out of memory; 1,024 take about 3.4 GB).
 */
export const MAX_BATCH_SIZE = 1024;

/** Commander parser for `--batch-size`: 1 to {@link MAX_BATCH_SIZE}; `fmnist train` also keeps it ≤ the training images. */
export const batchSizeOption = decimalOption({
  integer: true,
  min: 1,
  max: MAX_BATCH_SIZE,
  maxReason: 'what the WebAssembly kernels hold for the largest preset',
});

/** Images in Fashion-MNIST's training split (the most `--subset` can take). */
export const TRAIN_IMAGES = 60_000;
/** Images in Fashion-MNIST's test split. */
export const TEST_IMAGES = 10_000;

/** Commander parser for `--subset`: 1 to 60,000. */
export const subsetOption = decimalOption({ integer: true, min: 1, max: TRAIN_IMAGES, maxReason: 'the training images' });

/** Commander parser for `--epochs`: 1 to 1,000,000. */
export const epochsOption = decimalOption({ integer: true, min: 1, max: 1_000_000 });

/** Commander parser for `--eval-every`: 1 to 1,000,000 epochs (as `--epochs`, and what a run's config.json may hold). */
export const evalEveryOption = decimalOption({ integer: true, min: 1, max: 1_000_000, maxReason: 'the most epochs a run has' });

/** Commander parser for `--seed`: a 32-bit unsigned integer (the seed of the batch order's generator). */
export const seedOption = decimalOption({ integer: true, min: 0, max: 2 ** 32 - 1, maxReason: 'a 32-bit seed' });

/** Commander parser for `--test-index`: 0 to 9,999, one test image. */
export const testIndexOption = decimalOption({ integer: true, min: 0, max: TEST_IMAGES - 1, maxReason: 'the test images' });

/** Most images `fmnist data --preview` draws (a bigger grid is too large to render). */
export const MAX_PREVIEW = 1000;

/** Commander parser for `--preview`: 1 to {@link MAX_PREVIEW}. */
export const previewOption = decimalOption({ integer: true, min: 1, max: MAX_PREVIEW });

/** Commander parser for `bench --seconds`: more than 0, at most an hour per measurement. */
export const benchSecondsOption = decimalOption({ min: 0, minInclusive: false, max: 3600, example: '3' });

/** Training-time augmentation as `@fmnist/model`'s `train()` takes it; `null` is none. */
export type AugmentSpec = Augmentation | null;

const AUGMENT_USAGE = `use 'none', or a comma-separated list of 'flip', 'shift=N' (N from 1 to 8) and 'erase=P' (P from 0 to 1), e.g. 'shift=1,flip' or 'shift=1,flip,erase=0.5'.`;

/**
 * Parses an `--augment` value: `none`, or a comma-separated list of `flip`, `shift=N` (N pixels, 1–8) and `erase=P`
 * (Random Erasing with probability P, 0–1).
 *
 * @param value - the text, e.g. `shift=1,flip`
 * @returns the augmentation, or `null` for `none`
 * @throws InvalidArgumentError naming the bad part
 *
 * @example
 * ```ts
 * parseAugment('shift=2,flip'); // { shift: 2, flip: true }
 * parseAugment('flip,erase=0.5'); // { flip: true, erase: 0.5 }
 * parseAugment('none'); // null
 * ```
 */
export function parseAugment(value: string): AugmentSpec {
  const text = value.trim().toLowerCase();
  if (text === 'none' || text === 'off') return null;
  const spec: Augmentation = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    const shift = /^shift[=:]?(\d+)$/.exec(part);
    const erase = /^erase[=:]?(\d*\.?\d+)$/.exec(part);
    if (part === 'flip') spec.flip = true;
    else if (shift && Number(shift[1]) >= 1 && Number(shift[1]) <= 8) spec.shift = Number(shift[1]);
    else if (erase && Number(erase[1]) <= 1) spec.erase = Number(erase[1]);
    else throw new InvalidArgumentError(`'${part}' is not an augmentation: ${AUGMENT_USAGE}`);
  }
  return spec;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Longest `--time-budget`: a year. */
export const MAX_DURATION_MS = 365 * 24 * 3_600_000;

/**
 * Parses a duration such as `90s`, `10m`, `1h30m`, `1.5h` or a bare number of seconds, into milliseconds.
 *
 * @param value - the text
 * @returns milliseconds (> 0)
 * @throws InvalidArgumentError for anything else
 *
 * @example
 * ```ts
 * parseDuration('1h30m'); // 5400000
 * ```
 */
export function parseDuration(value: string): number {
  const text = value.trim().toLowerCase();
  let ms = Number.NaN;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length > 0 && parts.map((p) => p[0]).join('') === text)
      ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
  }
  if (ms > MAX_DURATION_MS)
    throw new InvalidArgumentError(`expected a duration of at most ${MAX_DURATION_MS / 3_600_000}h (a year), got '${value}'.`);
  if (ms > 0) return ms;
  throw new InvalidArgumentError(`expected a duration such as 90s, 10m or 1h30m, got '${value}'.`);
}

/** Formats milliseconds as `1h02m`, `3m05s`, `12.3s` or `850ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A count with its noun, singular for 1: `plural(1, 'epoch')` → `1 epoch`, `plural(3, 'epoch')` → `3 epochs`. */
export const plural = (n: number, noun: string): string => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;

/** `0.8123` → `81.23%`. */
export const pct = (x: number | undefined, digits = 2): string =>
  x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(digits)}%`;

/** A loss for humans: 4 decimals below 10, fewer above (the `seed` preset starts in the thousands). */
export const fmtLoss = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? '–' : Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(2) : v.toFixed(4);
