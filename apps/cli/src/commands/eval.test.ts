import { describe, expect, it } from 'vitest';
import { EXIT, UsageError } from '../errors';
import { checkFlipTta } from './eval';

describe('eval --tta flip on a model trained without flips', () => {
  const noFlips = { augment: { shift: 1 } };

  it('is refused with a usage error (exit 2) naming the model and the two ways out', () => {
    let error: unknown;
    try {
      checkFlipTta('flip', noFlips, false, 'runs/a/model.onnx');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe(EXIT.usage);
    expect((error as Error).message).toBe(
      'runs/a/model.onnx was trained without flip augmentation, so its mirror images are out of distribution and --tta flip ' +
        'lowers its accuracy. Evaluate without --tta, or add --force to run it anyway.',
    );
  });

  it('is refused when the record has no augmentation at all (the coursework presets)', () => {
    expect(() => checkFlipTta('flip', {}, false, 'ckpt')).toThrow(UsageError);
    expect(() => checkFlipTta('flip', { augment: null }, false, 'ckpt')).toThrow(UsageError);
    expect(() => checkFlipTta('flip', { augment: { flip: false } }, false, 'ckpt')).toThrow(/trained without flip/);
  });

  it('runs with --force, returning the warning to print', () => {
    expect(checkFlipTta('flip', noFlips, true, 'ckpt')).toBe(
      'ckpt was trained without flip augmentation, so its mirror images are out of distribution and --tta flip lowers its accuracy (running anyway: --force).',
    );
  });

  it('only warns when the model records no training settings (an ONNX file without our metadata)', () => {
    expect(checkFlipTta('flip', undefined, false, 'x.onnx')).toBe(
      'x.onnx records no training augmentation; --tta flip helps only a model trained with flips.',
    );
    expect(checkFlipTta('flip', null, false, 'x.onnx')).toMatch(/records no training augmentation/);
  });

  it('says nothing for a flip-trained model or without --tta', () => {
    expect(checkFlipTta('flip', { augment: { shift: 1, flip: true } }, false, 'm')).toBeUndefined();
    expect(checkFlipTta('none', noFlips, false, 'm')).toBeUndefined();
    expect(checkFlipTta('none', undefined, false, 'm')).toBeUndefined();
  });
});
