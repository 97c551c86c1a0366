import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  describeEngine,
  detectCapabilities,
  isSoftwareAdapter,
  kernelWorkers,
  MAX_ERROR_CHARS,
  MAX_WASM_THREADS,
  resolveProvider,
  summarizeOrtError,
  wasmThreads,
} from './engine';

describe('engine choices', () => {
  it('uses threads only when the page is cross-origin isolated', () => {
    expect(wasmThreads({ isolated: false, cores: 8 })).toBe(1);
    expect(wasmThreads({ isolated: true, cores: 2 })).toBe(2);
    expect(wasmThreads({ isolated: true, cores: 64 })).toBe(MAX_WASM_THREADS);
    expect(wasmThreads({ isolated: true, cores: 0 })).toBe(1);
  });

  it('starts one kernels worker per core, isolated or not', () => {
    expect(kernelWorkers({ cores: 2 })).toBe(2);
    expect(kernelWorkers({ cores: 64 })).toBe(MAX_WASM_THREADS);
    expect(kernelWorkers({ cores: 0 })).toBe(1);
  });

  it('picks WebGPU automatically only when an adapter exists, else the kernels', () => {
    expect(resolveProvider('auto', { webgpu: true })).toBe('webgpu');
    expect(resolveProvider('auto', { webgpu: false })).toBe('kernels');
    expect(resolveProvider('wasm', { webgpu: true })).toBe('wasm');
    expect(resolveProvider('kernels', { webgpu: true })).toBe('kernels');
    expect(resolveProvider('webgpu', { webgpu: false })).toBe('webgpu');
  });

  it('recognises software WebGPU adapters', () => {
    expect(isSoftwareAdapter({ info: { vendor: 'google', architecture: 'swiftshader' } })).toBe(true);
    expect(isSoftwareAdapter({ info: { isFallbackAdapter: true, vendor: 'x' } })).toBe(true);
    expect(isSoftwareAdapter({ isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ info: { vendor: 'llvmpipe' } })).toBe(true);
    expect(isSoftwareAdapter({ info: { vendor: 'nvidia', architecture: 'ampere' } })).toBe(false);
  });

  describe('auto never picks a software WebGPU adapter (detectCapabilities → resolveProvider)', () => {
    /** Capabilities detected in a browser whose `navigator.gpu.requestAdapter()` resolves to `adapter`. */
    async function detectWith(adapter: object | null) {
      vi.stubGlobal('navigator', { hardwareConcurrency: 2, gpu: { requestAdapter: async () => adapter } });
      return detectCapabilities();
    }
    afterEach(() => void vi.unstubAllGlobals());

    it('a SwiftShader adapter is usable when picked, but auto runs the kernels', async () => {
      const caps = await detectWith({ info: { vendor: 'google', architecture: 'swiftshader' } });
      expect(caps).toMatchObject({ webgpu: false, webgpuSoftware: true, cores: 2 });
      expect(caps.webgpuNote).toBe('only a software WebGPU adapter (google), slower than WebAssembly');
      expect(resolveProvider('auto', caps)).toBe('kernels');
      expect(resolveProvider('webgpu', caps)).toBe('webgpu');
    });

    it('a fallback adapter without a vendor is named "fallback", and auto runs the kernels', async () => {
      const caps = await detectWith({ isFallbackAdapter: true });
      expect(caps).toMatchObject({ webgpu: false, webgpuSoftware: true });
      expect(caps.webgpuNote).toBe('only a software WebGPU adapter (fallback), slower than WebAssembly');
      expect(resolveProvider('auto', caps)).toBe('kernels');
    });

    it('a hardware adapter is what auto picks', async () => {
      const caps = await detectWith({ info: { vendor: 'nvidia', architecture: 'ampere' } });
      expect(caps).toMatchObject({ webgpu: true, webgpuSoftware: false, webgpuNote: undefined });
      expect(resolveProvider('auto', caps)).toBe('webgpu');
    });

    it('no adapter: auto runs the kernels and the note says why', async () => {
      const caps = await detectWith(null);
      expect(caps).toMatchObject({ webgpu: false, webgpuSoftware: false });
      expect(caps.webgpuNote).toBe('WebGPU is present but offers no adapter (GPU disabled or blocklisted)');
      expect(resolveProvider('auto', caps)).toBe('kernels');
    });
  });

  it('describes the engine for the status bar', () => {
    expect(describeEngine({ provider: 'kernels', threads: 2, choice: 'auto' })).toBe('fmnist kernels · WebAssembly SIMD · 2 workers');
    expect(describeEngine({ provider: 'kernels', threads: 1, choice: 'kernels' })).toBe('fmnist kernels · WebAssembly SIMD · 1 worker');
    expect(describeEngine({ provider: 'wasm', threads: 2, choice: 'wasm' })).toBe('onnxruntime · WebAssembly SIMD · 2 threads');
    expect(describeEngine({ provider: 'wasm', threads: 1, choice: 'wasm' })).toBe('onnxruntime · WebAssembly SIMD · 1 thread');
    expect(describeEngine({ provider: 'webgpu', threads: 1, choice: 'auto' })).toBe('onnxruntime · WebGPU');
  });
});

describe('summarizeOrtError', () => {
  it('keeps the explanation of an onnxruntime error and drops paths and C++ signatures', () => {
    const raw =
      "Can't create a session. ERROR_CODE: 1, ERROR_MESSAGE: /mnt/azure/_work/1/s/onnxruntime/core/framework/session_state_utils.cc:264 " +
      'common::Status onnxruntime::session_state_utils::SaveInitializedTensors(const Env &, const GraphViewer &) ' +
      'ort_value_name_idx_map.MaxIdx() > -1 was false. OrtValue indexes should have been populated.';
    expect(summarizeOrtError(new Error(raw))).toBe('OrtValue indexes should have been populated');
    expect(
      summarizeOrtError(
        new Error("Can't create a session. ERROR_CODE: 7, ERROR_MESSAGE: Failed to load model because protobuf parsing failed."),
      ),
    ).toBe('Failed to load model because protobuf parsing failed');
    expect(summarizeOrtError('plain\nmultiline')).toBe('plain multiline');
    expect(summarizeOrtError(new Error('x'.repeat(500))).length).toBeLessThanOrEqual(MAX_ERROR_CHARS);
  });
});
