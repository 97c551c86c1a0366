import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 300_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'model',
          include: ['src/**/*.test.ts'],
          // type tests (`*.test-d.ts`): checked by tsc as part of `vitest run`
          typecheck: { enabled: true, include: ['src/**/*.test-d.ts'] },
        },
      },
      {
        // The kernels' parity tests again on the relaxed-SIMD build (fused multiply-add in the GEMM), which Node 20
        // validates only behind a V8 flag: every engine in these processes compiles that build.
        extends: true,
        test: {
          name: 'relaxed-simd',
          include: [
            'src/kernels/mixer-engine.test.ts',
            'src/kernels/mixer-engine.patch-mlp.test.ts',
            'src/kernels/subnormals.test.ts',
            'src/optimizer.test.ts',
            'src/train.label-smoothing.test.ts',
            'src/kernels/relaxed-simd.test.ts',
            'src/kernels/gemm.test.ts',
          ],
          env: { FMNIST_WASM_SIMD: 'relaxed-simd' },
          execArgv: ['--experimental-wasm-relaxed-simd'],
        },
      },
    ],
  },
});
