/**
 * Each preset's training recipe as `fmnist --help` states it. This is a copy of `TRAINING_RECIPES`, the preset names
 * and `PRESET_ALIASES` of `@fmnist/model`, kept here so that `--help` does not load the model package (≈ 50–90 ms more
 * at start); recipes.test.ts keeps the copy equal to the original.
 */
import { InvalidArgumentError } from 'commander';

/** A recipe's settings that `fmnist train` takes from the preset unless a flag says otherwise. */
export interface RecipeDefaults {
  epochs: number;
  learningRate: number;
  lrSchedule: 'constant' | 'cosine';
  weightDecay: number;
  /** As `--augment` takes it: `none`, or e.g. `shift=1,flip`. */
  augment: string;
  labelSmoothing: number;
  /** `--eval-every`: test-set evaluation every N epochs (and after the last). */
  evalEvery: number;
}

/** The 30-epoch cosine recipe `mixer-s`, `mixer-m` and `mixer-l` share (`MIXER_RECIPE` of `@fmnist/model`). */
const MIXER_RECIPE = {
  epochs: 30,
  learningRate: 1e-3,
  lrSchedule: 'cosine',
  weightDecay: 0,
  augment: 'shift=1,flip',
  labelSmoothing: 0,
  evalEvery: 1,
} as const satisfies RecipeDefaults;

/** `mixer-s7`'s 14-epoch recipe (`MIXER_S7_RECIPE` of `@fmnist/model`); `mixer-s7-long` is it for 50 epochs with erasing. */
const MIXER_S7_RECIPE = {
  epochs: 14,
  learningRate: 3e-3,
  lrSchedule: 'cosine',
  weightDecay: 0.05,
  augment: 'shift=1,flip',
  labelSmoothing: 0.1,
  evalEvery: 7,
} as const satisfies RecipeDefaults;

/** The presets, in the order `--help` lists them, and their recipes. */
export const RECIPE_DEFAULTS = {
  'patch-mlp': { epochs: 3, learningRate: 1e-3, lrSchedule: 'constant', weightDecay: 0, augment: 'none', labelSmoothing: 0, evalEvery: 1 },
  coursework: { epochs: 3, learningRate: 1e-3, lrSchedule: 'constant', weightDecay: 0, augment: 'none', labelSmoothing: 0, evalEvery: 1 },
  'mixer-s': MIXER_RECIPE,
  'mixer-s7': MIXER_S7_RECIPE,
  'mixer-s7-long': { ...MIXER_S7_RECIPE, epochs: 50, augment: 'shift=1,flip,erase=0.25', evalEvery: 10 },
  'mixer-m': MIXER_RECIPE,
  'mixer-l': MIXER_RECIPE,
} as const satisfies Record<string, RecipeDefaults>;

/** A preset's name. */
export type PresetChoice = keyof typeof RECIPE_DEFAULTS;

/** The preset names, default first. */
export const PRESET_NAMES = Object.keys(RECIPE_DEFAULTS) as PresetChoice[];

/** Older preset names, still accepted by `--preset`, and the preset each stands for (`PRESET_ALIASES` of `@fmnist/model`). */
export const PRESET_ALIASES: Readonly<Record<string, PresetChoice>> = Object.freeze({ seed: 'coursework' });

/** The aliases in words, for help and error text: `seed is the old name of coursework`. */
export const PRESET_ALIAS_TEXT = Object.entries(PRESET_ALIASES)
  .map(([alias, name]) => `${alias} is the old name of ${name}`)
  .join('; ');

/** `--preset`'s help: the choices and the aliases. */
export const PRESET_HELP = `${PRESET_NAMES.join(', ')} (${PRESET_ALIAS_TEXT})`;

/**
 * The canonical preset of a name or alias, or `undefined`.
 *
 * @param name - e.g. `mixer-s7` or `seed`
 * @returns e.g. `mixer-s7` or `coursework`
 *
 * @example
 * ```ts
 * canonicalPreset('seed'); // 'coursework'
 * canonicalPreset('tiny'); // undefined
 * ```
 */
export function canonicalPreset(name: string): PresetChoice | undefined {
  if (Object.hasOwn(RECIPE_DEFAULTS, name)) return name as PresetChoice;
  return Object.hasOwn(PRESET_ALIASES, name) ? PRESET_ALIASES[name] : undefined;
}

/**
 * Commander parser for `fmnist train --preset`: a preset name or an alias, returned as the canonical name (so a run
 * started with `--preset seed` is a `coursework` run: that is what its directory, config.json and checkpoint record).
 *
 * @param value - the flag's text
 * @returns the canonical preset name
 * @throws InvalidArgumentError listing the choices (commander adds the flag and exits with status 2)
 *
 * @example
 * ```ts
 * presetOption('seed'); // 'coursework'
 * ```
 */
export function presetOption(value: string): PresetChoice {
  const name = canonicalPreset(value);
  if (!name) throw new InvalidArgumentError(`Allowed choices are ${PRESET_NAMES.join(', ')} (${PRESET_ALIAS_TEXT}).`);
  return name;
}

/**
 * One recipe setting across the presets, for a help line: presets with the same value share one entry, and a value
 * every preset shares stands alone.
 *
 * @param field - the setting
 * @returns e.g. `patch-mlp, coursework: 3; mixer-s, mixer-m, mixer-l: 30; mixer-s7: 14`, or `0.001`
 *
 * @example
 * ```ts
 * recipeHelp('lrSchedule'); // 'patch-mlp, coursework: constant; mixer-s, mixer-s7, mixer-m, mixer-l: cosine'
 * ```
 */
export function recipeHelp(field: keyof RecipeDefaults): string {
  const groups = new Map<string, string[]>();
  for (const name of PRESET_NAMES) {
    const value = String(RECIPE_DEFAULTS[name][field]);
    groups.set(value, [...(groups.get(value) ?? []), name]);
  }
  if (groups.size === 1) return [...groups.keys()][0] as string;
  return [...groups].map(([value, names]) => `${names.join(', ')}: ${value}`).join('; ');
}
