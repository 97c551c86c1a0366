import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors';
import { PRESET_NAMES } from '../recipes';
import { parsePresets } from './bench';

describe('bench --preset', () => {
  it('takes one preset, a comma-separated list (duplicates dropped) or all', () => {
    expect(parsePresets('seed')).toEqual(['seed']);
    expect(parsePresets('patch-mlp, seed,patch-mlp')).toEqual(['patch-mlp', 'seed']);
    expect(parsePresets('all')).toEqual(PRESET_NAMES);
    expect(PRESET_NAMES).toContain('mixer-l');
  });

  it('rejects an unknown name with a usage error listing the choices', () => {
    expect(() => parsePresets('seed,tiny')).toThrow(UsageError);
    expect(() => parsePresets('seed,tiny')).toThrow(
      /unknown preset 'tiny'\. Choose from patch-mlp, seed, mixer-s, mixer-s7, mixer-m, mixer-l/,
    );
  });
});
