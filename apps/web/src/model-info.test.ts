import { readFileSync } from 'node:fs';
import { FmnistError } from '@fmnist/data';
import { readOnnxMetadata } from '@fmnist/onnx';
import { describe, expect, it } from 'vitest';
import { describeModel, formatBytes, formatPercent, inspectModel, MAX_MODEL_BYTES, ModelLoadError } from './model-info';
import { randomBytes, rewriteOnnx } from './test-helpers';

const DEFAULT = new Uint8Array(readFileSync(new URL('../public/models/default.onnx', import.meta.url)));
const SIDECAR = JSON.parse(readFileSync(new URL('../public/models/default.json', import.meta.url), 'utf8'));

function rejects(bytes: Uint8Array, name = 'x.onnx'): ModelLoadError {
  try {
    inspectModel(bytes, name);
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return err as ModelLoadError;
  }
  throw new Error('expected inspectModel to throw');
}

describe('inspectModel', () => {
  it('accepts the shipped default model and reads its record', () => {
    const info = inspectModel(DEFAULT, 'default.onnx');
    expect(info.output).toBe('probabilities');
    expect(info.metadata.preset).toBe('patch-mlp');
    expect(info.metadata.classNames).toHaveLength(10);
    expect(info.metadata.input).toMatchObject({ name: 'image', shape: ['batch', 1, 28, 28] });
    expect(info.metadata.metrics?.testAccuracy).toBe(SIDECAR.testAccuracy);
    expect(DEFAULT.length).toBe(SIDECAR.bytes);
  });

  it('throws FmnistError subclasses with stable codes', () => {
    const err = rejects(new Uint8Array(0));
    expect(err).toBeInstanceOf(FmnistError);
    expect(err.name).toBe('ModelLoadError');
  });

  it('refuses an empty file, random bytes and text with E_EMPTY / E_NOT_ONNX', () => {
    expect(rejects(new Uint8Array(0)).code).toBe('E_EMPTY');
    const random = rejects(randomBytes(5000), 'x.onnx');
    expect(random.code).toBe('E_NOT_ONNX');
    expect(random.message).toMatch(/“x\.onnx” is not an ONNX model/);
    expect(random.message).toMatch(/fmnist train/);
    expect(rejects(new TextEncoder().encode('<!doctype html><title>404</title>')).code).toBe('E_NOT_ONNX');
    // Cut in the middle of the weights.
    expect(rejects(DEFAULT.subarray(0, 100_000)).code).toBe('E_NOT_ONNX');
  });

  it('refuses a valid ONNX model that fmnist did not export, naming its producer', () => {
    const foreign = rewriteOnnx(DEFAULT, { producerName: 'pytorch', metadata: () => new Map() });
    const err = rejects(foreign, 'resnet.onnx');
    expect(err.code).toBe('E_NOT_FMNIST');
    expect(err.message).toMatch(/“resnet\.onnx” is an ONNX model, but not a Fashion-MNIST model/);
    expect(err.message).toMatch(/pytorch/);
  });

  it('refuses fmnist models whose input or classes the app cannot feed', () => {
    const edit = (key: string, value: string) => rewriteOnnx(DEFAULT, { metadata: (m) => new Map(m).set(key, value) });
    const flat = rejects(edit('input', JSON.stringify({ name: 'image', shape: ['batch', 784], normalization: 'unit' })));
    expect(flat.code).toBe('E_CONTRACT');
    expect(flat.message).toMatch(/metadata gives its input the shape \[batch, 784\], but the graph's input has \[batch, 1, 28, 28\]/);
    expect(rejects(edit('input', JSON.stringify({ name: 'pixels', shape: ['batch', 1, 28, 28] }))).message).toMatch(
      /names its input 'pixels'/,
    );
    expect(rejects(edit('class_names', JSON.stringify(['a', 'b', 'c']))).message).toMatch(
      /names 3 classes, but its output 'logits' gives 10/,
    );
    expect(rejects(edit('outputs', JSON.stringify(['scores']))).message).toMatch(/lists output 'scores' that its graph lacks/);
    expect(rejects(edit('normalization', 'standard')).code).toBe('E_NOT_FMNIST');
  });

  it('uses logits when a model only declares them', () => {
    const logitsOnly = rewriteOnnx(DEFAULT, { metadata: (m) => new Map(m).set('outputs', JSON.stringify(['logits'])) });
    expect(inspectModel(logitsOnly, 'l.onnx').output).toBe('logits');
  });

  it('refuses files larger than any Fashion-MNIST model before parsing', () => {
    const big = { length: MAX_MODEL_BYTES + 1 } as Uint8Array;
    expect(rejects(big).code).toBe('E_TOO_LARGE');
  });
});

describe('inspectModel: damaged metadata gets a clear message, never a TypeError or NaN', () => {
  const edit = (key: string, value: string) => rewriteOnnx(DEFAULT, { metadata: (m) => new Map(m).set(key, value) });
  const refused = (key: string, value: string, message: RegExp) => {
    const err = rejects(edit(key, value), 'bogus.onnx');
    expect(err.code).toBe('E_NOT_FMNIST');
    expect(err.message).toMatch(/^“bogus\.onnx” is an ONNX model, but not a Fashion-MNIST model this app can use: /);
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/Cannot read properties|undefined|NaN %/);
  };
  it('class_names: null', () => refused('class_names', 'null', /'class_names' must be a JSON array of 2 to 1000 .*got null/));
  it('class_names: a 10-letter string', () =>
    refused('class_names', JSON.stringify('ABCDEFGHIJ'), /'class_names' must be a JSON array.*got a string \("ABCDEFGHIJ"\)/));
  it('class_names: numbers, an empty name, duplicates', () => {
    refused(
      'class_names',
      JSON.stringify([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      /'class_names\[0\]' must be a non-empty string.*got the number 0/,
    );
    refused('class_names', JSON.stringify([...'ABCDEFGHI', '']), /'class_names\[9\]' must be a non-empty string/);
    refused('class_names', JSON.stringify([...'ABCDEFGHI', 'A']), /'class_names\[9\]' must be distinct/);
  });
  it('a parameter count that is not a number (was shown as NaN)', () =>
    refused('parameters', 'lots', /'parameters' must be a non-negative integer, got a string \("lots"\)/));
  it('metrics that are not numbers (were shown as "NaN %" or crashed on toFixed)', () => {
    refused(
      'metrics',
      JSON.stringify({ epoch: 3, testAccuracy: 'high', testLoss: 0.5 }),
      /'metrics\.testAccuracy' must be a fraction in \[0, 1\]/,
    );
    refused('metrics', JSON.stringify({ epoch: 3, testAccuracy: 0.8, testLoss: '0.5' }), /'metrics\.testLoss' must be a finite number/);
  });
  it('training figures and a config that are not what the card reads', () => {
    refused('training', JSON.stringify({ learningRate: 'NaN', batchSize: 256 }), /'training\.learningRate' must be a finite number/);
    refused('training', 'null', /'training' must be a JSON object, got null/);
    refused('config', JSON.stringify({ patchSize: 'four' }), /invalid config/);
  });
  it('the card of a valid model shows no NaN, undefined or null anywhere', () => {
    const sparse = rewriteOnnx(DEFAULT, {
      metadata: (m) => {
        const next = new Map(m);
        for (const key of ['training', 'metrics', 'dataset', 'trained_at', 'preset']) next.delete(key);
        return next;
      },
    });
    for (const bytes of [DEFAULT, sparse]) {
      for (const row of describeModel(inspectModel(bytes, 'm.onnx'))) expect(row.value).not.toMatch(/NaN|undefined|null|Infinity/);
    }
  });
  it('a graph that disagrees with its metadata is E_CONTRACT (the shared signature check)', () => {
    const foreignGraph = rewriteOnnx(DEFAULT, {
      metadata: (m) => new Map(m).set('input', JSON.stringify({ name: 'image', shape: ['batch', 28, 28] })),
    });
    expect(rejects(foreignGraph).code).toBe('E_CONTRACT');
  });
});

describe('rewriteOnnx (test helper)', () => {
  it('keeps a file byte for byte when nothing changes, and edits metadata', () => {
    expect(Buffer.compare(rewriteOnnx(DEFAULT, {}), DEFAULT)).toBe(0);
    const edited = rewriteOnnx(DEFAULT, { metadata: (m) => new Map(m).set('preset', 'mixer-s') });
    expect(readOnnxMetadata(edited).preset).toBe('mixer-s');
    expect(readOnnxMetadata(edited).parameters).toBe(49211);
  });
});

describe('model card', () => {
  it('describes preset, architecture, hyperparameters, accuracy, size and producer', () => {
    const rows = Object.fromEntries(describeModel(inspectModel(DEFAULT, 'default.onnx')).map((r) => [r.label, r.value]));
    expect(rows.File).toBe('default.onnx · 198 KiB');
    expect(rows.Preset).toBe('patch-mlp');
    expect(rows.Architecture).toBe('patch 4×4, width 128, token MLP 128, channel MLP 128, 1 block, GELU, no norm, no residual');
    expect(rows.Parameters).toBe('49,211');
    expect(rows.Weights).toBe('float32');
    expect(rows.Training).toBe('Adam, lr 0.001, batch 256, 3 epochs, seed 0');
    expect(rows['Test accuracy']).toMatch(/^81\.79 % \(recorded after epoch 3, loss 0\.50\d\d\)$/);
    expect(rows.Dataset).toBe('fashion-mnist (from system)');
    expect(rows.Producer).toMatch(/^@fmnist\/onnx \d+\.\d+\.\d+ · ONNX IR 8, opset 17$/);
    expect(rows['Trained at']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  });

  it('shows custom configs, schedules, weight decay and augmentation', () => {
    const custom = rewriteOnnx(DEFAULT, {
      metadata: (m) => {
        const next = new Map(m);
        next.delete('preset');
        next.set('quantization', 'int8');
        const training = JSON.parse(m.get('training') as string);
        next.set(
          'training',
          JSON.stringify({
            ...training,
            optimizer: 'adamw',
            lrSchedule: 'cosine',
            weightDecay: 0.05,
            augment: { shift: 1, flip: true, erase: 0.5 },
          }),
        );
        return next;
      },
    });
    const rows = Object.fromEntries(describeModel(inspectModel(custom, 'c.onnx')).map((r) => [r.label, r.value]));
    expect(rows.Preset).toBe('custom configuration');
    expect(rows.Weights).toMatch(/^int8/);
    expect(rows.Training).toBe(
      'adamw, lr 0.001, cosine schedule, weight decay 0.05, batch 256, 3 epochs, seed 0, augment shift ±1 px + flip + erase p 0.5',
    );
  });

  it('formats sizes and percentages', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(202_499)).toBe('198 KiB');
    expect(formatBytes(2_200_000)).toBe('2.1 MiB');
    expect(formatPercent(0.8179)).toBe('81.79 %');
    expect(formatPercent(1, 1)).toBe('100.0 %');
  });
});
