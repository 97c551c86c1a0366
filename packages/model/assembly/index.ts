// The one-block patch-MLP on WebAssembly SIMD: forward, backward and Adam over buffers allocated once for up to
// `capacity` images. The JavaScript side writes images and labels into the input buffers, calls `forwardBackward` or
// `forward`, and reads gradients / logits back (see src/kernels/core.ts).
//
// Model (Linear weights stored [in, out], y = x W + b):
//   h   = patchify(x) We + be                        [n*49, 128]   (49 patches of 4x4 pixels)
//   t   = gelu(h^T Wt1 + bt1) Wt2 + bt2              token mixing, per image and channel, across the 49 patches
//   z   = gelu(t Wc1 + bc1) Wc2 + bc2                channel mixing, per patch
//   out = mean over patches of (z Wh + bh)           [n, 10]
// Two exact rewrites: activations are kept patch-major ([49][n][128]) so token mixing is a plain matrix product with
// no transposes, and the patch mean is taken right after the last GELU (what follows is affine).

import { gemm, GEMM_COL_BIAS, GEMM_ROW_BIAS, GEMM_SET, initGemm } from './gemm';
import { allocBytes, allocF32 } from './memory';
import {
  adam,
  addInto,
  colSum,
  geluBackward,
  geluForward,
  geluMeanForward,
  headBackward,
  headForward,
  patchify,
  rowSum,
  softmaxCrossEntropy,
} from './ops';

const PIXELS: i32 = 784;
const P: i32 = 49; // patches
const PD: i32 = 16; // pixels per patch
const C: i32 = 128; // model dim
const T: i32 = 128; // token-mixing hidden size
const F: i32 = 128; // channel-mixing hidden size
const K: i32 = 10; // classes

// ---------------------------------------------------------------- parameters
// One contiguous block, tensors in this order, each padded to a multiple of 16 f32 (64 bytes) with zeros that stay
// zero under Adam. Gradients and Adam's moments use the same layout.
const EMBED_W = 0;
const EMBED_B = 1;
const TOKEN_FC1_W = 2;
const TOKEN_FC1_B = 3;
const TOKEN_FC2_W = 4;
const TOKEN_FC2_B = 5;
const CHANNEL_FC1_W = 6;
const CHANNEL_FC1_B = 7;
const CHANNEL_FC2_W = 8;
const CHANNEL_FC2_B = 9;
const HEAD_W = 10;
const HEAD_B = 11;
const TENSORS = 12;

const paramSizes: StaticArray<i32> = [PD * C, C, P * T, T, T * P, P, C * F, F, F * C, C, C * K, K];
const paramOffsets = new StaticArray<i32>(TENSORS); // in f32 elements
let paramTotal: i32 = 0;

let params: usize = 0;
let grads: usize = 0;
let gradStaging: usize = 0;
let adamM: usize = 0;
let adamV: usize = 0;

// ---------------------------------------------------------------- activations (n images, R = n * 128)
let images: usize = 0; // [n][784] input
let labels: usize = 0; // [n] u8 input
let patches: usize = 0; // [49][n][16]
let h0: usize = 0; // [49][R] embedded patches
let u: usize = 0; // [T][R] token fc1 pre-activation, then gelu'(.)
let g1: usize = 0; // [T][R] gelu(u); reused for its gradient once dead
let h1: usize = 0; // [49][R] token-mixing output; reused for its gradient once dead
let z: usize = 0; // [49][n][F] channel fc1 pre-activation, then gelu'(.)
let dz: usize = 0; // [49][n][F] gradient of z; reused for the gradient of h0
let pooled: usize = 0; // [n][F] mean over patches of gelu(z)
let hbar: usize = 0; // [n][C] pooled channel-mixing output
let logits: usize = 0; // [n][K]
let dLogits: usize = 0; // [n][K]
let dHbar: usize = 0; // [n][C]
let dPooled: usize = 0; // [n][F]

/** Allocates parameters, Adam state and activations for batches of up to `maxImages` images. Call once. */
export function init(maxImages: i32): void {
  let total = 0;
  for (let i = 0; i < TENSORS; i++) {
    paramOffsets[i] = total;
    total += (paramSizes[i] + 15) & ~15;
  }
  paramTotal = total;
  params = allocF32(total);
  grads = allocF32(total);
  gradStaging = allocF32(total);
  adamM = allocF32(total);
  adamV = allocF32(total);

  const R = maxImages * C;
  images = allocF32(maxImages * PIXELS);
  labels = allocBytes(<usize>maxImages);
  patches = allocF32(P * maxImages * PD);
  h0 = allocF32(P * R);
  u = allocF32(T * R);
  g1 = allocF32(T * R);
  h1 = allocF32(P * R);
  z = allocF32(P * maxImages * F);
  dz = allocF32(P * maxImages * max(F, C)); // also holds dh0 [P][n][C]
  pooled = allocF32(maxImages * F);
  hbar = allocF32(maxImages * C);
  logits = allocF32(maxImages * K);
  dLogits = allocF32(maxImages * K);
  dHbar = allocF32(maxImages * C);
  dPooled = allocF32(maxImages * F);
  initGemm();
}

// @ts-ignore: decorator
@inline
function param(i: i32): usize {
  return params + (<usize>paramOffsets[i] << 2);
}

// @ts-ignore: decorator
@inline
function grad(i: i32): usize {
  return grads + (<usize>paramOffsets[i] << 2);
}

/** Logits of the first `n` images in the input buffer, written to the logits buffer. */
export function forward(n: i32): void {
  const R = n * C;
  patchify(images, patches, n);
  // h0 [n*49, C] = patches We + be   (rows patch-major: row p*n + b)
  gemm(n * P, C, PD, patches, PD, 1, param(EMBED_W), C, 1, h0, C, GEMM_COL_BIAS, param(EMBED_B));
  // u [T][R] = Wt1^T h0 + bt1[row]   (Wt1 is [P, T])
  gemm(T, R, P, param(TOKEN_FC1_W), 1, T, h0, R, 1, u, R, GEMM_ROW_BIAS, param(TOKEN_FC1_B));
  geluForward(u, g1, T * R);
  // h1 [P][R] = Wt2^T g1 + bt2[row]   (Wt2 is [T, P])
  gemm(P, R, T, param(TOKEN_FC2_W), 1, P, g1, R, 1, h1, R, GEMM_ROW_BIAS, param(TOKEN_FC2_B));
  // z [n*49, F] = h1 Wc1 + bc1
  gemm(n * P, F, C, h1, C, 1, param(CHANNEL_FC1_W), F, 1, z, F, GEMM_COL_BIAS, param(CHANNEL_FC1_B));
  geluMeanForward(z, pooled, P, n * F);
  // hbar [n, C] = pooled Wc2 + bc2 ; logits = hbar Wh + bh
  gemm(n, C, F, pooled, F, 1, param(CHANNEL_FC2_W), C, 1, hbar, C, GEMM_COL_BIAS, param(CHANNEL_FC2_B));
  headForward(hbar, param(HEAD_W), param(HEAD_B), logits, n, C, K);
}

/**
 * Forward and backward over the first `n` images and labels in the input buffers. Gradients of
 * `gradScale * (sum of the n losses)` replace the gradient buffer; returns the sum of the n losses.
 * For the mean loss of a batch of B images split into shards, pass gradScale = 1 / B to every shard.
 */
export function forwardBackward(n: i32, gradScale: f32): f64 {
  const R = n * C;
  forward(n);
  const loss = softmaxCrossEntropy(logits, labels, dLogits, n, K, gradScale);

  headBackward(hbar, param(HEAD_W), dLogits, grad(HEAD_W), grad(HEAD_B), dHbar, n, C, K);
  // dWc2 = pooled^T dHbar ; dbc2 = column sums ; dPooled = dHbar Wc2^T
  gemm(F, C, n, pooled, 1, F, dHbar, C, 1, grad(CHANNEL_FC2_W), C, GEMM_SET, 0);
  colSum(dHbar, n, C, grad(CHANNEL_FC2_B));
  gemm(n, F, C, dHbar, C, 1, param(CHANNEL_FC2_W), 1, C, dPooled, F, GEMM_SET, 0);
  // dz = dPooled / 49 * gelu'(z), broadcast over patches ; dbc1 = column sums
  geluBackward(dPooled, 0, z, dz, P, n * F, <f32>1.0 / <f32>P, 0, grad(CHANNEL_FC1_B), F);
  // dWc1 = h1^T dz
  gemm(C, F, n * P, h1, 1, C, dz, F, 1, grad(CHANNEL_FC1_W), F, GEMM_SET, 0);
  // dh1 = dz Wc1^T   (into h1, which is dead now)
  const dh1 = h1;
  gemm(n * P, C, F, dz, F, 1, param(CHANNEL_FC1_W), 1, F, dh1, C, GEMM_SET, 0);
  // dbt2 = row sums of dh1 [P][R] ; dWt2 [T, P] = g1 dh1^T
  rowSum(dh1, P, R, grad(TOKEN_FC2_B));
  gemm(T, P, R, g1, R, 1, dh1, 1, R, grad(TOKEN_FC2_W), P, GEMM_SET, 0);
  // du = (Wt2 dh1) * gelu'(u)   (into g1, which is dead now) ; dbt1 = row sums
  const du = g1;
  gemm(T, R, P, param(TOKEN_FC2_W), P, 1, dh1, R, 1, du, R, GEMM_SET, 0);
  geluBackward(du, R, u, du, T, R, 1, grad(TOKEN_FC1_B), 0, 0);
  // dWt1 [P, T] = h0 du^T ; dh0 = Wt1 du   (into dz, which is dead now)
  gemm(P, T, R, h0, R, 1, du, 1, R, grad(TOKEN_FC1_W), T, GEMM_SET, 0);
  const dh0 = dz;
  gemm(P, R, T, param(TOKEN_FC1_W), T, 1, du, R, 1, dh0, R, GEMM_SET, 0);
  // dWe = patches^T dh0 ; dbe = column sums
  gemm(PD, C, n * P, patches, 1, PD, dh0, C, 1, grad(EMBED_W), C, GEMM_SET, 0);
  colSum(dh0, n * P, C, grad(EMBED_B));
  return loss;
}

// Correct predictions (argmax == label) in the last `forwardBackward`, counted by its softmaxCrossEntropy.
export { correctCount } from './ops';

/** Adds the staging gradients (another shard's, copied in by the caller) into the gradients. */
export function accumulateGradients(): void {
  addInto(grads, gradStaging, paramTotal);
}

/** One Adam update of all parameters from the gradients; bc1 = 1 - b1^t and bc2 = 1 - b2^t for step t. */
export function adamUpdate(lr: f32, b1: f32, b2: f32, eps: f32, bc1: f32, bc2: f32): void {
  adam(params, grads, adamM, adamV, paramTotal, lr, b1, b2, eps, bc1, bc2);
}

// ---------------------------------------------------------------- layout queries for the JavaScript side

/** Number of f32s in the (padded) parameter block. */
export function paramBlockLength(): i32 {
  return paramTotal;
}

/** Offset in f32s of tensor `i` inside the parameter block. */
export function paramOffset(i: i32): i32 {
  return paramOffsets[i];
}

/** Element count of tensor `i`. */
export function paramSize(i: i32): i32 {
  return paramSizes[i];
}

export function paramsPtr(): usize {
  return params;
}
export function gradsPtr(): usize {
  return grads;
}
export function gradStagingPtr(): usize {
  return gradStaging;
}
export function adamMPtr(): usize {
  return adamM;
}
export function adamVPtr(): usize {
  return adamV;
}
export function imagesPtr(): usize {
  return images;
}
export function labelsPtr(): usize {
  return labels;
}
export function logitsPtr(): usize {
  return logits;
}
