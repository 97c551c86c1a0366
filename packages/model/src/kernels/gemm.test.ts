import { describe, expect, it } from 'vitest';
// The GEMM (assembly/gemm.ts) and the GELU (assembly/ops.ts) against float64 references, on the build this process
// picks (both builds: the `relaxed-simd` vitest project runs this file again). Shapes cross every blocking boundary of
// the GEMM: rows not a multiple of the 4-row tile and more than one 128-row block, columns not a multiple of the
// 8-column strip and more than one 128-column block, and depths over the 256-deep block, in all four modes and all
// four layouts (A and B each row-major or transposed), as the Mixer's forward and backward passes call it.
import { KERNEL_IMPORTS, kernelsBuild, kernelsModuleBytes } from './wasm';

interface Exports {
  memory: WebAssembly.Memory;
  allocF32(n: number): number;
  initGemm(): void;
  gemm(...args: number[]): void;
  geluForward(z: number, g: number, n: number): void;
}

const MODES = { set: 0, add: 1, colBias: 2, rowBias: 3 } as const;

async function kernels(): Promise<Exports> {
  const { instance } = (await WebAssembly.instantiate(kernelsModuleBytes('mixer', kernelsBuild()), KERNEL_IMPORTS)) as unknown as {
    instance: { exports: Exports };
  };
  return instance.exports;
}

function random(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
}

describe('gemm', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [4, 8, 16],
    [6, 8, 16],
    [5, 7, 3],
    [13, 9, 300],
    [121, 130, 257],
    [250, 17, 64],
    [16, 200, 49],
  ];
  for (const [M, N, K] of shapes) {
    for (const [aT, bT] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`M ${M}, N ${N}, K ${K}, A${aT ? 'ᵀ' : ''} B${bT ? 'ᵀ' : ''}: every mode within float32 rounding of float64`, async () => {
        const k = await kernels();
        const rand = random(M * 7919 + N * 31 + K + (aT ? 1 : 0) + (bT ? 2 : 0));
        const a = Float32Array.from({ length: M * K }, rand);
        const b = Float32Array.from({ length: K * N }, rand);
        const c0 = Float32Array.from({ length: M * N }, rand);
        const bias = Float32Array.from({ length: Math.max(M, N) }, rand);
        // A(i, k) = a[i * sAi + k * sAk]; stored transposed, A is [K][M]
        const [sAi, sAk] = aT ? [1, M] : [K, 1];
        const [sBk, sBn] = bT ? [1, K] : [N, 1];
        const pa = k.allocF32(M * K);
        const pb = k.allocF32(K * N);
        const pc = k.allocF32(M * N);
        const pbias = k.allocF32(bias.length);
        k.initGemm();
        const view = (p: number, n: number) => new Float32Array(k.memory.buffer, p, n);
        view(pa, M * K).set(a);
        view(pb, K * N).set(b);
        view(pbias, bias.length).set(bias);
        for (const [name, mode] of Object.entries(MODES)) {
          view(pc, M * N).set(c0);
          k.gemm(M, N, K, pa, sAi, sAk, pb, sBk, sBn, pc, N, mode, pbias);
          const got = view(pc, M * N);
          let worst = 0;
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < N; j++) {
              let sum = mode === MODES.add ? c0[i * N + j]! : mode === MODES.colBias ? bias[j]! : mode === MODES.rowBias ? bias[i]! : 0;
              let magnitude = Math.abs(sum);
              for (let q = 0; q < K; q++) {
                const product = a[i * sAi + q * sAk]! * b[q * sBk + j * sBn]!;
                sum += product;
                magnitude += Math.abs(product);
              }
              worst = Math.max(worst, Math.abs(got[i * N + j]! - sum) / Math.max(magnitude, 1e-30));
            }
          }
          // float32 summation of K products: error ≤ ~K ε Σ|terms|; far below it in practice
          expect(worst, `mode ${name}`).toBeLessThan(4e-6);
        }
      });
    }
  }

  it('writes C only inside M × N (the rows and columns around it keep their values)', async () => {
    const k = await kernels();
    const [M, N, K, ldc] = [125, 13, 20, 16];
    const rand = random(3);
    const pa = k.allocF32(M * K);
    const pb = k.allocF32(K * N);
    const pc = k.allocF32((M + 1) * ldc);
    k.initGemm();
    new Float32Array(k.memory.buffer, pa, M * K).set(Float32Array.from({ length: M * K }, rand));
    new Float32Array(k.memory.buffer, pb, K * N).set(Float32Array.from({ length: K * N }, rand));
    const c = new Float32Array(k.memory.buffer, pc, (M + 1) * ldc);
    c.fill(42);
    k.gemm(M, N, K, pa, K, 1, pb, N, 1, pc, ldc, MODES.set, 0);
    for (let i = 0; i <= M; i++) {
      for (let j = 0; j < ldc; j++) {
        if (i === M || j >= N) expect(c[i * ldc + j], `C[${i}][${j}]`).toBe(42);
        else expect(c[i * ldc + j]).not.toBe(42);
      }
    }
  });
});

describe('geluForward', () => {
  it('gelu(z) = z Φ(z) and gelu′(z) = Φ(z) + z φ(z) within 3e-7 of float64, for any length (vector and scalar tail)', async () => {
    const k = await kernels();
    // erf by its Taylor series (|x| ≤ 3) or continued fraction (beyond), in float64
    const erf = (x: number): number => {
      const ax = Math.abs(x);
      if (ax > 3) {
        let f = 0;
        for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
        const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
        return Math.sign(x) * (1 - erfc);
      }
      let term = x;
      let sum = x;
      for (let n = 1; n < 200; n++) {
        term *= (-x * x) / n;
        sum += term / (2 * n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    const n = 4003;
    const z = Float32Array.from({ length: n }, (_, i) => -10 + (20 * i) / (n - 1));
    const pz = k.allocF32(n);
    const pg = k.allocF32(n);
    new Float32Array(k.memory.buffer, pz, n).set(z);
    k.geluForward(pz, pg, n);
    const d = new Float32Array(k.memory.buffer, pz, n);
    const g = new Float32Array(k.memory.buffer, pg, n);
    for (let i = 0; i < n; i++) {
      const x = z[i]!;
      const phi = 0.5 * (1 + erf(x / Math.SQRT2));
      const pdf = Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
      expect(Math.abs(g[i]! - x * phi), `gelu(${x})`).toBeLessThan(3e-7 * Math.max(1, Math.abs(x)));
      expect(Math.abs(d[i]! - (phi + x * pdf)), `gelu'(${x})`).toBeLessThan(3e-7 * Math.max(1, Math.abs(x)));
    }
  });

  it('keeps NaN as NaN; gelu(0) = 0 with derivative 1/2', async () => {
    const k = await kernels();
    const z = Float32Array.of(Number.NaN, 0, -0, 1, Number.NaN);
    const pz = k.allocF32(z.length);
    const pg = k.allocF32(z.length);
    new Float32Array(k.memory.buffer, pz, z.length).set(z);
    k.geluForward(pz, pg, z.length);
    const g = [...new Float32Array(k.memory.buffer, pg, z.length)];
    const d = [...new Float32Array(k.memory.buffer, pz, z.length)];
    for (const i of [0, 4]) {
      expect(g[i]).toBeNaN();
      expect(d[i]).toBeNaN();
    }
    expect([Math.abs(g[1]!), d[1], Math.abs(g[2]!), d[2]]).toEqual([0, 0.5, 0, 0.5]);
  });
});
