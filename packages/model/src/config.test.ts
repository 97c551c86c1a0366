import { describe, expect, it } from 'vitest';
import {
  canonicalPresetName,
  countParameters,
  PRESET_ALIASES,
  PRESET_NAMES_AND_ALIASES,
  PRESETS,
  paramSpecs,
  resolveConfig,
  TRAINING_RECIPES,
} from './config';
import { FmnistModelError } from './errors';
import { createModel, initParams } from './model';

describe('presets and parameter counts', () => {
  it('coursework and patch-mlp have exactly the coursework’s 49,211 parameters', () => {
    expect(countParameters('coursework')).toBe(49211);
    expect(countParameters('patch-mlp')).toBe(49211);
    // 16·128+128 + 49·128+128 + 128·49+49 + 2·(128·128+128) + 128·10+10
    expect(2176 + 6400 + 6321 + 2 * 16512 + 1290).toBe(49211);
  });

  it.each([
    ['mixer-s', 294_990],
    ['mixer-s7', 282_186],
    ['mixer-s7-long', 282_186],
    ['mixer-m', 558_158],
    ['mixer-l', 1_112_594],
  ] as const)('%s counts LayerNorms and every block: %i parameters, as documented', (preset, documented) => {
    const c = resolveConfig(preset);
    const tokens = (28 / c.patchSize) ** 2;
    const pixels = c.patchSize ** 2;
    const perBlock =
      2 * 2 * c.dim +
      (tokens * c.tokenHidden + c.tokenHidden) +
      (c.tokenHidden * tokens + tokens) +
      (c.dim * c.channelHidden + c.channelHidden) +
      (c.channelHidden * c.dim + c.dim);
    const expected = pixels * c.dim + c.dim + c.blocks * perBlock + 2 * c.dim + c.dim * 10 + 10;
    expect(countParameters(preset)).toBe(expected);
    expect(expected).toBe(documented);
  });

  it('the coursework preset is the literal reading: N(0, 1) weights, zero biases, GELU, no norm, no residual', () => {
    expect(PRESETS.coursework).toMatchObject({
      blocks: 1,
      activation: 'gelu',
      norm: 'none',
      residual: false,
      init: { kind: 'normal', std: 1 },
    });
    const p = initParams(resolveConfig('coursework'));
    const w = p['blocks.0.channel_mlp.fc1.weight'] as Float32Array;
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(std).toBeGreaterThan(0.97);
    expect(std).toBeLessThan(1.03);
    expect((p['embed.bias'] as Float32Array).every((v) => v === 0)).toBe(true);
  });

  it('patch-mlp uses fan-in scaled weights (std 1/√fan_in)', () => {
    const p = initParams(resolveConfig('patch-mlp'));
    const w = p['blocks.0.channel_mlp.fc1.weight'] as Float32Array;
    const std = Math.sqrt(w.reduce((a, b) => a + b * b, 0) / w.length);
    expect(std).toBeCloseTo(1 / Math.sqrt(128), 2);
  });

  it('layer names and shapes follow the documented layout', () => {
    const specs = paramSpecs(resolveConfig('coursework'));
    expect(specs.map((s) => `${s.name}:${s.shape.join('x')}`)).toEqual([
      'embed.weight:16x128',
      'embed.bias:128',
      'blocks.0.token_mlp.fc1.weight:49x128',
      'blocks.0.token_mlp.fc1.bias:128',
      'blocks.0.token_mlp.fc2.weight:128x49',
      'blocks.0.token_mlp.fc2.bias:49',
      'blocks.0.channel_mlp.fc1.weight:128x128',
      'blocks.0.channel_mlp.fc1.bias:128',
      'blocks.0.channel_mlp.fc2.weight:128x128',
      'blocks.0.channel_mlp.fc2.bias:128',
      'head.weight:128x10',
      'head.bias:10',
    ]);
  });

  it('same seed → same weights; another seed → different', () => {
    const a = createModel('patch-mlp').params['embed.weight'] as Float32Array;
    const b = createModel('patch-mlp').params['embed.weight'] as Float32Array;
    const c = createModel({ preset: 'patch-mlp', seed: 1 }).params['embed.weight'] as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});

describe('config errors', () => {
  it('unknown preset → E_CONFIG listing the presets', () => {
    expect(() => createModel('tiny' as never)).toThrow(FmnistModelError);
    expect(() => createModel('tiny' as never)).toThrow(
      /Unknown preset 'tiny'. Choose one of: coursework, patch-mlp, mixer-s, mixer-s7, mixer-s7-long, mixer-m, mixer-l\./,
    );
    expect(() => resolveConfig({ preset: 'seeds' as never })).toThrow(/Unknown preset 'seeds'/);
  });

  it('invalid fields → E_CONFIG naming the field', () => {
    expect(() => resolveConfig({ patchSize: 5 })).toThrow(/'patchSize' must be a divisor of 28/);
    expect(() => resolveConfig({ activation: 'tanh' as never })).toThrow(/'activation'/);
    expect(() => resolveConfig({ dim: 0 })).toThrow(/'dim' must be an integer from 1 to 65536/);
    expect(() => resolveConfig({ init: { kind: 'normal', std: -1 } })).toThrow(/'init'/);
  });
});

describe('preset aliases: seed is the old name of coursework', () => {
  it('canonicalPresetName maps every preset to itself, seed to coursework, and anything else to undefined', () => {
    for (const name of Object.keys(PRESETS)) expect(canonicalPresetName(name)).toBe(name);
    expect(canonicalPresetName('seed')).toBe('coursework');
    expect(PRESET_ALIASES).toEqual({ seed: 'coursework' });
    expect(PRESET_NAMES_AND_ALIASES).toEqual([
      'coursework',
      'patch-mlp',
      'mixer-s',
      'mixer-s7',
      'mixer-s7-long',
      'mixer-m',
      'mixer-l',
      'seed',
    ]);
    for (const other of ['tiny', 'Seed', 'coursework ', '', 'toString', '__proto__', 'hasOwnProperty', undefined, null, 3, {}]) {
      expect(canonicalPresetName(other)).toBeUndefined();
    }
  });

  it('seed is not a preset of its own: PRESETS and TRAINING_RECIPES hold coursework only', () => {
    expect(Object.hasOwn(PRESETS, 'seed')).toBe(false);
    expect(Object.hasOwn(TRAINING_RECIPES, 'seed')).toBe(false);
    expect(Object.keys(TRAINING_RECIPES)).toEqual(Object.keys(PRESETS));
  });

  it('resolveConfig and createModel take either name: the same config, the same weights, recorded as coursework', () => {
    expect(resolveConfig('seed')).toEqual(resolveConfig('coursework'));
    expect(resolveConfig({ preset: 'seed', seed: 4 })).toEqual(resolveConfig({ preset: 'coursework', seed: 4 }));
    expect(countParameters('seed')).toBe(49211);
    const old = createModel('seed');
    const renamed = createModel('coursework');
    expect(old.preset).toBe('coursework');
    expect(renamed.preset).toBe('coursework');
    expect(createModel({ preset: 'seed', seed: 2 }).preset).toBe('coursework');
    expect(old.params['blocks.0.channel_mlp.fc1.weight']).toEqual(renamed.params['blocks.0.channel_mlp.fc1.weight']);
  });
});

describe('TRAINING_RECIPES evalEvery', () => {
  it('mixer-s7 evaluates the test set after epochs 7 and 14, mixer-s7-long every 10 of its 50; every other preset after each epoch', () => {
    expect(TRAINING_RECIPES['mixer-s7']).toMatchObject({ epochs: 14, evalEvery: 7 });
    expect(TRAINING_RECIPES['mixer-s7-long']).toMatchObject({ epochs: 50, evalEvery: 10 });
    for (const [name, recipe] of Object.entries(TRAINING_RECIPES)) {
      if (name !== 'mixer-s7' && name !== 'mixer-s7-long') expect(recipe.evalEvery).toBe(1);
      expect(Number.isInteger(recipe.evalEvery) && recipe.evalEvery >= 1 && recipe.evalEvery <= recipe.epochs).toBe(true);
    }
  });
});

describe('configs too large to build', () => {
  it.each([
    ['1e7 blocks', { blocks: 1e7 }, /'blocks' must be an integer from 1 to 1024, got 10000000/],
    ['dim 2**31', { dim: 2 ** 31 }, /'dim' must be an integer from 1 to 65536/],
    ['2000 classes', { numClasses: 2000 }, /'numClasses' must be an integer from 1 to 1000/],
    ['1024 blocks of dim 4096', { blocks: 1024, dim: 4096, channelHidden: 4096 }, /describes [\d,]+ parameters, more than the 100,000,000/],
  ])('%s is refused (E_CONFIG) at once, before anything is allocated', (_what, overrides, message) => {
    const t0 = performance.now();
    expect(() => resolveConfig({ preset: 'mixer-s', ...overrides })).toThrow(message);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
  it('null or a number instead of a config is E_CONFIG, not a TypeError from inside', () => {
    expect(() => resolveConfig(null as never)).toThrow(/A model is a preset name or a config object, got null/);
    expect(() => resolveConfig(5 as never)).toThrow(/got number/);
  });
  it('countParameters in closed form agrees with the list of parameter tensors for every preset', () => {
    for (const preset of Object.keys(PRESETS) as (keyof typeof PRESETS)[]) {
      const config = resolveConfig(preset);
      const listed = paramSpecs(config).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
      expect(countParameters(config)).toBe(listed);
    }
    const odd = resolveConfig({ preset: 'mixer-s', patchSize: 14, blocks: 3, tokenHidden: 5, channelHidden: 7, numClasses: 3 });
    expect(countParameters(odd)).toBe(paramSpecs(odd).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0));
  });
});
