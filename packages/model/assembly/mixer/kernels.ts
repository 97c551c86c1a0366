// The WebAssembly kernels of every model, the one-block patch-MLP (`seed`, `patch-mlp`) included: building blocks
// that src/kernels/mixer-model.ts sequences from JavaScript for any config (patch size, widths, blocks,
// GELU / ReLU / none, LayerNorm, residuals).
//
// The GEMM (../gemm.ts) and the GELU, GELU + patch mean, residual add, column sums, head, softmax cross-entropy, Adam
// and SGD (../ops.ts) are re-exported below. Here: ReLU, LayerNorm, patchify for any patch size, the patch mean, and bias
// reductions fused with an activation's derivative.
//
// (Until 0.2 the patch-MLP had its own fused whole-model module; measured within a few percent of this one per
// training step and per inference batch, it was removed: docs/experiments/kernels-one-module.md.)
//
// Pointers are byte addresses into linear memory; sizes and strides count f32 elements. Every kernel takes any size
// (a SIMD body and a scalar tail).

export { gemm, initGemm } from '../gemm';
export { allocF32 } from '../memory';
export {
  adam,
  addInto,
  colSum,
  correctCount,
  geluForward,
  geluMeanForward,
  headBackward,
  headForward,
  sgd,
  softmaxCrossEntropy,
} from '../ops';

import { flushSubnormal, flushSubnormals } from '../flush';
import { addInto, colSum } from '../ops';

// Pairwise horizontal sum (ops.ts adds the lanes left to right: see the top of this file for why both stay).
// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// ---------------------------------------------------------------- activations
// The forward pass keeps only the derivative of an activation (in place of its input); with no activation the engine
// aliases the buffers and calls nothing.

/** G[i] = relu(Z[i]) and, in place, Z[i] = relu'(Z[i]) (1 where Z[i] > 0, else 0). */
export function reluForward(Z: usize, G: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  const vectorEnd = Z + <usize>((n & ~3) * 4);
  const end = Z + <usize>(n * 4);
  while (Z < vectorEnd) {
    const z = v128.load(Z);
    v128.store(G, f32x4.max(z, zero));
    v128.store(Z, v128.and(f32x4.gt(z, zero), one));
    Z += 16;
    G += 16;
  }
  while (Z < end) {
    const z = load<f32>(Z);
    store<f32>(G, z > 0 ? z : 0);
    store<f32>(Z, z > 0 ? <f32>1 : <f32>0);
    Z += 4;
    G += 4;
  }
}

/**
 * In place dG[r][c] *= D[r][c] (skipped when D is 0: no activation), then rsum[r] = sum_c dG[r][c] (the bias gradient
 * of a row-bias GEMM; skipped when rsum is 0).
 */
export function mulRowSum(dG: usize, D: usize, rows: i32, cols: i32, rsum: usize): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const g = dG + <usize>(r * cols) * 4;
    const d = D + <usize>(r * cols) * 4;
    let acc = f32x4.splat(0);
    let s: f32 = 0;
    if (D != 0) {
      for (let c = 0; c < c4; c += 4) {
        const off = <usize>(c * 4);
        const v = flushSubnormals(f32x4.mul(v128.load(g + off), v128.load(d + off)));
        v128.store(g + off, v);
        acc = f32x4.add(acc, v);
      }
      for (let c = c4; c < cols; c++) {
        const off = <usize>(c * 4);
        const v = flushSubnormal(load<f32>(g + off) * load<f32>(d + off));
        store<f32>(g + off, v);
        s += v;
      }
    } else {
      for (let c = 0; c < c4; c += 4) acc = f32x4.add(acc, v128.load(g + <usize>(c * 4)));
      for (let c = c4; c < cols; c++) s += load<f32>(g + <usize>(c * 4));
    }
    if (rsum != 0) store<f32>(rsum + <usize>(r * 4), hsum(acc) + s);
  }
}

/**
 * In place dG[r][c] *= D[r][c] (skipped when D is 0), then csum[c] = sum_r dG[r][c] (the bias gradient of a column-bias
 * GEMM; skipped when csum is 0).
 */
export function mulColSum(dG: usize, D: usize, rows: i32, cols: i32, csum: usize): void {
  const c4 = cols & ~3;
  if (csum != 0) memory.fill(csum, 0, <usize>(cols * 4));
  for (let r = 0; r < rows; r++) {
    const g = dG + <usize>(r * cols) * 4;
    const d = D + <usize>(r * cols) * 4;
    for (let c = 0; c < c4; c += 4) {
      const off = <usize>(c * 4);
      let v = v128.load(g + off);
      if (D != 0) {
        v = flushSubnormals(f32x4.mul(v, v128.load(d + off)));
        v128.store(g + off, v);
      }
      if (csum != 0) v128.store(csum + off, f32x4.add(v128.load(csum + off), v));
    }
    for (let c = c4; c < cols; c++) {
      const off = <usize>(c * 4);
      let v = load<f32>(g + off);
      if (D != 0) {
        v = flushSubnormal(v * load<f32>(d + off));
        store<f32>(g + off, v);
      }
      if (csum != 0) store<f32>(csum + off, load<f32>(csum + off) + v);
    }
  }
}

// ---------------------------------------------------------------- layout

/**
 * Gathers patches: images x[n][imageWidth][imageWidth] -> xp[P][n][ps * ps], patch-major (the token-mixing GEMMs need
 * no transposes), patch p = (row, col) row-major over the image, pixels row-major inside a patch.
 */
export function patchify(x: usize, xp: usize, n: i32, ps: i32, imageWidth: i32): void {
  const grid = imageWidth / ps;
  const P = grid * grid;
  const pixels = ps * ps;
  for (let b = 0; b < n; b++) {
    const image = x + <usize>(b * imageWidth * imageWidth) * 4;
    for (let p = 0; p < P; p++) {
      const row = p / grid;
      const col = p % grid;
      let dst = xp + <usize>((p * n + b) * pixels) * 4;
      for (let i = 0; i < ps; i++) {
        memory.copy(dst, image + <usize>((row * ps + i) * imageWidth + col * ps) * 4, <usize>(ps * 4));
        dst += <usize>(ps * 4);
      }
    }
  }
}

/** out[r] = scale * sum_p X[p][r] for X [P][R]: the mean over patches (scale 1 / P). */
export function patchMean(X: usize, out: usize, P: i32, R: i32, scale: f32): void {
  memory.fill(out, 0, <usize>(R * 4));
  for (let p = 0; p < P; p++) addInto(out, X + <usize>(p * R) * 4, R);
  scaleInto(out, out, R, scale);
}

// dst[i] = src[i] * scale (dst may be src).
function scaleInto(dst: usize, src: usize, n: i32, scale: f32): void {
  const sc = f32x4.splat(scale);
  const vectorEnd = dst + <usize>((n & ~3) * 4);
  const end = dst + <usize>(n * 4);
  for (; dst < vectorEnd; dst += 16, src += 16) v128.store(dst, flushSubnormals(f32x4.mul(v128.load(src), sc)));
  for (; dst < end; dst += 4, src += 4) store<f32>(dst, flushSubnormal(load<f32>(src) * scale));
}

/**
 * The backward pass of {@link patchMean}, optionally through an activation:
 * dZ[p][r] = scale * dG[r] * (D ? D[p][r] : 1) for p < P, r < R; and, when csum is not 0, csum[c] = sum over all rows
 * (p, b) of dZ[p][b * cols + c] (R = n * cols).
 */
export function broadcastMulColSum(dG: usize, D: usize, dZ: usize, P: i32, R: i32, cols: i32, scale: f32, csum: usize): void {
  const sc = f32x4.splat(scale);
  const R4 = R & ~3;
  for (let p = 0; p < P; p++) {
    const o = dZ + <usize>(p * R) * 4;
    const d = D + <usize>(p * R) * 4;
    if (D != 0) {
      for (let r = 0; r < R4; r += 4) {
        const off = <usize>(r * 4);
        v128.store(o + off, flushSubnormals(f32x4.mul(f32x4.mul(v128.load(dG + off), v128.load(d + off)), sc)));
      }
      for (let r = R4; r < R; r++) {
        const off = <usize>(r * 4);
        store<f32>(o + off, flushSubnormal(load<f32>(dG + off) * load<f32>(d + off) * scale));
      }
    } else {
      scaleInto(o, dG, R, scale);
    }
  }
  if (csum != 0) colSum(dZ, P * (R / cols), cols, csum);
}

// ---------------------------------------------------------------- LayerNorm over the last dimension D

/**
 * Y = (X - mean) * rstd * W + B per row, rstd = 1 / sqrt(var + eps) (biased variance, two passes: safer than
 * E[x^2] - E[x]^2); saves mean[r] and rstd[r] for the backward pass.
 */
export function layerNormForward(X: usize, Y: usize, W: usize, B: usize, mean: usize, rstd: usize, rows: i32, D: i32, eps: f32): void {
  const D4 = D & ~3;
  const invD: f32 = <f32>1.0 / <f32>D;
  for (let r = 0; r < rows; r++) {
    const x = X + <usize>(r * D) * 4;
    const y = Y + <usize>(r * D) * 4;
    let acc = f32x4.splat(0);
    let s: f32 = 0;
    for (let c = 0; c < D4; c += 4) acc = f32x4.add(acc, v128.load(x + <usize>(c * 4)));
    for (let c = D4; c < D; c++) s += load<f32>(x + <usize>(c * 4));
    const mu: f32 = (hsum(acc) + s) * invD;
    const vmu = f32x4.splat(mu);
    acc = f32x4.splat(0);
    s = 0;
    for (let c = 0; c < D4; c += 4) {
      const d = f32x4.sub(v128.load(x + <usize>(c * 4)), vmu);
      acc = f32x4.add(f32x4.mul(d, d), acc);
    }
    for (let c = D4; c < D; c++) {
      const d = load<f32>(x + <usize>(c * 4)) - mu;
      s += d * d;
    }
    const rs: f32 = <f32>1.0 / Mathf.sqrt((hsum(acc) + s) * invD + eps);
    store<f32>(mean + <usize>(r * 4), mu);
    store<f32>(rstd + <usize>(r * 4), rs);
    const vrs = f32x4.splat(rs);
    for (let c = 0; c < D4; c += 4) {
      const off = <usize>(c * 4);
      const xh = f32x4.mul(f32x4.sub(v128.load(x + off), vmu), vrs);
      v128.store(y + off, flushSubnormals(f32x4.add(f32x4.mul(xh, v128.load(W + off)), v128.load(B + off))));
    }
    for (let c = D4; c < D; c++) {
      const off = <usize>(c * 4);
      store<f32>(y + off, flushSubnormal((load<f32>(x + off) - mu) * rs * load<f32>(W + off) + load<f32>(B + off)));
    }
  }
}

/**
 * LayerNorm backward, with xhat = (X - mean) * rstd and g = dY * W:
 * dX = rstd * (g - mean_c(g) - xhat * mean_c(g * xhat)) (added to dX when accumulate is not 0), dW = sum_r dY * xhat,
 * dB = sum_r dY (overwritten). dX may alias neither X nor dY.
 */
export function layerNormBackward(
  X: usize,
  dY: usize,
  W: usize,
  mean: usize,
  rstd: usize,
  dX: usize,
  dW: usize,
  dB: usize,
  rows: i32,
  D: i32,
  accumulate: i32,
): void {
  const D4 = D & ~3;
  const invD: f32 = <f32>1.0 / <f32>D;
  memory.fill(dW, 0, <usize>(D * 4));
  memory.fill(dB, 0, <usize>(D * 4));
  for (let r = 0; r < rows; r++) {
    const x = X + <usize>(r * D) * 4;
    const dy = dY + <usize>(r * D) * 4;
    const dx = dX + <usize>(r * D) * 4;
    const mu = load<f32>(mean + <usize>(r * 4));
    const rs = load<f32>(rstd + <usize>(r * 4));
    const vmu = f32x4.splat(mu);
    const vrs = f32x4.splat(rs);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let s1: f32 = 0;
    let s2: f32 = 0;
    for (let c = 0; c < D4; c += 4) {
      const off = <usize>(c * 4);
      const xh = f32x4.mul(f32x4.sub(v128.load(x + off), vmu), vrs);
      const gy = v128.load(dy + off);
      const g = f32x4.mul(gy, v128.load(W + off));
      a1 = f32x4.add(a1, g);
      a2 = f32x4.add(f32x4.mul(g, xh), a2);
      v128.store(dW + off, flushSubnormals(f32x4.add(f32x4.mul(gy, xh), v128.load(dW + off))));
      v128.store(dB + off, f32x4.add(v128.load(dB + off), gy));
    }
    for (let c = D4; c < D; c++) {
      const off = <usize>(c * 4);
      const xh = (load<f32>(x + off) - mu) * rs;
      const gy = load<f32>(dy + off);
      const g = gy * load<f32>(W + off);
      s1 += g;
      s2 += g * xh;
      store<f32>(dW + off, flushSubnormal(load<f32>(dW + off) + gy * xh));
      store<f32>(dB + off, load<f32>(dB + off) + gy);
    }
    const m1: f32 = (hsum(a1) + s1) * invD;
    const m2: f32 = (hsum(a2) + s2) * invD;
    const vm1 = f32x4.splat(m1);
    const vm2 = f32x4.splat(m2);
    for (let c = 0; c < D4; c += 4) {
      const off = <usize>(c * 4);
      const xh = f32x4.mul(f32x4.sub(v128.load(x + off), vmu), vrs);
      const g = f32x4.mul(v128.load(dy + off), v128.load(W + off));
      let v = f32x4.mul(f32x4.sub(f32x4.sub(g, vm1), f32x4.mul(xh, vm2)), vrs);
      if (accumulate != 0) v = f32x4.add(v, v128.load(dx + off));
      v128.store(dx + off, flushSubnormals(v));
    }
    for (let c = D4; c < D; c++) {
      const off = <usize>(c * 4);
      const xh = (load<f32>(x + off) - mu) * rs;
      const g = load<f32>(dy + off) * load<f32>(W + off);
      let v = (g - m1 - xh * m2) * rs;
      if (accumulate != 0) v += load<f32>(dx + off);
      store<f32>(dx + off, flushSubnormal(v));
    }
  }
}
