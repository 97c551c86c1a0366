/**
 * Each preset's training recipe as `fmnist --help` states it. This is a copy of `TRAINING_RECIPES` and the preset
 * names of `@fmnist/model`, kept here so that `--help` does not load the model package (≈ 50–90 ms more at start);
 * recipes.test.ts keeps the copy equal to the original.
 */

/** A recipe's settings that `fmnist train` takes from the preset unless a flag says otherwise. */
export interface RecipeDefaults {
  epochs: number;
  learningRate: number;
  lrSchedule: 'constant' | 'cosine';
  weightDecay: number;
  /** As `--augment` takes it: `none`, or e.g. `shift=1,flip`. */
  augment: string;
  labelSmoothing: number;
}

/** The presets, in the order `--help` lists them, and their recipes. */
export const RECIPE_DEFAULTS = {
  'patch-mlp': { epochs: 3, learningRate: 1e-3, lrSchedule: 'constant', weightDecay: 0, augment: 'none', labelSmoothing: 0 },
  seed: { epochs: 3, learningRate: 1e-3, lrSchedule: 'constant', weightDecay: 0, augment: 'none', labelSmoothing: 0 },
  'mixer-s': { epochs: 30, learningRate: 1e-3, lrSchedule: 'cosine', weightDecay: 0, augment: 'shift=1,flip', labelSmoothing: 0 },
  'mixer-s7': { epochs: 14, learningRate: 3e-3, lrSchedule: 'cosine', weightDecay: 0.05, augment: 'shift=1,flip', labelSmoothing: 0.1 },
  'mixer-m': { epochs: 30, learningRate: 1e-3, lrSchedule: 'cosine', weightDecay: 0, augment: 'shift=1,flip', labelSmoothing: 0 },
  'mixer-l': { epochs: 30, learningRate: 1e-3, lrSchedule: 'cosine', weightDecay: 0, augment: 'shift=1,flip', labelSmoothing: 0 },
} as const satisfies Record<string, RecipeDefaults>;

/** A preset's name. */
export type PresetChoice = keyof typeof RECIPE_DEFAULTS;

/** The preset names, default first. */
export const PRESET_NAMES = Object.keys(RECIPE_DEFAULTS) as PresetChoice[];

/**
 * One recipe setting across the presets, for a help line: presets with the same value share one entry, and a value
 * every preset shares stands alone.
 *
 * @param field - the setting
 * @returns e.g. `patch-mlp, seed: 3; mixer-s, mixer-m, mixer-l: 30; mixer-s7: 14`, or `0.001`
 *
 * @example
 * ```ts
 * recipeHelp('lrSchedule'); // 'patch-mlp, seed: constant; mixer-s, mixer-s7, mixer-m, mixer-l: cosine'
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
