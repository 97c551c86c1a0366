import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors';
import { PRESET_NAMES } from '../recipes';
import { parsePresets } from './bench';

describe('bench --preset', () => {
  it('takes one preset, a comma-separated list (duplicates dropped) or all', () => {
    expect(parsePresets('coursework')).toEqual(['coursework']);
    expect(parsePresets('patch-mlp, coursework,patch-mlp')).toEqual(['patch-mlp', 'coursework']);
    expect(parsePresets('all')).toEqual(PRESET_NAMES);
    expect(PRESET_NAMES).toContain('mixer-l');
  });

  it('takes seed, the old name of coursework, as coursework (once)', () => {
    expect(parsePresets('seed')).toEqual(['coursework']);
    expect(parsePresets('seed,coursework, patch-mlp,seed')).toEqual(['coursework', 'patch-mlp']);
  });

  it('rejects an unknown name with a usage error listing the choices', () => {
    expect(() => parsePresets('seed,tiny')).toThrow(UsageError);
    expect(() => parsePresets('seed,tiny')).toThrow(
      "--preset: unknown preset 'tiny'. Choose from patch-mlp, coursework, mixer-s, mixer-s7, mixer-s7-long, mixer-m, mixer-l (a comma-separated list), or all; seed is the old name of coursework.",
    );
  });
});
