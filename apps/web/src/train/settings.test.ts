import { PRESETS, TRAINING_RECIPES } from '@fmnist/model/core';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BATCH_SIZE,
  defaultFormValues,
  formValuesOf,
  PRESET_CHOICES,
  parseTrainForm,
  recipeFormValues,
  type TrainFormValues,
} from './settings';

const base = defaultFormValues();

/** The errors of a form differing from the defaults in `patch`. */
function errorsOf(patch: Partial<TrainFormValues>): { field: string; message: string }[] {
  const parsed = parseTrainForm({ ...base, ...patch });
  if (parsed.ok) throw new Error(`expected errors for ${JSON.stringify(patch)}`);
  return parsed.errors;
}

describe('recipe defaults', () => {
  it('offers every preset, patch-mlp first', () => {
    expect(PRESET_CHOICES[0]).toBe('patch-mlp');
    expect([...PRESET_CHOICES].sort()).toEqual(Object.keys(PRESETS).sort());
  });

  it("fills the form from each preset's recipe, as fmnist train does", () => {
    for (const preset of PRESET_CHOICES) {
      const r = TRAINING_RECIPES[preset];
      const v = defaultFormValues(preset);
      const parsed = parseTrainForm(v);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.settings).toEqual({
        preset,
        epochs: r.epochs,
        batchSize: DEFAULT_BATCH_SIZE,
        learningRate: r.learningRate,
        lrSchedule: r.lrSchedule,
        weightDecay: r.weightDecay,
        labelSmoothing: r.labelSmoothing,
        augment: r.augment ? { ...r.augment } : {},
        subset: null,
        seed: 0,
      });
    }
  });

  it('mixer-s7: lr 0.003, cosine, weight decay 0.05, smoothing 0.1, shift 1 + flip, 14 epochs', () => {
    expect(recipeFormValues('mixer-s7')).toEqual({
      epochs: '14',
      learningRate: '0.003',
      lrSchedule: 'cosine',
      weightDecay: '0.05',
      labelSmoothing: '0.1',
      shift: '1',
      flip: true,
      erase: '0',
    });
  });

  it('refuses an unknown preset with the choices', () => {
    expect(() => recipeFormValues('resnet')).toThrow(/Unknown preset 'resnet'. Choose one of: patch-mlp, coursework/);
  });

  it('a run’s settings go back into the form unchanged', () => {
    const parsed = parseTrainForm({ ...defaultFormValues('mixer-s'), subset: '2000', seed: '7', batchSize: '128' });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parseTrainForm(formValuesOf(parsed.settings))).toEqual(parsed);
  });
});

describe('validation', () => {
  it('accepts a subset, spaces around numbers and exponents', () => {
    const parsed = parseTrainForm({ ...base, subset: ' 2000 ', learningRate: '1e-3', epochs: '1', shift: '2', flip: true });
    expect(parsed).toEqual({
      ok: true,
      settings: expect.objectContaining({ subset: 2000, learningRate: 0.001, epochs: 1, augment: { shift: 2, flip: true } }),
    });
  });

  it('Random Erasing: a probability in (0, 1] goes into augment.erase; 0 leaves it out', () => {
    const on = parseTrainForm({ ...base, erase: ' 0.25 ', shift: '1', flip: true });
    expect(on.ok && on.settings.augment).toEqual({ shift: 1, flip: true, erase: 0.25 });
    const off = parseTrainForm({ ...base, erase: '0' });
    expect(off.ok && off.settings.augment).toEqual({});
    if (on.ok) expect(formValuesOf(on.settings).erase).toBe('0.25');
  });

  it('a run stored before the Erase field (no augment.erase) shows 0 there', () => {
    const parsed = parseTrainForm(base);
    if (!parsed.ok) throw new Error('defaults must parse');
    expect(formValuesOf({ ...parsed.settings, augment: { flip: true } }).erase).toBe('0');
  });

  it('empty training images means all 60,000 (null)', () => {
    const parsed = parseTrainForm({ ...base, subset: '' });
    expect(parsed.ok && parsed.settings.subset).toBe(null);
  });

  it.each([
    [{ epochs: '0' }, 'epochs', "Epochs: expected a whole number from 1 to 1,000,000, got '0' (too small)."],
    [{ epochs: '1.5' }, 'epochs', "Epochs: expected a whole number from 1 to 1,000,000, got '1.5' (not a whole number)."],
    [{ epochs: '' }, 'epochs', 'Epochs: expected a whole number from 1 to 1,000,000, got nothing.'],
    [{ epochs: '0x10' }, 'epochs', "Epochs: expected a whole number from 1 to 1,000,000, got '0x10'."],
    [
      { batchSize: '2000' },
      'batchSize',
      "Batch size: expected a whole number from 1 to 1,024 (what the WebAssembly kernels hold for the largest preset), got '2000' (too large).",
    ],
    [
      { batchSize: '512', subset: '300' },
      'batchSize',
      'Batch size: 512 is more than the 300 training images. Lower the batch size or train on more images.',
    ],
    [{ learningRate: '0' }, 'learningRate', "Learning rate: expected a number > 0, such as 0.001 or 1e-3, got '0' (too small)."],
    [{ learningRate: '-1' }, 'learningRate', "Learning rate: expected a number > 0, such as 0.001 or 1e-3, got '-1'."],
    [{ learningRate: '1e999' }, 'learningRate', "Learning rate: expected a number > 0, such as 0.001 or 1e-3, got '1e999' (too large)."],
    [{ learningRate: 'Infinity' }, 'learningRate', "Learning rate: expected a number > 0, such as 0.001 or 1e-3, got 'Infinity'."],
    [{ learningRate: 'NaN' }, 'learningRate', "Learning rate: expected a number > 0, such as 0.001 or 1e-3, got 'NaN'."],
    [{ weightDecay: '11' }, 'weightDecay', "Weight decay: expected a number ≥ 0 and ≤ 10, such as 0.05, got '11' (too large)."],
    [{ labelSmoothing: '1' }, 'labelSmoothing', "Label smoothing: expected a number ≥ 0 and < 1, such as 0.1, got '1' (too large)."],
    [{ erase: '1.5' }, 'erase', "Erase: expected a number ≥ 0 and ≤ 1 (0 is none), such as 0.25, got '1.5' (too large)."],
    [{ erase: '-0.1' }, 'erase', "Erase: expected a number ≥ 0 and ≤ 1 (0 is none), such as 0.25, got '-0.1'."],
    [{ erase: '' }, 'erase', 'Erase: expected a number ≥ 0 and ≤ 1 (0 is none), such as 0.25, got nothing.'],
    [{ shift: '9' }, 'shift', "Shift: expected a whole number from 0 to 8 (0 is no shift), got '9' (too large)."],
    [
      { subset: '60001' },
      'subset',
      "Training images: expected a whole number from 1 to 60,000 (the training images; leave it empty for all of them), got '60001' (too large).",
    ],
    [{ subset: '0' }, 'subset', expect.stringMatching(/^Training images: .* got '0' \(too small\)\.$/)],
    [
      { seed: '4294967296' },
      'seed',
      "Seed: expected a whole number from 0 to 4,294,967,295 (a 32-bit seed), got '4294967296' (too large).",
    ],
    [{ seed: '-1' }, 'seed', expect.stringMatching(/^Seed: expected .* got '-1'\.$/)],
    [{ lrSchedule: 'linear' }, 'lrSchedule', "Schedule: 'linear' is not one; choose constant or cosine."],
    [{ preset: 'resnet' }, 'preset', expect.stringMatching(/^Preset: 'resnet' is not one; choose one of patch-mlp, /)],
  ])('%o → %s', (patch, field, message) => {
    expect(errorsOf(patch as Partial<TrainFormValues>)).toEqual([{ field, message }]);
  });

  it('reports every invalid field at once, in form order', () => {
    expect(errorsOf({ seed: 'x', epochs: '0', learningRate: '' }).map((e) => e.field)).toEqual(['epochs', 'learningRate', 'seed']);
  });

  it('a learning rate that diverges (1e6) is a valid setting: the run fails with E_NAN, the form does not refuse it', () => {
    const parsed = parseTrainForm({ ...base, learningRate: '1e6' });
    expect(parsed.ok && parsed.settings.learningRate).toBe(1e6);
  });
});
