// Single-precision GEMM with arbitrary strides on WebAssembly SIMD (f32x4).
//
//   C[i, j] (= | +=) sum_k A(i, k) * B(k, j) (+ bias)
//   A(i, k) = A[i * sAi + k * sAk]     (row-major A: sAi = lda, sAk = 1; transposed A: sAi = 1, sAk = lda)
//   B(k, j) = B[k * sBk + j * sBn]     (row-major B: sBk = ldb, sBn = 1; transposed B: sBk = 1, sBn = ldb)
//   C is row-major with leading dimension ldc.
//
// Pointers are byte addresses into linear memory; strides and sizes count f32 elements.
//
// BLIS-style blocking: B is packed per (KC x NCB) block into strips of NR = 8 columns ([k][8]), A per (MC x KC) block
// into tiles of MR = 4 rows ([k][4]); a 4x8 micro-kernel keeps its 8 f32x4 accumulators in registers (V8 has 15 usable
// xmm registers; a larger tile or an unrolled k-loop spills and was measured slower).

import { allocF32 } from './memory';
import { flushSubnormals } from './flush';
import { madd } from './madd';

/** C = AB. */
export const GEMM_SET: i32 = 0;
/** C += AB. */
export const GEMM_ADD: i32 = 1;
/** C = AB + bias[j] (a bias per column). */
export const GEMM_COL_BIAS: i32 = 2;
/** C = AB + bias[i] (a bias per row). */
export const GEMM_ROW_BIAS: i32 = 3;

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const NCB: i32 = 128;
const MC: i32 = 128;

let packedB: usize = 0;
let packedA: usize = 0;
let edgeTile: usize = 0;

/** Allocates the packing buffers (call once before the first GEMM, so linear memory does not grow later). */
export function initGemm(): void {
  if (packedB == 0) {
    packedB = allocF32(KC * NCB);
    packedA = allocF32(KC * MC);
    edgeTile = allocF32(MR * NR);
  }
}

// Packs B(k0 : k0 + kc, j0 : j0 + nc) into strips [strip][k][NR], its columns as lanes.
function packB(B: usize, sBk: i32, sBn: i32, k0: i32, kc: i32, j0: i32, nc: i32, N: i32): void {
  packBlock(packedB, B, sBn, sBk, j0, nc, N, k0, kc, NR);
}

// Packs A(i0 : i0 + mc, k0 : k0 + kc) into tiles [tile][k][MR], its rows as lanes.
function packA(A: usize, sAi: i32, sAk: i32, i0: i32, mc: i32, k0: i32, kc: i32, M: i32): void {
  packBlock(packedA, A, sAi, sAk, i0, mc, M, k0, kc, MR);
}

// Packs `lc` lanes from lane l0 of X (lane l at step k is X[l * sLane + k * sK]) over steps k0 .. k0 + kc into panels
// of W lanes laid out [panel][k][W], zero-padding the lanes at and beyond L. Inlined with a constant W (MR or NR), so
// the tests of W fold away.
// @ts-ignore: decorator
@inline
function packBlock(dst: usize, X: usize, sLane: i32, sK: i32, l0: i32, lc: i32, L: i32, k0: i32, kc: i32, W: i32): void {
  const panels = (lc + W - 1) / W;
  for (let q = 0; q < panels; q++) {
    const l = l0 + q * W;
    packPanel(dst + <usize>(q * kc * W * 4), X + <usize>((l * sLane + k0 * sK) * 4), sLane, sK, kc, min(W, L - l), W);
  }
}

// One panel: dst[k][W] = src[lane * sLane + k * sK] for lane < lanes, zero for the other lanes.
// @ts-ignore: decorator
@inline
function packPanel(dst: usize, src: usize, sLane: i32, sK: i32, kc: i32, lanes: i32, W: i32): void {
  const pitch = <usize>(W * 4); // bytes per packed step
  if (lanes == W && sLane == 1) {
    // W contiguous lanes per step
    const step = <usize>(sK * 4);
    for (let k = 0; k < kc; k++) {
      const d = dst + <usize>k * pitch;
      v128.store(d, v128.load(src));
      if (W == 8) v128.store(d, v128.load(src, 16), 16);
      src += step;
    }
  } else if (lanes == W && sK == 1 && (kc & 3) == 0) {
    // each lane contiguous in k: 4x4 register transposes, four lanes at a time
    const stepLane = <usize>(sLane * 4);
    for (let h = 0; h < W; h += 4) {
      const s0 = src + <usize>h * stepLane;
      const s1 = s0 + stepLane;
      const s2 = s1 + stepLane;
      const s3 = s2 + stepLane;
      for (let k = 0; k < kc; k += 4) {
        const off = <usize>(k * 4);
        const r0 = v128.load(s0 + off);
        const r1 = v128.load(s1 + off);
        const r2 = v128.load(s2 + off);
        const r3 = v128.load(s3 + off);
        const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
        const t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
        const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
        const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
        const d = dst + <usize>k * pitch + <usize>(h * 4);
        v128.store(d, v128.shuffle<i64>(t0, t1, 0, 2));
        v128.store(d + pitch, v128.shuffle<i64>(t0, t1, 1, 3));
        v128.store(d + 2 * pitch, v128.shuffle<i64>(t2, t3, 0, 2));
        v128.store(d + 3 * pitch, v128.shuffle<i64>(t2, t3, 1, 3));
      }
    }
  } else {
    const step = <usize>(sK * 4);
    for (let lane = 0; lane < W; lane++) {
      const d = dst + <usize>(lane * 4);
      if (lane < lanes) {
        let s = src + <usize>(lane * sLane * 4);
        for (let k = 0; k < kc; k++) {
          store<f32>(d + <usize>k * pitch, load<f32>(s));
          s += step;
        }
      } else {
        for (let k = 0; k < kc; k++) store<f32>(d + <usize>k * pitch, 0);
      }
    }
  }
}

// 4x8 micro-kernel: C(4x8 at c, row pitch ldcB bytes) = init + ap[k][4] * bp[k][8] summed over k.
// init: GEMM_SET zero, GEMM_ADD load C, GEMM_COL_BIAS bias = &bias[j0], GEMM_ROW_BIAS bias = &bias[i0].
// @ts-ignore: decorator
@inline
function kernel4x8(kc: i32, ap: usize, bp: usize, c: usize, ldcB: usize, init: i32, bias: usize): void {
  // Row r of the tile accumulates in (cr0, cr1): columns 0-3 and 4-7.
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  if (init == GEMM_ADD) {
    c00 = v128.load(c);
    c01 = v128.load(c, 16);
    c10 = v128.load(c + ldcB);
    c11 = v128.load(c + ldcB, 16);
    c20 = v128.load(c + 2 * ldcB);
    c21 = v128.load(c + 2 * ldcB, 16);
    c30 = v128.load(c + 3 * ldcB);
    c31 = v128.load(c + 3 * ldcB, 16);
  } else if (init == GEMM_ROW_BIAS) {
    c00 = c01 = v128.load32_splat(bias);
    c10 = c11 = v128.load32_splat(bias, 4);
    c20 = c21 = v128.load32_splat(bias, 8);
    c30 = c31 = v128.load32_splat(bias, 12);
  } else {
    // every row starts from the column bias, or from zero
    const colBias = init == GEMM_COL_BIAS;
    c00 = c10 = c20 = c30 = colBias ? v128.load(bias) : f32x4.splat(0);
    c01 = c11 = c21 = c31 = colBias ? v128.load(bias, 16) : f32x4.splat(0);
  }
  let a = ap;
  let b = bp;
  const bEnd = bp + <usize>(kc * 32);
  while (b < bEnd) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
    a += 16;
    b += 32;
  }
  // A sum of tiny products can underflow: no subnormal leaves the GEMM (see ops.ts, "subnormals").
  v128.store(c, flushSubnormals(c00));
  v128.store(c, flushSubnormals(c01), 16);
  v128.store(c + ldcB, flushSubnormals(c10));
  v128.store(c + ldcB, flushSubnormals(c11), 16);
  v128.store(c + 2 * ldcB, flushSubnormals(c20));
  v128.store(c + 2 * ldcB, flushSubnormals(c21), 16);
  v128.store(c + 3 * ldcB, flushSubnormals(c30));
  v128.store(c + 3 * ldcB, flushSubnormals(c31), 16);
}

/**
 * C = A(M x K) B(K x N) with the strides described at the top of this file.
 * mode: GEMM_SET, GEMM_ADD, GEMM_COL_BIAS or GEMM_ROW_BIAS (bias ignored unless a bias mode).
 */
export function gemm(
  M: i32,
  N: i32,
  K: i32,
  A: usize,
  sAi: i32,
  sAk: i32,
  B: usize,
  sBk: i32,
  sBn: i32,
  C: usize,
  ldc: i32,
  mode: i32,
  bias: usize,
): void {
  const ldcB = <usize>(ldc * 4);
  // an A that fits one (MC x KC) block is packed once for all column blocks
  const packAOnce = M <= MC && K <= KC;
  if (packAOnce) packA(A, sAi, sAk, 0, M, 0, K, M);
  for (let j0 = 0; j0 < N; j0 += NCB) {
    const nc = min(NCB, N - j0);
    const strips = (nc + NR - 1) / NR;
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      packB(B, sBk, sBn, k0, kc, j0, nc, N);
      const init = k0 > 0 ? GEMM_ADD : mode;
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        if (!packAOnce) packA(A, sAi, sAk, i0, mc, k0, kc, M);
        const tiles = (mc + MR - 1) / MR;
        for (let s = 0; s < strips; s++) {
          const j = j0 + s * NR;
          const bp = packedB + <usize>(s * kc * NR * 4);
          const fullN = j + NR <= N;
          for (let t = 0; t < tiles; t++) {
            const i = i0 + t * MR;
            const ap = packedA + <usize>(t * kc * MR * 4);
            if (fullN && i + MR <= M) {
              const biasPtr: usize = init == GEMM_COL_BIAS ? bias + <usize>(j * 4) : init == GEMM_ROW_BIAS ? bias + <usize>(i * 4) : 0;
              kernel4x8(kc, ap, bp, C + <usize>(i * ldc + j) * 4, ldcB, init, biasPtr);
            } else {
              edgeTile4x8(kc, ap, bp, C, ldc, i, j, min(MR, M - i), min(NR, N - j), init, bias);
            }
          }
        }
      }
    }
  }
}

// A partial 4x8 tile (at the bottom or right edge of C) through a scratch tile. Inlined: out of line it measured 3 %
// slower on a GEMM with an edge strip in every block (N = 49 patches).
// @ts-ignore: decorator
@inline
function edgeTile4x8(kc: i32, ap: usize, bp: usize, C: usize, ldc: i32, i: i32, j: i32, rows: i32, cols: i32, init: i32, bias: usize): void {
  for (let r = 0; r < MR; r++) {
    for (let n = 0; n < NR; n++) {
      let v: f32 = 0;
      if (r < rows && n < cols) {
        if (init == GEMM_ADD) v = load<f32>(C + <usize>(((i + r) * ldc + j + n) * 4));
        else if (init == GEMM_COL_BIAS) v = load<f32>(bias + <usize>((j + n) * 4));
        else if (init == GEMM_ROW_BIAS) v = load<f32>(bias + <usize>((i + r) * 4));
      }
      store<f32>(edgeTile + <usize>((r * NR + n) * 4), v);
    }
  }
  kernel4x8(kc, ap, bp, edgeTile, <usize>(NR * 4), GEMM_ADD, 0);
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < cols; n++) {
      store<f32>(C + <usize>(((i + r) * ldc + j + n) * 4), load<f32>(edgeTile + <usize>((r * NR + n) * 4)));
    }
  }
}
