import { describe, expect, it } from 'vitest';
import { ortOptimizationLevel } from './onnx-io';

describe('ortOptimizationLevel', () => {
  it('reads int8 models at basic (no MatMulNBits fusion, the float32 result) and the others at all', () => {
    expect(ortOptimizationLevel({ quantization: 'int8' })).toBe('basic');
    expect(ortOptimizationLevel({ quantization: 'none' })).toBe('all');
    expect(ortOptimizationLevel({ quantization: 'fp16' })).toBe('all');
    expect(ortOptimizationLevel({})).toBe('all');
    expect(ortOptimizationLevel(null)).toBe('all');
  });
});
