/** Small generated model files for the unit tests (the real bundled model is tested in real-data.test.ts). */
import { CLASS_NAMES } from '@fmnist/data';
import { createModel, encodeSafetensors, paramSpecs, type SafeTensor } from '@fmnist/model/core';

/** A random patch-MLP (seeded) as a classifier model file, F16 like the bundled one. */
export function fixtureModel(
  options: { metadata?: Record<string, string>; tensors?: (t: Record<string, SafeTensor>) => void; dtype?: 'F16' | 'F32' } = {},
): Uint8Array {
  const model = createModel('patch-mlp');
  const tensors: Record<string, SafeTensor> = Object.fromEntries(
    paramSpecs(model.config).map((s) => [s.name, { shape: s.shape, data: model.params[s.name] as Float32Array }]),
  );
  options.tensors?.(tensors);
  return encodeSafetensors(
    tensors,
    {
      format: 'fmnist-classify',
      config: JSON.stringify(model.config),
      preset: 'patch-mlp',
      classNames: JSON.stringify(CLASS_NAMES),
      accuracy: '0.5',
      ...options.metadata,
    },
    { dtype: options.dtype ?? 'F16' },
  );
}
