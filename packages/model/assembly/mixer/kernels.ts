// MLP-Mixer training kernels: WebAssembly SIMD (f32x4), AssemblyScript 0.28.
// Generalised from the one-block patch-MLP prototype (/tmp/proto): same GEMM and GELU, plus
// LayerNorm, ReLU, residual add, patchify, patch-mean and bias-reduction kernels.
//
// Conventions: every pointer is a BYTE address into linear memory; every size/stride is in f32 ELEMENTS.
// Elementwise kernels accept any n (SIMD body + scalar tail) unless stated otherwise.
//
// Build (see build.sh):
//   asc assembly/kernels.ts --enable simd -O3 --runtime stub --noAssert --uncheckedBehavior always -o build/kernels.wasm

// ---------------------------------------------------------------- memory
export function alloc(bytes: usize): usize {
  // 64-byte aligned, never freed (the JS side allocates everything once, up front)
  const p = heap.alloc(bytes + 64);
  return (p + 63) & ~(<usize>63);
}

@inline function fmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

export function hasRelaxed(): i32 { return ASC_FEATURE_RELAXED_SIMD ? 1 : 0; }

// Allocates every internal scratch buffer. Call once BEFORE the JS side creates typed-array views,
// so that linear memory never grows (which would detach those views) later.
export function init(): void {
  ensureBuffers();
  if (scratch16 == 0) scratch16 = alloc(64);
}

let scratch16: usize = 0;

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// ---------------------------------------------------------------- GEMM
// C[i, j] (=|+=) sum_k A(i,k) * B(k,j) (+ bias)
//   A(i,k) = A[i*sAi + k*sAk]        (NN: sAi=lda,sAk=1 ; TN: sAi=1,sAk=lda)
//   B(k,j) = B[k*sBk + j*sBn]        (NN: sBk=ldb,sBn=1 ; NT: sBk=1,sBn=ldb)
//   C row-major with leading dim ldc.
// mode: 0 = C = AB, 1 = C += AB, 2 = C = AB + bias[j] (column bias), 3 = C = AB + bias[i] (row bias)
// BLIS-style: B packed per (KC x NCB) block into strips of 8 columns, A packed per (MC x KC) block into
// 4-row tiles [k][4]; micro-kernel 4x8 (8 f32x4 accumulators -> no spills in V8's 15 usable xmm regs).

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const NCB: i32 = 128;
const MC: i32 = 128;
// k-loop unrolled by 2? (V8 hoists all loads of the unrolled body -> xmm spills; measured slower)
const UNROLL2: bool = false;

let packBuf: usize = 0;
let packA: usize = 0;
let tileBuf: usize = 0;

function ensureBuffers(): void {
  if (packBuf == 0) {
    packBuf = alloc(<usize>(KC * NCB * 4));
    packA = alloc(<usize>(KC * MC * 4));
    tileBuf = alloc(<usize>(MR * NR * 4));
  }
}

// pack B(k0:k0+kc, j0:j0+nc) -> Bp[strip][k][8], zero padded columns
function packB(B: usize, sBk: i32, sBn: i32, k0: i32, kc: i32, j0: i32, nc: i32, N: i32): void {
  const nstrips = (nc + NR - 1) / NR;
  for (let s = 0; s < nstrips; s++) {
    const js = j0 + s * NR;
    const dst = packBuf + <usize>(s * kc * NR * 4);
    if (sBn == 1 && js + NR <= N) {
      let src = B + <usize>((k0 * sBk + js) * 4);
      const step = <usize>(sBk * 4);
      for (let k = 0; k < kc; k++) {
        const d = dst + <usize>(k * 32);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        src += step;
      }
    } else if (sBk == 1 && js + NR <= N && (kc & 3) == 0) {
      // transposed source: 8 rows (one per output column) contiguous in k -> 4x4 transposes
      const stepN = <usize>(sBn * 4);
      for (let h = 0; h < 2; h++) {
        const s0 = B + <usize>((k0 + (js + h * 4) * sBn) * 4);
        const s1 = s0 + stepN, s2 = s1 + stepN, s3 = s2 + stepN;
        for (let k = 0; k < kc; k += 4) {
          const off = <usize>(k * 4);
          const r0 = v128.load(s0 + off), r1 = v128.load(s1 + off), r2 = v128.load(s2 + off), r3 = v128.load(s3 + off);
          const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
          const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
          const d = dst + <usize>(k * 32 + h * 16);
          v128.store(d, v128.shuffle<i64>(t0, t1, 0, 2));
          v128.store(d + 32, v128.shuffle<i64>(t0, t1, 1, 3));
          v128.store(d + 64, v128.shuffle<i64>(t2, t3, 0, 2));
          v128.store(d + 96, v128.shuffle<i64>(t2, t3, 1, 3));
        }
      }
    } else {
      for (let n = 0; n < NR; n++) {
        const j = js + n;
        if (j < N) {
          let src = B + <usize>((k0 * sBk + j * sBn) * 4);
          const step = <usize>(sBk * 4);
          for (let k = 0; k < kc; k++) {
            store<f32>(dst + <usize>((k * NR + n) * 4), load<f32>(src));
            src += step;
          }
        } else {
          for (let k = 0; k < kc; k++) store<f32>(dst + <usize>((k * NR + n) * 4), 0);
        }
      }
    }
  }
}

// pack A(i0:i0+mc, k0:k0+kc) -> Ap[tile][k][4], zero padded rows
function packAblk(A: usize, sAi: i32, sAk: i32, i0: i32, mc: i32, k0: i32, kc: i32, M: i32): void {
  const ntiles = (mc + MR - 1) / MR;
  for (let t = 0; t < ntiles; t++) {
    const is = i0 + t * MR;
    const dst = packA + <usize>(t * kc * MR * 4);
    if (sAi == 1 && is + MR <= M) {
      let src = A + <usize>((is + k0 * sAk) * 4);
      const step = <usize>(sAk * 4);
      for (let k = 0; k < kc; k++) { v128.store(dst + <usize>(k * 16), v128.load(src)); src += step; }
    } else if (sAk == 1 && is + MR <= M && (kc & 3) == 0) {
      const s0 = A + <usize>((is * sAi + k0) * 4), stepI = <usize>(sAi * 4);
      const s1 = s0 + stepI, s2 = s1 + stepI, s3 = s2 + stepI;
      for (let k = 0; k < kc; k += 4) {
        const off = <usize>(k * 4);
        const r0 = v128.load(s0 + off), r1 = v128.load(s1 + off), r2 = v128.load(s2 + off), r3 = v128.load(s3 + off);
        const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
        const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
        const d = dst + <usize>(k * 16);
        v128.store(d, v128.shuffle<i64>(t0, t1, 0, 2));
        v128.store(d + 16, v128.shuffle<i64>(t0, t1, 1, 3));
        v128.store(d + 32, v128.shuffle<i64>(t2, t3, 0, 2));
        v128.store(d + 48, v128.shuffle<i64>(t2, t3, 1, 3));
      }
    } else {
      for (let r = 0; r < MR; r++) {
        const i = is + r;
        if (i < M) {
          let src = A + <usize>((i * sAi + k0 * sAk) * 4);
          const step = <usize>(sAk * 4);
          for (let k = 0; k < kc; k++) { store<f32>(dst + <usize>((k * MR + r) * 4), load<f32>(src)); src += step; }
        } else {
          for (let k = 0; k < kc; k++) store<f32>(dst + <usize>((k * MR + r) * 4), 0);
        }
      }
    }
  }
}

// 4x8 micro kernel. ap: packed A tile [k][4]; bp: packed B strip [k][8]; c: &C(i0, j0), ldcB in bytes.
// init: 0 zero, 1 load C, 2 col bias (bias = &bias[j0]), 3 row bias (bias = &bias[i0])
// @ts-ignore
@inline
function kern4x8(kc: i32, ap: usize, bp: usize, c: usize, ldcB: usize, init: i32, bias: usize): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  if (init == 1) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldcB); c11 = v128.load(c + ldcB, 16);
    c20 = v128.load(c + 2 * ldcB); c21 = v128.load(c + 2 * ldcB, 16);
    c30 = v128.load(c + 3 * ldcB); c31 = v128.load(c + 3 * ldcB, 16);
  } else if (init == 2) {
    const b0 = v128.load(bias), b1 = v128.load(bias, 16);
    c00 = b0; c01 = b1; c10 = b0; c11 = b1; c20 = b0; c21 = b1; c30 = b0; c31 = b1;
  } else if (init == 3) {
    c00 = v128.load32_splat(bias); c01 = c00;
    c10 = v128.load32_splat(bias, 4); c11 = c10;
    c20 = v128.load32_splat(bias, 8); c21 = c20;
    c30 = v128.load32_splat(bias, 12); c31 = c30;
  } else {
    const z = f32x4.splat(0);
    c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z; c30 = z; c31 = z;
  }
  let a = ap, b = bp;
  const bend = bp + <usize>(kc * 32);
  const bend2 = UNROLL2 ? bp + <usize>((kc & ~1) * 32) : bp;
  while (b < bend2) {
    let b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = fmadd(av, b0, c00); c01 = fmadd(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = fmadd(av, b0, c10); c11 = fmadd(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = fmadd(av, b0, c20); c21 = fmadd(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = fmadd(av, b0, c30); c31 = fmadd(av, b1, c31);
    b0 = v128.load(b, 32); b1 = v128.load(b, 48);
    av = v128.load32_splat(a, 16);
    c00 = fmadd(av, b0, c00); c01 = fmadd(av, b1, c01);
    av = v128.load32_splat(a, 20);
    c10 = fmadd(av, b0, c10); c11 = fmadd(av, b1, c11);
    av = v128.load32_splat(a, 24);
    c20 = fmadd(av, b0, c20); c21 = fmadd(av, b1, c21);
    av = v128.load32_splat(a, 28);
    c30 = fmadd(av, b0, c30); c31 = fmadd(av, b1, c31);
    a += 32; b += 64;
  }
  while (b < bend) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = fmadd(av, b0, c00); c01 = fmadd(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = fmadd(av, b0, c10); c11 = fmadd(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = fmadd(av, b0, c20); c21 = fmadd(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = fmadd(av, b0, c30); c31 = fmadd(av, b1, c31);
    a += 16; b += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldcB, c10); v128.store(c + ldcB, c11, 16);
  v128.store(c + 2 * ldcB, c20); v128.store(c + 2 * ldcB, c21, 16);
  v128.store(c + 3 * ldcB, c30); v128.store(c + 3 * ldcB, c31, 16);
}

export function gemm(M: i32, N: i32, K: i32,
  A: usize, sAi: i32, sAk: i32,
  B: usize, sBk: i32, sBn: i32,
  C: usize, ldc: i32, mode: i32, bias: usize): void {
  gemmImpl(M, N, K, A, sAi, sAk, B, sBk, sBn, C, ldc, mode, bias);
}

function gemmImpl(M: i32, N: i32, K: i32,
  A: usize, sAi: i32, sAk: i32,
  B: usize, sBk: i32, sBn: i32,
  C: usize, ldc: i32, mode: i32, bias: usize): void {
  ensureBuffers();
  const ldcB = <usize>(ldc * 4);
  // if A fits one (MC x KC) block, pack it once for all column blocks
  const aOnce = M <= MC && K <= KC;
  if (aOnce) packAblk(A, sAi, sAk, 0, M, 0, K, M);
  for (let j0 = 0; j0 < N; j0 += NCB) {
    const nc = min(NCB, N - j0);
    const nstrips = (nc + NR - 1) / NR;
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      packB(B, sBk, sBn, k0, kc, j0, nc, N);
      const init = k0 > 0 ? 1 : mode;
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        if (!aOnce) packAblk(A, sAi, sAk, i0, mc, k0, kc, M);
        const ntiles = (mc + MR - 1) / MR;
        for (let s = 0; s < nstrips; s++) {
          const j = j0 + s * NR;
          const bp = packBuf + <usize>(s * kc * NR * 4);
          const fullN = j + NR <= N;
          for (let t = 0; t < ntiles; t++) {
            const i = i0 + t * MR;
            const ap = packA + <usize>(t * kc * MR * 4);
            if (fullN && i + MR <= M) {
              const biasPtr: usize = init == 2 ? bias + <usize>(j * 4) : (init == 3 ? bias + <usize>(i * 4) : 0);
              const cp = C + <usize>(i * ldc + j) * 4;
              kern4x8(kc, ap, bp, cp, ldcB, init, biasPtr);
            } else {
              // edge tile through a 4x8 scratch
              const mv = min(MR, M - i), nv = min(NR, N - j);
              const tb = tileBuf;
              for (let r = 0; r < MR; r++) for (let n = 0; n < NR; n++) {
                let v: f32 = 0;
                if (r < mv && n < nv) {
                  if (init == 1) v = load<f32>(C + <usize>(((i + r) * ldc + j + n) * 4));
                  else if (init == 2) v = load<f32>(bias + <usize>((j + n) * 4));
                  else if (init == 3) v = load<f32>(bias + <usize>((i + r) * 4));
                }
                store<f32>(tb + <usize>((r * NR + n) * 4), v);
              }
              kern4x8(kc, ap, bp, tb, <usize>(NR * 4), 1, 0);
              for (let r = 0; r < mv; r++) for (let n = 0; n < nv; n++)
                store<f32>(C + <usize>(((i + r) * ldc + j + n) * 4), load<f32>(tb + <usize>((r * NR + n) * 4)));
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- GELU (exact erf form)
// Phi(z) = 0.5*erfc(-z/sqrt2) via Abramowitz-Stegun 7.1.26 (|err(erf)| < 1.5e-7)
// gelu(z) = z*Phi(z) ; gelu'(z) = Phi(z) + z*exp(-z^2/2)/sqrt(2pi)

// exp for x <= 0 (clamped at -87): Cephes-style
// @ts-ignore
@inline
function vexp_neg(x: v128): v128 {
  x = f32x4.max(x, f32x4.splat(-87.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500E-4);
  p = fmadd(p, r, f32x4.splat(1.3981999507E-3));
  p = fmadd(p, r, f32x4.splat(8.3334519073E-3));
  p = fmadd(p, r, f32x4.splat(4.1665795894E-2));
  p = fmadd(p, r, f32x4.splat(1.6666665459E-1));
  p = fmadd(p, r, f32x4.splat(5.0000001201E-1));
  const r2 = f32x4.mul(r, r);
  p = f32x4.add(fmadd(p, r2, r), f32x4.splat(1.0));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

// returns Phi in *phi, exp(-z^2/2) in *e
// @ts-ignore
@inline
function vphi(z: v128, eOut: usize): v128 {
  const a = f32x4.mul(f32x4.abs(z), f32x4.splat(0.7071067811865476));
  const t = f32x4.div(f32x4.splat(1.0), fmadd(a, f32x4.splat(0.3275911), f32x4.splat(1.0)));
  let p = f32x4.splat(1.061405429);
  p = fmadd(p, t, f32x4.splat(-1.453152027));
  p = fmadd(p, t, f32x4.splat(1.421413741));
  p = fmadd(p, t, f32x4.splat(-0.284496736));
  p = fmadd(p, t, f32x4.splat(0.254829592));
  p = f32x4.mul(p, t);
  const e = vexp_neg(f32x4.mul(f32x4.mul(z, z), f32x4.splat(-0.5)));
  v128.store(eOut, e);
  const q = f32x4.mul(f32x4.mul(p, e), f32x4.splat(0.5)); // 0.5*erfc(|z|/sqrt2)
  const pos = f32x4.ge(z, f32x4.splat(0));
  return v128.bitselect(f32x4.sub(f32x4.splat(1.0), q), q, pos);
}

// ---------------------------------------------------------------- activations
// kind: 1 = ReLU, 2 = GELU (exact erf form). ('none' never calls these: the engine aliases buffers.)
// act_fwd: G[i] = act(Z[i]) and Z[i] <- act'(Z[i]) IN PLACE (the pre-activation is only needed
// through its derivative in the backward pass).
export function act_fwd(kind: i32, Z: usize, G: usize, n: i32): void {
  const n4 = n & ~3;
  const zEnd4 = Z + <usize>(n4 * 4), zEnd = Z + <usize>(n * 4);
  if (kind == 2) {
    const c = f32x4.splat(0.3989422804014327);
    while (Z < zEnd4) {
      const z = v128.load(Z);
      const phi = vphi(z, scratch16);
      const e = v128.load(scratch16);
      v128.store(G, f32x4.mul(z, phi));
      v128.store(Z, fmadd(f32x4.mul(z, e), c, phi));
      Z += 16; G += 16;
    }
    while (Z < zEnd) { // scalar tail through one (zero-padded) vector lane
      const z = f32x4.splat(load<f32>(Z));
      const phi = vphi(z, scratch16);
      const e = v128.load(scratch16);
      store<f32>(G, f32x4.extract_lane(f32x4.mul(z, phi), 0));
      store<f32>(Z, f32x4.extract_lane(fmadd(f32x4.mul(z, e), c, phi), 0));
      Z += 4; G += 4;
    }
  } else {
    const zero = f32x4.splat(0), one = f32x4.splat(1);
    while (Z < zEnd4) {
      const z = v128.load(Z);
      const pos = f32x4.gt(z, zero);
      v128.store(G, f32x4.max(z, zero));
      v128.store(Z, v128.and(pos, one));
      Z += 16; G += 16;
    }
    while (Z < zEnd) {
      const z = load<f32>(Z);
      store<f32>(G, z > 0 ? z : 0);
      store<f32>(Z, z > 0 ? <f32>1 : <f32>0);
      Z += 4; G += 4;
    }
  }
}

// In place dG[r][c] *= D[r][c] (skipped when D == 0, i.e. identity activation), then
// rsum[r] = sum_c dG[r][c]  (bias gradient of a row-bias GEMM; skipped when rsum == 0).
export function mul_rowsum(dG: usize, D: usize, rows: i32, cols: i32, rsum: usize): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const g = dG + <usize>(r * cols) * 4;
    const d = D + <usize>(r * cols) * 4;
    let acc = f32x4.splat(0);
    let s: f32 = 0;
    if (D != 0) {
      for (let c = 0; c < c4; c += 4) {
        const off = <usize>(c * 4);
        const v = f32x4.mul(v128.load(g + off), v128.load(d + off));
        v128.store(g + off, v);
        acc = f32x4.add(acc, v);
      }
      for (let c = c4; c < cols; c++) {
        const off = <usize>(c * 4);
        const v = load<f32>(g + off) * load<f32>(d + off);
        store<f32>(g + off, v); s += v;
      }
    } else {
      for (let c = 0; c < c4; c += 4) acc = f32x4.add(acc, v128.load(g + <usize>(c * 4)));
      for (let c = c4; c < cols; c++) s += load<f32>(g + <usize>(c * 4));
    }
    if (rsum != 0) store<f32>(rsum + <usize>(r * 4), hsum(acc) + s);
  }
}

// In place dG[r][c] *= D[r][c] (skipped when D == 0), then csum[c] = sum_r dG[r][c]
// (bias gradient of a column-bias GEMM; skipped when csum == 0).
export function mul_colsum(dG: usize, D: usize, rows: i32, cols: i32, csum: usize): void {
  const c4 = cols & ~3;
  if (csum != 0) memory.fill(csum, 0, <usize>(cols * 4));
  for (let r = 0; r < rows; r++) {
    const g = dG + <usize>(r * cols) * 4;
    const d = D + <usize>(r * cols) * 4;
    for (let c = 0; c < c4; c += 4) {
      const off = <usize>(c * 4);
      let v = v128.load(g + off);
      if (D != 0) { v = f32x4.mul(v, v128.load(d + off)); v128.store(g + off, v); }
      if (csum != 0) v128.store(csum + off, f32x4.add(v128.load(csum + off), v));
    }
    for (let c = c4; c < cols; c++) {
      const off = <usize>(c * 4);
      let v = load<f32>(g + off);
      if (D != 0) { v *= load<f32>(d + off); store<f32>(g + off, v); }
      if (csum != 0) store<f32>(csum + off, load<f32>(csum + off) + v);
    }
  }
}

// column sum of X[rows][cols] into out[cols] (overwrites out)
export function col_sum(X: usize, rows: i32, cols: i32, out: usize): void {
  mul_colsum(X, 0, rows, cols, out);
}

// row sum of X[rows][cols] into out[rows] (overwrites out)
export function row_sum(X: usize, rows: i32, cols: i32, out: usize): void {
  mul_rowsum(X, 0, rows, cols, out);
}

// ---------------------------------------------------------------- layout helpers
// x: [Bn][imgW*imgW] row-major images -> xp: PATCH-MAJOR [P][Bn][ps*ps]
// (patch p = (pr, pc) row-major over the image, pixels row-major inside the patch)
export function patchify(x: usize, xp: usize, Bn: i32, ps: i32, imgW: i32): void {
  const g = imgW / ps, P = g * g, pp = ps * ps;
  for (let b = 0; b < Bn; b++) {
    const img = x + <usize>(b * imgW * imgW) * 4;
    for (let pr = 0; pr < g; pr++) for (let pc = 0; pc < g; pc++) {
      const p = pr * g + pc;
      let dst = xp + <usize>((p * Bn + b) * pp) * 4;
      for (let i = 0; i < ps; i++) {
        const src = img + <usize>((pr * ps + i) * imgW + pc * ps) * 4;
        memory.copy(dst, src, <usize>(ps * 4));
        dst += <usize>(ps * 4);
      }
    }
  }
}

// out[r] = scale * sum_p X[p][r]   (X: [P][R]); used for the mean over patches
export function patch_mean(X: usize, out: usize, P: i32, R: i32, scale: f32): void {
  const R4 = R & ~3;
  memory.fill(out, 0, <usize>(R * 4));
  for (let p = 0; p < P; p++) {
    const x = X + <usize>(p * R) * 4;
    for (let r = 0; r < R4; r += 4) {
      const off = <usize>(r * 4);
      v128.store(out + off, f32x4.add(v128.load(out + off), v128.load(x + off)));
    }
    for (let r = R4; r < R; r++) {
      const off = <usize>(r * 4);
      store<f32>(out + off, load<f32>(out + off) + load<f32>(x + off));
    }
  }
  const sc = f32x4.splat(scale);
  for (let r = 0; r < R4; r += 4) { const off = <usize>(r * 4); v128.store(out + off, f32x4.mul(v128.load(out + off), sc)); }
  for (let r = R4; r < R; r++) { const off = <usize>(r * 4); store<f32>(out + off, load<f32>(out + off) * scale); }
}

// Backward of patch_mean (optionally through an activation):
//   dZ[p][r] = scale * dG[r] * (D ? D[p][r] : 1)     for p < P, r < R
//   csum[c] = sum over all rows (p, b) of dZ[p][b*cols + c]   if csum != 0   (R = Bn*cols)
export function bcast_mul_colsum(dG: usize, D: usize, dZ: usize, P: i32, R: i32, cols: i32, scale: f32, csum: usize): void {
  const sc = f32x4.splat(scale);
  const R4 = R & ~3;
  for (let p = 0; p < P; p++) {
    const o = dZ + <usize>(p * R) * 4;
    const d = D + <usize>(p * R) * 4;
    if (D != 0) {
      for (let r = 0; r < R4; r += 4) {
        const off = <usize>(r * 4);
        v128.store(o + off, f32x4.mul(f32x4.mul(v128.load(dG + off), v128.load(d + off)), sc));
      }
      for (let r = R4; r < R; r++) { const off = <usize>(r * 4); store<f32>(o + off, load<f32>(dG + off) * load<f32>(d + off) * scale); }
    } else {
      for (let r = 0; r < R4; r += 4) { const off = <usize>(r * 4); v128.store(o + off, f32x4.mul(v128.load(dG + off), sc)); }
      for (let r = R4; r < R; r++) { const off = <usize>(r * 4); store<f32>(o + off, load<f32>(dG + off) * scale); }
    }
  }
  if (csum != 0) col_sum(dZ, P * (R / cols), cols, csum);
}

// dst[i] += src[i]  (residual add; also used to reduce per-worker gradients)
export function add_into(dst: usize, src: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const off = <usize>(i * 4);
    v128.store(dst + off, f32x4.add(v128.load(dst + off), v128.load(src + off)));
  }
  for (let i = n4; i < n; i++) { const off = <usize>(i * 4); store<f32>(dst + off, load<f32>(dst + off) + load<f32>(src + off)); }
}

export function zero(p: usize, n: i32): void { memory.fill(p, 0, <usize>(n * 4)); }

// ---------------------------------------------------------------- LayerNorm (over the last dim D)
// Y = (X - mean) * rstd * W + Bb, rstd = 1/sqrt(var + eps) (biased variance); saves mean[r], rstd[r].
export function ln_fwd(X: usize, Y: usize, W: usize, Bb: usize, mean: usize, rstd: usize, rows: i32, D: i32, eps: f32): void {
  const D4 = D & ~3;
  const invD: f32 = <f32>1.0 / <f32>D;
  for (let r = 0; r < rows; r++) {
    const x = X + <usize>(r * D) * 4, y = Y + <usize>(r * D) * 4;
    // two-pass mean / variance (numerically safer than E[x^2]-E[x]^2)
    let acc = f32x4.splat(0); let s: f32 = 0;
    for (let c = 0; c < D4; c += 4) acc = f32x4.add(acc, v128.load(x + <usize>(c * 4)));
    for (let c = D4; c < D; c++) s += load<f32>(x + <usize>(c * 4));
    const mu: f32 = (hsum(acc) + s) * invD;
    const vmu = f32x4.splat(mu);
    acc = f32x4.splat(0); s = 0;
    for (let c = 0; c < D4; c += 4) { const d = f32x4.sub(v128.load(x + <usize>(c * 4)), vmu); acc = fmadd(d, d, acc); }
    for (let c = D4; c < D; c++) { const d = load<f32>(x + <usize>(c * 4)) - mu; s += d * d; }
    const rs: f32 = <f32>1.0 / Mathf.sqrt((hsum(acc) + s) * invD + eps);
    store<f32>(mean + <usize>(r * 4), mu);
    store<f32>(rstd + <usize>(r * 4), rs);
    const vrs = f32x4.splat(rs);
    for (let c = 0; c < D4; c += 4) {
      const off = <usize>(c * 4);
      const xh = f32x4.mul(f32x4.sub(v128.load(x + off), vmu), vrs);
      v128.store(y + off, fmadd(xh, v128.load(W + off), v128.load(Bb + off)));
    }
    for (let c = D4; c < D; c++) {
      const off = <usize>(c * 4);
      store<f32>(y + off, (load<f32>(x + off) - mu) * rs * load<f32>(W + off) + load<f32>(Bb + off));
    }
  }
}

// LayerNorm backward. xhat = (X-mean)*rstd ; g = dY*W
//   dX = rstd * (g - mean_c(g) - xhat * mean_c(g*xhat))     (accum != 0: dX += ..., else dX = ...)
//   dW = sum_r dY*xhat ; dB = sum_r dY                        (overwritten)
// dX may alias neither X nor dY.
export function ln_bwd(X: usize, dY: usize, W: usize, mean: usize, rstd: usize, dX: usize,
  dW: usize, dB: usize, rows: i32, D: i32, accum: i32): void {
  const D4 = D & ~3;
  const invD: f32 = <f32>1.0 / <f32>D;
  memory.fill(dW, 0, <usize>(D * 4));
  memory.fill(dB, 0, <usize>(D * 4));
  for (let r = 0; r < rows; r++) {
    const x = X + <usize>(r * D) * 4, dy = dY + <usize>(r * D) * 4, dx = dX + <usize>(r * D) * 4;
    const mu = load<f32>(mean + <usize>(r * 4)), rs = load<f32>(rstd + <usize>(r * 4));
    const vmu = f32x4.splat(mu), vrs = f32x4.splat(rs);
    let a1 = f32x4.splat(0), a2 = f32x4.splat(0);
    let s1: f32 = 0, s2: f32 = 0;
    for (let c = 0; c < D4; c += 4) {
      const off = <usize>(c * 4);
      const xh = f32x4.mul(f32x4.sub(v128.load(x + off), vmu), vrs);
      const gy = v128.load(dy + off);
      const g = f32x4.mul(gy, v128.load(W + off));
      a1 = f32x4.add(a1, g);
      a2 = fmadd(g, xh, a2);
      v128.store(dW + off, fmadd(gy, xh, v128.load(dW + off)));
      v128.store(dB + off, f32x4.add(v128.load(dB + off), gy));
    }
    for (let c = D4; c < D; c++) {
      const off = <usize>(c * 4);
      const xh = (load<f32>(x + off) - mu) * rs;
      const gy = load<f32>(dy + off);
      const g = gy * load<f32>(W + off);
      s1 += g; s2 += g * xh;
      store<f32>(dW + off, load<f32>(dW + off) + gy * xh);
      store<f32>(dB + off, load<f32>(dB + off) + gy);
    }
    const m1: f32 = (hsum(a1) + s1) * invD, m2: f32 = (hsum(a2) + s2) * invD;
    const vm1 = f32x4.splat(m1), vm2 = f32x4.splat(m2);
    for (let c = 0; c < D4; c += 4) {
      const off = <usize>(c * 4);
      const xh = f32x4.mul(f32x4.sub(v128.load(x + off), vmu), vrs);
      const g = f32x4.mul(v128.load(dy + off), v128.load(W + off));
      let v = f32x4.mul(f32x4.sub(f32x4.sub(g, vm1), f32x4.mul(xh, vm2)), vrs);
      if (accum != 0) v = f32x4.add(v, v128.load(dx + off));
      v128.store(dx + off, v);
    }
    for (let c = D4; c < D; c++) {
      const off = <usize>(c * 4);
      const xh = (load<f32>(x + off) - mu) * rs;
      const g = load<f32>(dy + off) * load<f32>(W + off);
      let v = (g - m1 - xh * m2) * rs;
      if (accum != 0) v += load<f32>(dx + off);
      store<f32>(dx + off, v);
    }
  }
}

// ---------------------------------------------------------------- head (NC classes, small) and loss
// logits[b][n] = sum_c h[b][c] W[c][n] + bias[n]
export function head_fwd(h: usize, W: usize, bias: usize, out: usize, Bn: i32, Cd: i32, NC: i32): void {
  for (let b = 0; b < Bn; b++) {
    for (let n = 0; n < NC; n++) {
      let s: f32 = load<f32>(bias + <usize>(n * 4));
      for (let c = 0; c < Cd; c++) s += load<f32>(h + <usize>((b * Cd + c) * 4)) * load<f32>(W + <usize>((c * NC + n) * 4));
      store<f32>(out + <usize>((b * NC + n) * 4), s);
    }
  }
}

// softmax cross-entropy: labels int32[Bn]; writes dlogits = (softmax - onehot) * invB; returns the SUM of losses
export function softmax_xent(logits: usize, labels: usize, dlogits: usize, Bn: i32, NC: i32, invB: f32): f64 {
  let total: f64 = 0;
  for (let b = 0; b < Bn; b++) {
    const l = logits + <usize>(b * NC * 4);
    let mx: f32 = load<f32>(l);
    for (let n = 1; n < NC; n++) mx = max(mx, load<f32>(l + <usize>(n * 4)));
    let s: f64 = 0;
    for (let n = 0; n < NC; n++) s += Math.exp(<f64>(load<f32>(l + <usize>(n * 4)) - mx));
    const y = load<i32>(labels + <usize>(b * 4));
    total += Math.log(s) - <f64>(load<f32>(l + <usize>(y * 4)) - mx);
    const d = dlogits + <usize>(b * NC * 4);
    for (let n = 0; n < NC; n++) {
      let pr = <f32>(Math.exp(<f64>(load<f32>(l + <usize>(n * 4)) - mx)) / s);
      if (n == y) pr -= 1;
      store<f32>(d + <usize>(n * 4), pr * invB);
    }
  }
  return total;
}

// number of rows whose argmax(logits) == label
export function count_correct(logits: usize, labels: usize, Bn: i32, NC: i32): i32 {
  let ok = 0;
  for (let b = 0; b < Bn; b++) {
    const l = logits + <usize>(b * NC * 4);
    let best = 0; let bv = load<f32>(l);
    for (let n = 1; n < NC; n++) { const v = load<f32>(l + <usize>(n * 4)); if (v > bv) { bv = v; best = n; } }
    if (best == load<i32>(labels + <usize>(b * 4))) ok++;
  }
  return ok;
}

// head backward: dW[c][n] = sum_b h[b][c] dl[b][n]; db[n] = sum_b dl[b][n]; dh[b][c] = sum_n dl[b][n] W[c][n]
export function head_bwd(h: usize, W: usize, dl: usize, dW: usize, db: usize, dh: usize, Bn: i32, Cd: i32, NC: i32): void {
  for (let i = 0; i < Cd * NC; i++) store<f32>(dW + <usize>(i * 4), 0);
  for (let n = 0; n < NC; n++) store<f32>(db + <usize>(n * 4), 0);
  for (let b = 0; b < Bn; b++) {
    for (let n = 0; n < NC; n++) {
      const g = load<f32>(dl + <usize>((b * NC + n) * 4));
      store<f32>(db + <usize>(n * 4), load<f32>(db + <usize>(n * 4)) + g);
      for (let c = 0; c < Cd; c++) {
        const p = dW + <usize>((c * NC + n) * 4);
        store<f32>(p, load<f32>(p) + load<f32>(h + <usize>((b * Cd + c) * 4)) * g);
      }
    }
    for (let c = 0; c < Cd; c++) {
      let s: f32 = 0;
      for (let n = 0; n < NC; n++) s += load<f32>(dl + <usize>((b * NC + n) * 4)) * load<f32>(W + <usize>((c * NC + n) * 4));
      store<f32>(dh + <usize>((b * Cd + c) * 4), s);
    }
  }
}

// ---------------------------------------------------------------- Adam (PyTorch semantics)
// m = b1 m + (1-b1) g ; v = b2 v + (1-b2) g^2 ; p -= lr * (m/bc1) / (sqrt(v/bc2) + eps).  n multiple of 4.
export function adam(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, b1: f32, b2: f32, eps: f32, bc1: f32, bc2: f32): void {
  const vb1 = f32x4.splat(b1), vb2 = f32x4.splat(b2), o1 = f32x4.splat(1 - b1), o2 = f32x4.splat(1 - b2);
  const ibc1 = f32x4.splat(<f32>1.0 / bc1), ibc2 = f32x4.splat(<f32>1.0 / bc2), vlr = f32x4.splat(lr), veps = f32x4.splat(eps);
  for (let i = 0; i < n; i += 4) {
    const off = <usize>(i * 4);
    const gg = v128.load(g + off);
    const mm = f32x4.add(f32x4.mul(vb1, v128.load(m + off)), f32x4.mul(o1, gg));
    const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + off)), f32x4.mul(o2, f32x4.mul(gg, gg)));
    v128.store(m + off, mm); v128.store(v + off, vv);
    const upd = f32x4.div(f32x4.mul(mm, ibc1), f32x4.add(f32x4.sqrt(f32x4.mul(vv, ibc2)), veps));
    v128.store(p + off, f32x4.sub(v128.load(p + off), f32x4.mul(vlr, upd)));
  }
}
