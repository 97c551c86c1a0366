/**
 * The `seed` preset was renamed `coursework`. New files record `coursework` whichever name the model was made with;
 * files written before the rename (`preset: seed`) still load, and read back as `coursework`.
 */
import { toBinary } from '@bufbuild/protobuf';
import { type CheckpointMeta, createModel, resolveConfig } from '@fmnist/model/core';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from './export';
import { ModelProtoSchema } from './gen/onnx_pb';
import { decodeModel, readOnnxMetadata } from './metadata';
import { readOnnxWeights } from './weights';

/** An exported file with its `preset` metadata entry set to `value`, as an older release (or a newer one) wrote it. */
function withPresetEntry(bytes: Uint8Array, value: string): Uint8Array {
  const m = decodeModel(bytes);
  const entry = m.metadataProps.find((p) => p.key === 'preset');
  if (!entry) throw new Error('the export has no preset entry');
  entry.value = value;
  return toBinary(ModelProtoSchema, m);
}

describe('ONNX metadata and the preset renamed from seed to coursework', () => {
  it('a model made as seed or as coursework is exported as coursework (metadata and graph name)', () => {
    const model = createModel('seed');
    for (const bytes of [
      exportOnnx(model),
      exportOnnx({ config: 'seed', params: model.params }),
      exportOnnx({ config: { preset: 'seed' }, params: model.params }),
      exportOnnx({ config: resolveConfig('coursework'), params: model.params, preset: 'seed' }),
      exportOnnx(createModel('coursework')),
    ]) {
      const meta = readOnnxMetadata(bytes);
      expect(meta.preset).toBe('coursework');
      expect(meta.raw.preset).toBe('coursework');
      expect(decodeModel(bytes).graph?.name).toBe('fmnist_coursework');
    }
  });

  it('a checkpoint recording seed exports as coursework', () => {
    const model = createModel('coursework');
    const meta = {
      format: 'fmnist-checkpoint',
      version: 1,
      preset: 'seed',
      config: model.config,
      epoch: 0,
      step: 0,
      rng: [1, 2, 3, 4],
      training: {
        optimizer: 'adam',
        learningRate: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
        batchSize: 256,
        epochs: 1,
        seed: 0,
        backend: 'kernels',
        threads: 1,
        normalization: 'unit',
        trainExamples: 256,
      },
      history: [],
      producer: '@fmnist/model',
      createdAt: new Date(0).toISOString(),
    } as unknown as CheckpointMeta;
    expect(readOnnxMetadata(exportOnnx({ meta, params: model.params })).preset).toBe('coursework');
  });

  it('a file written before the rename (preset seed) reads as coursework; raw keeps what the file says; weights load', () => {
    const model = createModel('coursework');
    const old = withPresetEntry(exportOnnx(model), 'seed');
    const meta = readOnnxMetadata(old);
    expect(meta.preset).toBe('coursework');
    expect(meta.raw.preset).toBe('seed');
    const weights = readOnnxWeights(old);
    expect(weights.metadata.preset).toBe('coursework');
    expect(weights.config).toEqual(model.config);
    expect(weights.params['head.weight']).toEqual(model.params['head.weight']);
  });

  it('a preset name this release does not know is kept as written (a newer release may have more presets)', () => {
    const bytes = withPresetEntry(exportOnnx(createModel('patch-mlp')), 'mixer-xl');
    expect(readOnnxMetadata(bytes).preset).toBe('mixer-xl');
  });
});
