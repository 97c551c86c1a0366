// Element-wise and small dense kernels: exact-erf GELU (alone and fused with the patch mean), column sums, the
// 10-class head, softmax cross-entropy and Adam. Pointers are byte addresses; sizes count f32 elements. The kernels
// module (mixer/kernels.ts) re-exports them; all take any size (a scalar tail after the vector loop) except `adam`,
// whose blocks are padded to multiples of 16.

import { flushSubnormal, flushSubnormals } from './flush';
import { madd } from './madd';

// ---------------------------------------------------------------- GELU, exact (erf) form
// gelu(z) = z Phi(z), gelu'(z) = Phi(z) + z exp(-z^2 / 2) / sqrt(2 pi), with Phi(z) = erfc(-z / sqrt 2) / 2 from
// Abramowitz-Stegun 7.1.26 (|error of erf| < 1.5e-7).
// For |z| > sqrt(80) (about 8.94) exp(-z^2 / 2) < e^-40 (4e-18) is taken as exactly 0, so Phi is exactly 0 or 1 there:
// gelu(z) is 0 or z and gelu'(z) is 0 or 1, where the true |gelu| < 4e-18 and |gelu' - (0 or 1)| < 2e-17, far below
// anything float32 adds them to (float32 references round more away: their erf saturates near |z| = 6). A smaller cut
// (measured at e^-80) leaves a band of gelu' ~ 1e-18 ... 1e-35 whose products with gradients underflow: 1.5x slower
// steps for a Mixer with N(0, 1) init although every result is flushed. Inside the cut every intermediate is normal.

// The constants live in a table in linear memory, read with one load each. Written as v128.const (about 30 per 4
// lanes) V8 rebuilt each from immediates at every use, several instructions each: 3.8 ns an element before, 2.3 after
// (relaxed SIMD; docs/experiments/time-to-accuracy.md). Binaryen folds constant locals back into v128.const, but not
// loads.
// Lanes: i * 16 bytes holds constant i splatted to 4 lanes.
const GELU_K: usize = memory.data<f32>(
  [
    // 0: -1/2, 1: log2(e) (for exp), 2, 3: ln 2 in two parts (Cody-Waite), 4-9: exp's polynomial, 10: 1
    -0.5, -0.5, -0.5, -0.5,
    1.44269504088896341, 1.44269504088896341, 1.44269504088896341, 1.44269504088896341,
    0.693359375, 0.693359375, 0.693359375, 0.693359375,
    -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4,
    1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4,
    1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3,
    8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3,
    4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2,
    1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1,
    5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1,
    1.0, 1.0, 1.0, 1.0,
    // 11: 1.5 * 2^23, the round-to-nearest shifter, 12: 80 (the cut on z^2)
    12582912.0, 12582912.0, 12582912.0, 12582912.0,
    80.0, 80.0, 80.0, 80.0,
    // 13: 1/sqrt 2, 14: A-S 7.1.26's p, 15-19: its a5 .. a1, 20: 1/sqrt(2 pi), 21: 1/2
    0.7071067811865476, 0.7071067811865476, 0.7071067811865476, 0.7071067811865476,
    0.3275911, 0.3275911, 0.3275911, 0.3275911,
    1.061405429, 1.061405429, 1.061405429, 1.061405429,
    -1.453152027, -1.453152027, -1.453152027, -1.453152027,
    1.421413741, 1.421413741, 1.421413741, 1.421413741,
    -0.284496736, -0.284496736, -0.284496736, -0.284496736,
    0.254829592, 0.254829592, 0.254829592, 0.254829592,
    0.3989422804014327, 0.3989422804014327, 0.3989422804014327, 0.3989422804014327,
    0.5, 0.5, 0.5, 0.5,
  ],
  16,
);

// Constant i of GELU_K, 4 lanes.
// @ts-ignore: decorator
@inline
function K(i: i32): v128 {
  return v128.load(GELU_K + <usize>(i * 16));
}

// exp(x) for -40 <= x <= 0: Cephes-style range reduction and polynomial. The integer part n is rounded by adding
// 1.5 * 2^23 (its low mantissa bits then hold n), which also gives 2^n's exponent bits without a float-to-int
// conversion. Outside that range the result is garbage, which the caller masks (halfSquareExp).
// @ts-ignore: decorator
@inline
function expSmall(x: v128): v128 {
  const shifted = madd(x, K(1), K(11)); // 1.5 * 2^23 + round(x log2 e)
  const n = f32x4.sub(shifted, K(11));
  let r = f32x4.sub(x, f32x4.mul(n, K(2)));
  r = f32x4.sub(r, f32x4.mul(n, K(3)));
  let p = madd(K(4), r, K(5));
  p = madd(p, r, K(6));
  p = madd(p, r, K(7));
  p = madd(p, r, K(8));
  p = madd(p, r, K(9));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), K(10));
  // 2^n: (n + 127) << 23, where shifted's bits are 0x4B400000 + n
  const scale = i32x4.shl(i32x4.sub(shifted, i32x4.splat(0x4b400000 - 127)), 23);
  return f32x4.mul(p, scale);
}

// Phi(z), given e = exp(-z^2 / 2).
// @ts-ignore: decorator
@inline
function normalCdf(z: v128, e: v128): v128 {
  const a = f32x4.mul(f32x4.abs(z), K(13));
  const t = f32x4.div(K(10), madd(a, K(14), K(10)));
  let p = madd(K(15), t, K(16));
  p = madd(p, t, K(17));
  p = madd(p, t, K(18));
  p = madd(p, t, K(19));
  const tail = f32x4.mul(f32x4.mul(p, t), f32x4.mul(e, K(21))); // erfc(|z| / sqrt 2) / 2
  return v128.bitselect(f32x4.sub(K(10), tail), tail, f32x4.ge(z, f32x4.splat(0)));
}

// exp(-z^2 / 2), exactly 0 where z^2 > 80 (see above). NaN stays NaN.
// @ts-ignore: decorator
@inline
function halfSquareExp(z: v128): v128 {
  const zz = f32x4.mul(z, z);
  return v128.andnot(expSmall(f32x4.mul(zz, K(0))), f32x4.gt(zz, K(12)));
}


// gelu(z) into G and gelu'(z) into Z for the first `lanes` lanes of z (4, or 1 for a scalar tail).
// @ts-ignore: decorator
@inline
function geluLanes(z: v128, Z: usize, G: usize, lanes: i32): void {
  const e = halfSquareExp(z);
  const phi = normalCdf(z, e);
  const g = flushSubnormals(f32x4.mul(z, phi));
  const d = flushSubnormals(madd(f32x4.mul(z, e), K(20), phi));
  if (lanes == 4) {
    v128.store(G, g);
    v128.store(Z, d);
  } else {
    v128.store32_lane(G, g, 0);
    v128.store32_lane(Z, d, 0);
  }
}

/** G[i] = gelu(Z[i]) and, in place, Z[i] = gelu'(Z[i]) (kept for the backward pass). Any n. */
export function geluForward(Z: usize, G: usize, n: i32): void {
  const vectorEnd = Z + <usize>((n & ~3) * 4);
  const end = Z + <usize>(n * 4);
  for (; Z < vectorEnd; Z += 16, G += 16) geluLanes(v128.load(Z), Z, G, 4);
  for (; Z < end; Z += 4, G += 4) geluLanes(v128.load32_zero(Z), Z, G, 1);
}

/**
 * Z is [rows][R]: mean[r] = (1 / rows) sum_p gelu(Z[p][r]) and, in place, Z = gelu'(Z). Averaging over the rows
 * (patches) right after the last GELU is exact because everything after it is affine; fusing the two saves writing
 * and re-reading gelu(Z). Any R.
 */
export function geluMeanForward(Z: usize, mean: usize, rows: i32, R: i32): void {
  const inv = f32x4.splat(<f32>1.0 / <f32>rows);
  memory.fill(mean, 0, <usize>(R * 4));
  for (let p = 0; p < rows; p++) {
    let zp = Z + <usize>(p * R) * 4;
    let mp = mean;
    const vectorEnd = zp + <usize>((R & ~3) * 4);
    const end = zp + <usize>(R * 4);
    for (; zp < vectorEnd; zp += 16, mp += 16) geluMeanLanes(v128.load(zp), zp, mp, inv, 4);
    for (; zp < end; zp += 4, mp += 4) geluMeanLanes(v128.load32_zero(zp), zp, mp, inv, 1);
  }
}

// mean += gelu(z) * inv and, in place, Z = gelu'(z) for the first `lanes` lanes of z (4, or 1 for a scalar tail).
// @ts-ignore: decorator
@inline
function geluMeanLanes(z: v128, Z: usize, mean: usize, inv: v128, lanes: i32): void {
  const e = halfSquareExp(z);
  const phi = normalCdf(z, e);
  const d = flushSubnormals(madd(f32x4.mul(z, e), K(20), phi));
  if (lanes == 4) {
    v128.store(mean, flushSubnormals(f32x4.add(f32x4.mul(f32x4.mul(z, phi), inv), v128.load(mean))));
    v128.store(Z, d);
  } else {
    const m = flushSubnormals(f32x4.add(f32x4.mul(f32x4.mul(z, phi), inv), v128.load32_zero(mean)));
    v128.store32_lane(mean, m, 0);
    v128.store32_lane(Z, d, 0);
  }
}

// ---------------------------------------------------------------- reductions

/** out[c] = sum_i X[i][c] for X [rows][cols] (rows summed in order). Any cols. */
export function colSum(X: usize, rows: i32, cols: i32, out: usize): void {
  memory.fill(out, 0, <usize>(cols * 4));
  for (let i = 0; i < rows; i++) addInto(out, X + <usize>(i * cols) * 4, cols);
}

/** dst[i] += src[i]. Any n. */
export function addInto(dst: usize, src: usize, n: i32): void {
  const vectorEnd = dst + <usize>((n & ~3) * 4);
  const end = dst + <usize>(n * 4);
  for (; dst < vectorEnd; dst += 16, src += 16) v128.store(dst, f32x4.add(v128.load(dst), v128.load(src)));
  for (; dst < end; dst += 4, src += 4) store<f32>(dst, load<f32>(dst) + load<f32>(src));
}

// ---------------------------------------------------------------- head and loss (scalar: 10 classes is too narrow for SIMD to matter)

/** logits[b][k] = sum_c h[b][c] W[c][k] + bias[k] for h [n][dim], W [dim][classes]. */
export function headForward(h: usize, W: usize, bias: usize, logits: usize, n: i32, dim: i32, classes: i32): void {
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < classes; k++) {
      let s: f32 = load<f32>(bias + <usize>(k * 4));
      for (let c = 0; c < dim; c++) s += load<f32>(h + <usize>((b * dim + c) * 4)) * load<f32>(W + <usize>((c * classes + k) * 4));
      store<f32>(logits + <usize>((b * classes + k) * 4), flushSubnormal(s));
    }
  }
}

/** dW = h^T dLogits, dBias = column sums of dLogits, dh = dLogits W^T. */
export function headBackward(h: usize, W: usize, dLogits: usize, dW: usize, dBias: usize, dh: usize, n: i32, dim: i32, classes: i32): void {
  memory.fill(dW, 0, <usize>(dim * classes * 4));
  memory.fill(dBias, 0, <usize>(classes * 4));
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < classes; k++) {
      const g = load<f32>(dLogits + <usize>((b * classes + k) * 4));
      store<f32>(dBias + <usize>(k * 4), load<f32>(dBias + <usize>(k * 4)) + g);
      for (let c = 0; c < dim; c++) {
        const p = dW + <usize>((c * classes + k) * 4);
        store<f32>(p, flushSubnormal(load<f32>(p) + load<f32>(h + <usize>((b * dim + c) * 4)) * g));
      }
    }
    for (let c = 0; c < dim; c++) {
      let s: f32 = 0;
      for (let k = 0; k < classes; k++) s += load<f32>(dLogits + <usize>((b * classes + k) * 4)) * load<f32>(W + <usize>((c * classes + k) * 4));
      store<f32>(dh + <usize>((b * dim + c) * 4), flushSubnormal(s));
    }
  }
}

let lastCorrect: i32 = 0;

/** Examples whose argmax logit (first on ties) equals the label, in the last {@link softmaxCrossEntropy}. */
export function correctCount(): i32 {
  return lastCorrect;
}

/**
 * Softmax cross-entropy against u8 labels, optionally label-smoothed (PyTorch's `CrossEntropyLoss(label_smoothing)`:
 * the target is (1 - smoothing) onehot + smoothing / classes). Writes dLogits = (softmax - target) * gradScale and
 * returns the SUM of the per-example losses (f64); counts correct predictions for {@link correctCount}. With
 * smoothing 0 it is plain cross-entropy, computed exactly as before smoothing existed.
 */
export function softmaxCrossEntropy(logits: usize, labels: usize, dLogits: usize, n: i32, classes: i32, gradScale: f32, smoothing: f64): f64 {
  let total: f64 = 0;
  let correct: i32 = 0;
  const uniform: f64 = smoothing / <f64>classes;
  for (let b = 0; b < n; b++) {
    const l = logits + <usize>(b * classes * 4);
    let best: i32 = 0;
    let mx: f32 = load<f32>(l);
    for (let k = 1; k < classes; k++) {
      const v = load<f32>(l + <usize>(k * 4));
      if (v > mx) {
        mx = v;
        best = k;
      }
    }
    let s: f64 = 0;
    for (let k = 0; k < classes; k++) s += Math.exp(<f64>(load<f32>(l + <usize>(k * 4)) - mx));
    const y = <i32>load<u8>(labels + <usize>b);
    if (best == y) correct++;
    const d = dLogits + <usize>(b * classes * 4);
    if (smoothing == 0) {
      total += Math.log(s) - <f64>(load<f32>(l + <usize>(y * 4)) - mx);
      for (let k = 0; k < classes; k++) {
        let pr = <f32>(Math.exp(<f64>(load<f32>(l + <usize>(k * 4)) - mx)) / s);
        if (k == y) pr -= 1;
        store<f32>(d + <usize>(k * 4), flushSubnormal(flushSubnormal(pr) * gradScale));
      }
    } else {
      // loss = log s - sum_k target_k (l_k - mx); gradient softmax_k - target_k
      let shifted: f64 = 0;
      for (let k = 0; k < classes; k++) shifted += <f64>(load<f32>(l + <usize>(k * 4)) - mx);
      total += Math.log(s) - (1 - smoothing) * <f64>(load<f32>(l + <usize>(y * 4)) - mx) - uniform * shifted;
      for (let k = 0; k < classes; k++) {
        const target: f64 = k == y ? 1 - smoothing + uniform : uniform;
        const pr = <f32>(Math.exp(<f64>(load<f32>(l + <usize>(k * 4)) - mx)) / s - target);
        store<f32>(d + <usize>(k * 4), flushSubnormal(flushSubnormal(pr) * gradScale));
      }
    }
  }
  lastCorrect = correct;
  return total;
}

// ---------------------------------------------------------------- Adam

/**
 * One Adam update with PyTorch semantics: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
 * p -= lr (m / bc1) / (sqrt(v / bc2) + eps), where bc1 = 1 - b1^t and bc2 = 1 - b2^t.
 */
export function adam(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, b1: f32, b2: f32, eps: f32, bc1: f32, bc2: f32): void {
  const vb1 = f32x4.splat(b1);
  const vb2 = f32x4.splat(b2);
  const o1 = f32x4.splat(1 - b1);
  const o2 = f32x4.splat(1 - b2);
  const ibc1 = f32x4.splat(<f32>1.0 / bc1);
  const ibc2 = f32x4.splat(<f32>1.0 / bc2);
  const vlr = f32x4.splat(lr);
  const veps = f32x4.splat(eps);
  for (let i = 0; i < n; i += 4) {
    const off = <usize>(i * 4);
    const gg = v128.load(g + off);
    // Moments of a parameter whose gradient stays (near) 0 decay geometrically: flushed once they leave the normal range.
    const mm = flushSubnormals(f32x4.add(f32x4.mul(vb1, v128.load(m + off)), f32x4.mul(o1, gg)));
    const vv = flushSubnormals(f32x4.add(f32x4.mul(vb2, v128.load(v + off)), f32x4.mul(o2, flushSubnormals(f32x4.mul(gg, gg)))));
    v128.store(m + off, mm);
    v128.store(v + off, vv);
    const step = f32x4.div(f32x4.mul(mm, ibc1), f32x4.add(f32x4.sqrt(f32x4.mul(vv, ibc2)), veps));
    v128.store(p + off, flushSubnormals(f32x4.sub(v128.load(p + off), f32x4.mul(vlr, step))));
  }
}

// ---------------------------------------------------------------- SGD with momentum

/**
 * One SGD update with PyTorch semantics (`torch.optim.SGD`; coupled weight decay is added to g by the caller):
 * with momentum 0, p -= lr g; else buf = g on the first step (first != 0) and buf = momentum buf + (1 - dampening) g
 * after, then p -= lr (g + momentum buf) with Nesterov (nesterov != 0) or p -= lr buf without. `undamped` is
 * 1 - dampening, computed by the caller in float64 and rounded once. n is a multiple of 4.
 */
export function sgd(p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32, undamped: f32, nesterov: i32, first: i32): void {
  const vlr = f32x4.splat(lr);
  const vmom = f32x4.splat(momentum);
  const keep = f32x4.splat(undamped);
  for (let i = 0; i < n; i += 4) {
    const off = <usize>(i * 4);
    const gg = flushSubnormals(v128.load(g + off));
    let d = gg;
    if (momentum != 0) {
      // A buffer whose gradients stay (near) 0 decays geometrically: flushed once it leaves the normal range.
      const b = first != 0 ? gg : flushSubnormals(f32x4.add(f32x4.mul(vmom, v128.load(buf + off)), f32x4.mul(keep, gg)));
      v128.store(buf + off, b);
      d = nesterov != 0 ? f32x4.add(gg, f32x4.mul(vmom, b)) : b;
    }
    v128.store(p + off, flushSubnormals(f32x4.sub(v128.load(p + off), f32x4.mul(vlr, d))));
  }
}
