import type { Augmentation } from '@fmnist/data';
import { InvalidArgumentError } from 'commander';

/** Commander parser for a positive integer flag value. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'.`);
  return n;
}

/** Commander parser for a non-negative integer flag value. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected an integer ≥ 0, got '${value}'.`);
  return n;
}

/** Commander parser for a positive finite number (learning rate). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a number > 0 such as 0.001 or 1e-3, got '${value}'.`);
  return n;
}

/** Commander parser for a finite number ≥ 0 (weight decay). */
export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a number ≥ 0 such as 0.05, got '${value}'.`);
  return n;
}

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
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Number(text) * 1000;
    if (ms > 0) return ms;
  }
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length > 0 && parts.map((p) => p[0]).join('') === text) {
    const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
    if (ms > 0) return ms;
  }
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
