import { describe, expect, it, vi } from 'vitest';
// The two kernels builds: which one a process picks, and that the relaxed-SIMD build's GEMM really fuses its
// multiply-adds (same products, one rounding: the results differ from the baseline build's in the last bits only).
// Runs in both vitest projects: `model` (plain Node 20: no relaxed SIMD) and `relaxed-simd` (started with the V8 flag).
import { PRESETS } from '../config';
import { createMixerKernelEngine } from './mixer-engine';
import { KERNEL_IMPORTS, type KernelsBuild, kernelsBuild, kernelsModuleBytes } from './wasm';

const relaxedAvailable = WebAssembly.validate(kernelsModuleBytes('mixer', 'relaxed-simd'));

interface GemmExports {
  memory: WebAssembly.Memory;
  allocF32(n: number): number;
  initGemm(): void;
  gemm(...args: number[]): void;
}

/** C = A·B (M×K times K×N, row-major) on one build of the kernels. */
async function gemmOn(build: KernelsBuild, a: Float32Array, b: Float32Array, m: number, k: number, n: number): Promise<Float32Array> {
  const { instance } = (await WebAssembly.instantiate(kernelsModuleBytes('mixer', build), KERNEL_IMPORTS)) as unknown as {
    instance: { exports: GemmExports };
  };
  const x = instance.exports;
  const pa = x.allocF32(m * k);
  const pb = x.allocF32(k * n);
  const pc = x.allocF32(m * n);
  x.initGemm();
  new Float32Array(x.memory.buffer, pa, m * k).set(a);
  new Float32Array(x.memory.buffer, pb, k * n).set(b);
  x.gemm(m, n, k, pa, k, 1, pb, n, 1, pc, n, 0, 0);
  return new Float32Array(x.memory.buffer, pc, m * n).slice();
}

describe('the kernels build', () => {
  it('is relaxed-simd exactly when the runtime validates relaxed-SIMD modules (or FMNIST_WASM_SIMD says which)', async () => {
    const asked = process.env.FMNIST_WASM_SIMD;
    const expected = asked === 'simd' ? 'simd' : asked === 'relaxed-simd' || relaxedAvailable ? 'relaxed-simd' : 'simd';
    expect(kernelsBuild()).toBe(expected);
    const engine = await createMixerKernelEngine({ config: PRESETS['patch-mlp'], maxBatch: 8 });
    try {
      expect(engine.name).toBe(`wasm-${expected}`);
    } finally {
      await engine.dispose();
    }
  });

  it.runIf(relaxedAvailable)('relaxed-simd fuses the GEMM multiply-adds: last-bit differences from simd, nothing more', async () => {
    const [m, k, n] = [16, 256, 32];
    let seed = 7;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32 - 0.5;
    };
    const a = Float32Array.from({ length: m * k }, rand);
    const b = Float32Array.from({ length: k * n }, rand);
    const plain = await gemmOn('simd', a, b, m, k, n);
    const fused = await gemmOn('relaxed-simd', a, b, m, k, n);
    let differing = 0;
    let worst = 0;
    for (let i = 0; i < m * n; i++) {
      if (plain[i] !== fused[i]) differing++;
      worst = Math.max(worst, Math.abs((plain[i] as number) - (fused[i] as number)));
    }
    expect(differing).toBeGreaterThan(0); // the fused build is not the plain one under another name
    expect(worst).toBeLessThan(1e-5); // sums of 256 products of magnitude < 0.25: float32 rounding only
  });

  /** `kernelsBuild()` of a fresh copy of the module (the choice is made once per process) under `FMNIST_WASM_SIMD=value`. */
  async function buildUnder(value: string): Promise<() => KernelsBuild> {
    const before = process.env.FMNIST_WASM_SIMD;
    process.env.FMNIST_WASM_SIMD = value;
    try {
      vi.resetModules();
      const fresh = await import('./wasm');
      let result: KernelsBuild | Error;
      try {
        result = fresh.kernelsBuild();
      } catch (err) {
        result = err as Error;
      }
      return () => {
        if (result instanceof Error) throw result;
        return result;
      };
    } finally {
      if (before === undefined) delete process.env.FMNIST_WASM_SIMD;
      else process.env.FMNIST_WASM_SIMD = before;
    }
  }

  it('FMNIST_WASM_SIMD: simd forces the baseline, an unknown value is E_BACKEND naming it', async () => {
    expect((await buildUnder('simd'))()).toBe('simd');
    expect(await buildUnder('fast')).toThrow(/FMNIST_WASM_SIMD is "fast"; use simd, relaxed-simd or auto/);
  });

  it.runIf(!relaxedAvailable)('FMNIST_WASM_SIMD=relaxed-simd on a runtime without it is E_BACKEND with the fix', async () => {
    expect(await buildUnder('relaxed-simd')).toThrow(/no relaxed SIMD: use Node ≥ 22, start Node 20 with --experimental-wasm-relaxed-simd/);
  });
});
