import { createModel, encodeSafetensors, encodeWeights, FmnistModelError } from '@fmnist/model/core';
import { describe, expect, it } from 'vitest';
import { FmnistClassifyError } from './errors';
import { parseModelFile } from './model-file';
import { fixtureModel } from './test-fixtures';

/** The E_MODEL error of parsing `bytes`. */
function expectModelError(bytes: Uint8Array, message: RegExp): FmnistClassifyError {
  let error: unknown;
  try {
    parseModelFile(bytes, 'm.safetensors');
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(FmnistClassifyError);
  expect((error as FmnistClassifyError).code).toBe('E_MODEL');
  expect((error as Error).message).toMatch(/^m\.safetensors: not an fmnist classifier model \(/);
  expect((error as Error).message).toMatch(message);
  expect((error as Error).message).toMatch(/leave 'model' out for the bundled model\.$/);
  return error as FmnistClassifyError;
}

describe('parseModelFile', () => {
  it('a file recording the old preset name seed reports coursework; an unknown name is kept as written', () => {
    expect(parseModelFile(fixtureModel({ metadata: { preset: 'seed' } }), 'a').info.preset).toBe('coursework');
    expect(parseModelFile(fixtureModel({ metadata: { preset: 'coursework' } }), 'a').info.preset).toBe('coursework');
    expect(parseModelFile(fixtureModel({ metadata: { preset: 'mixer-xl' } }), 'a').info.preset).toBe('mixer-xl');
    const m = createModel('seed');
    expect(parseModelFile(encodeWeights(m.config, m.params, 'seed' as never), 'model.safetensors').info.preset).toBe('coursework');
  });

  it('reads the classifier format (F16 widened to float32) and a checkpoint’s F32 model.safetensors', () => {
    const f16 = parseModelFile(fixtureModel(), 'a');
    expect(f16.config.patchSize).toBe(4);
    expect(f16.classNames[9]).toBe('Ankle boot');
    expect(f16.info).toMatchObject({ format: 'fmnist-classify', preset: 'patch-mlp', accuracy: 0.5 });
    expect(f16.info.parameters).toBeGreaterThan(0);
    const m = createModel('patch-mlp');
    const ckpt = parseModelFile(encodeWeights(m.config, m.params, 'patch-mlp'), 'model.safetensors');
    expect(ckpt.info.format).toBe('fmnist');
    expect(ckpt.info.accuracy).toBeUndefined();
    expect(ckpt.params['head.weight']).toEqual(m.params['head.weight']);
    // F16 weights are the F32 ones rounded to half precision.
    const first = (m.params['head.weight'] as Float32Array)[0] as number;
    expect(Math.abs(((f16.params['head.weight'] as Float32Array)[0] as number) - first)).toBeLessThanOrEqual(
      Math.abs(first) * 2 ** -11 + 2 ** -24,
    );
  });

  it('random bytes, truncated files and JSON are E_MODEL with the safetensors error as cause', () => {
    const e = expectModelError(
      Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256),
      /safetensors/,
    );
    expect(e.cause).toBeInstanceOf(FmnistModelError);
    expectModelError(fixtureModel().subarray(0, 500), /header length|outside the file|truncated/);
    expectModelError(new TextEncoder().encode('{"format":"fmnist"}'), /not a valid safetensors file|header/);
  });

  it('a safetensors file that is not ours: wrong format, missing or bad config', () => {
    const foreign = encodeSafetensors({ w: { shape: [2], data: new Float32Array(2) } }, { format: 'pt' });
    expectModelError(foreign, /metadata 'format' is "pt", expected one of "fmnist-classify", "fmnist"/);
    expectModelError(fixtureModel({ metadata: { config: 'nope' } }), /metadata 'config' is not a valid model config/);
    expectModelError(fixtureModel({ metadata: { config: '[1]' } }), /not a JSON object/);
    expectModelError(
      fixtureModel({ metadata: { config: JSON.stringify({ ...createModel('patch-mlp').config, patchSize: 5 }) } }),
      /patchSize/,
    );
  });

  it('tensors of the wrong shape, missing or extra tensors, NaN weights', () => {
    expectModelError(
      fixtureModel({ tensors: (t) => Object.assign(t, { 'head.weight': { shape: [2, 2], data: new Float32Array(4) } }) }),
      /tensor 'head\.weight' has shape \[2,2\], its config needs \[/,
    );
    expectModelError(fixtureModel({ tensors: (t) => delete t['head.bias'] }), /tensor 'head\.bias' is missing/);
    expectModelError(
      fixtureModel({ tensors: (t) => Object.assign(t, { extra: { shape: [1], data: new Float32Array(1) } }) }),
      /tensors extra do not belong/,
    );
    expectModelError(
      fixtureModel({
        tensors: (t) => {
          const b = t['head.bias'] as { data: Float32Array };
          b.data = Float32Array.from(b.data, (v, i) => (i === 2 ? Number.NaN : v));
        },
      }),
      /tensor 'head\.bias' holds NaN at index 2/,
    );
  });

  it('class names and accuracy are checked', () => {
    expectModelError(fixtureModel({ metadata: { classNames: '["a","b"]' } }), /2 class names for a model of 10 classes/);
    expectModelError(fixtureModel({ metadata: { classNames: '{' } }), /'classNames' is not JSON/);
    expectModelError(fixtureModel({ metadata: { classNames: JSON.stringify(Array(10).fill(3)) } }), /array of non-empty strings/);
    expectModelError(fixtureModel({ metadata: { accuracy: '1.5' } }), /metadata 'accuracy' is "1.5", expected a number in \[0, 1\]/);
  });

  it.each([
    ['a newline', 'Bag\nshoe.png: Sandal 99%'],
    ['an escape sequence', 'Bag\u001b[2J'],
    ['a bidirectional override', 'Bag\u202etoob'],
  ])('a class name with %s is refused (it could forge or reorder what is shown)', (_what, name) => {
    const names = Array.from({ length: 10 }, (_, i) => `c${i}`);
    names[4] = name;
    expectModelError(fixtureModel({ metadata: { classNames: JSON.stringify(names) } }), /names without control characters/);
  });
});
