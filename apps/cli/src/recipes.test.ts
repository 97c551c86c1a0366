import { PRESET_ALIASES as MODEL_PRESET_ALIASES, PRESETS, TRAINING_RECIPES } from '@fmnist/model/core';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseAugment } from './parse';
import { canonicalPreset, PRESET_ALIASES, PRESET_HELP, PRESET_NAMES, presetOption, RECIPE_DEFAULTS, recipeHelp } from './recipes';

describe('RECIPE_DEFAULTS (what --help states)', () => {
  it('names every preset of @fmnist/model, and only those', () => {
    expect([...PRESET_NAMES].sort()).toEqual(Object.keys(PRESETS).sort());
  });

  it.each(PRESET_NAMES)('%s: equals the recipe fmnist train uses', (name) => {
    const { augment, ...rest } = RECIPE_DEFAULTS[name];
    const { augment: recipeAugment, ...recipeRest } = TRAINING_RECIPES[name];
    expect(rest).toEqual(recipeRest);
    expect(parseAugment(augment)).toEqual(recipeAugment);
  });

  it('has the aliases of @fmnist/model', () => {
    expect(PRESET_ALIASES).toEqual(MODEL_PRESET_ALIASES);
  });
});

describe('fmnist train --preset (presetOption)', () => {
  it('takes every preset as itself and seed, the old name, as coursework', () => {
    for (const name of PRESET_NAMES) expect(presetOption(name)).toBe(name);
    expect(presetOption('seed')).toBe('coursework');
    expect(canonicalPreset('seed')).toBe('coursework');
    expect(PRESET_HELP).toBe(
      'patch-mlp, coursework, mixer-s, mixer-s7, mixer-s7-long, mixer-m, mixer-l (seed is the old name of coursework)',
    );
  });

  it.each(['tiny', 'Seed', ' seed', '', 'toString', '__proto__'])('refuses %j, listing the choices and the alias', (value) => {
    expect(canonicalPreset(value)).toBeUndefined();
    expect(() => presetOption(value)).toThrow(InvalidArgumentError);
    expect(() => presetOption(value)).toThrow(
      'Allowed choices are patch-mlp, coursework, mixer-s, mixer-s7, mixer-s7-long, mixer-m, mixer-l (seed is the old name of coursework).',
    );
  });
});

describe('recipeHelp', () => {
  it('lists each value once, with the presets that share it; a value all share stands alone', () => {
    expect(recipeHelp('learningRate')).toBe('patch-mlp, coursework, mixer-s, mixer-m, mixer-l: 0.001; mixer-s7, mixer-s7-long: 0.003');
    expect(recipeHelp('lrSchedule')).toBe('patch-mlp, coursework: constant; mixer-s, mixer-s7, mixer-s7-long, mixer-m, mixer-l: cosine');
    expect(recipeHelp('evalEvery')).toBe('patch-mlp, coursework, mixer-s, mixer-m, mixer-l: 1; mixer-s7: 7; mixer-s7-long: 10');
  });
});
