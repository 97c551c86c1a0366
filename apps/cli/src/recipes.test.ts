import { PRESETS, TRAINING_RECIPES } from '@fmnist/model/core';
import { describe, expect, it } from 'vitest';
import { parseAugment } from './parse';
import { PRESET_NAMES, RECIPE_DEFAULTS, recipeHelp } from './recipes';

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
});

describe('recipeHelp', () => {
  it('lists each value once, with the presets that share it; a value all share stands alone', () => {
    expect(recipeHelp('learningRate')).toBe('patch-mlp, seed, mixer-s, mixer-m, mixer-l: 0.001; mixer-s7: 0.003');
    expect(recipeHelp('lrSchedule')).toBe('patch-mlp, seed: constant; mixer-s, mixer-s7, mixer-m, mixer-l: cosine');
  });
});
