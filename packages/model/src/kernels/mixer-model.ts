import { type ModelConfig, paramSpecs } from '../config';
import { type KernelCompute, type KernelModel, NUM_CLASSES, type TensorSpec } from './core';

/**
 * The exports of the MLP-Mixer kernels module (assembly/mixer/kernels.ts). Pointers are byte offsets into `memory`,
 * sizes and strides are in f32 elements.
 * @internal
 */
export interface MixerKernelExports {
  readonly memory: WebAssembly.Memory;
  allocF32(n: number): number;
  initGemm(): void;
  gemm(...args: number[]): void;
  geluForward(z: number, g: number, n: number): void;
  geluMeanForward(z: number, mean: number, rows: number, r: number): void;
  reluForward(z: number, g: number, n: number): void;
  mulRowSum(dG: number, d: number, rows: number, cols: number, rsum: number): void;
  mulColSum(dG: number, d: number, rows: number, cols: number, csum: number): void;
  colSum(x: number, rows: number, cols: number, out: number): void;
  patchify(x: number, xp: number, n: number, patchSize: number, imageWidth: number): void;
  patchMean(x: number, out: number, patches: number, r: number, scale: number): void;
  broadcastMulColSum(dG: number, d: number, dZ: number, patches: number, r: number, cols: number, scale: number, csum: number): void;
  addInto(dst: number, src: number, n: number): void;
  layerNormForward(...args: number[]): void;
  layerNormBackward(...args: number[]): void;
  headForward(h: number, w: number, bias: number, out: number, n: number, dim: number, classes: number): void;
  softmaxCrossEntropy(
    logits: number,
    labels: number,
    dLogits: number,
    n: number,
    classes: number,
    gradScale: number,
    smoothing: number,
  ): number;
  correctCount(): number;
  headBackward(h: number, w: number, dl: number, dW: number, db: number, dh: number, n: number, dim: number, classes: number): void;
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    bc1: number,
    bc2: number,
  ): void;
  sgd(p: number, g: number, buf: number, n: number, lr: number, momentum: number, undamped: number, nesterov: number, first: number): void;
}

/** What the compute needs to know about a config (plain data, so it can be posted to a worker). @internal */
export interface MixerShape {
  patchSize: number;
  dim: number;
  tokenHidden: number;
  channelHidden: number;
  blocks: number;
  /** 0 none, 1 relu, 2 gelu. */
  act: number;
  layerNorm: boolean;
  residual: boolean;
  numClasses: number;
  /** The parameter tensors in the order of {@link paramSpecs}. */
  tensors: TensorSpec[];
}

/**
 * The kernel model of a config on the general Mixer kernels (every valid config with 10 classes).
 * @throws RangeError for another number of classes
 * @internal
 */
export function mixerModel(config: ModelConfig): KernelModel<MixerKernelExports, MixerShape> {
  if (config.numClasses !== NUM_CLASSES) {
    throw new RangeError(`the wasm-simd kernels need numClasses ${NUM_CLASSES}, got ${config.numClasses}`);
  }
  return { module: 'mixer', shape: mixerShape(config), createCompute: createMixerCompute };
}

function mixerShape(config: ModelConfig): MixerShape {
  return {
    patchSize: config.patchSize,
    dim: config.dim,
    tokenHidden: config.tokenHidden,
    channelHidden: config.channelHidden,
    blocks: config.blocks,
    act: config.activation === 'gelu' ? 2 : config.activation === 'relu' ? 1 : 0,
    layerNorm: config.norm === 'layernorm',
    residual: config.residual,
    numClasses: config.numClasses,
    tensors: paramSpecs(config).map(({ name, shape, kind }) => ({
      name,
      shape,
      size: shape.reduce((a, b) => a * b, 1),
      weight: kind === 'weight',
    })),
  };
}

/**
 * Allocates every buffer of an MLP-Mixer for batches of up to `capacity` images in the kernels instance `k` and
 * returns the functions that sequence the kernels: forward, forward + backward, gradient accumulation, Adam.
 * The engine's workers (worker.ts) run it too, each on its own instance.
 *
 * Activations are patch-major: row `p*n + b` of a `[P*n, dim]` matrix is image b, patch p, so channel MLPs and
 * LayerNorm act on rows, token mixing is a left multiplication of the same memory viewed as `[P][n*dim]` (strided
 * GEMM, parameters stay in the spec layout), and the patch mean is a sum of P slabs. The head is applied to the
 * patch mean (exact, it is affine); with no norm and no residual the mean also moves before the last channel fc2.
 * @internal
 */
export function createMixerCompute(k: MixerKernelExports, s: MixerShape, capacity: number): KernelCompute {
  const IMG = 28;
  const LN_EPS = 1e-5;
  const f4 = (n: number): number => k.allocF32(Math.max(n, 4));
  const P = (IMG / s.patchSize) ** 2;
  const pp = s.patchSize * s.patchSize;
  const D = s.dim;
  const Th = s.tokenHidden;
  const Ch = s.channelHidden;
  const NC = s.numClasses;
  const ln = s.layerNorm;
  const act = s.act;
  const activate = act === 2 ? k.geluForward : k.reluForward;
  const res = s.residual;
  const meanFc2 = !ln && !res;
  // The last channel GELU fused with the patch mean (the patch-MLP's case): gelu(CZ) is never stored.
  const geluMean = meanFc2 && act === 2;

  const offsets: Record<string, number> = {};
  let blockLength = 0;
  for (const t of s.tensors) {
    offsets[t.name] = blockLength;
    blockLength += Math.ceil(t.size / 16) * 16;
  }
  const paramsPtr = f4(blockLength);
  const gradsPtr = f4(blockLength);
  const stagingPtr = f4(blockLength);
  const mPtr = f4(blockLength);
  const vPtr = f4(blockLength);

  const B = capacity;
  const BPmax = B * P;
  const Rmax = B * D;
  const imagesPtr = f4(B * IMG * IMG);
  const labelsPtr = f4(Math.ceil(B / 4)); // u8
  const xp = f4(BPmax * pp);
  const h0 = f4(BPmax * D);
  type Block = {
    U1: number;
    m1: number;
    r1: number;
    U2: number;
    m2: number;
    r2: number;
    TZ: number;
    TG: number;
    Hmid: number;
    CZ: number;
    CG: number;
    Hout: number;
  };
  const blk: Block[] = [];
  for (let i = 0; i < s.blocks; i++) {
    const b: Block = { U1: 0, m1: 0, r1: 0, U2: 0, m2: 0, r2: 0, TZ: 0, TG: 0, Hmid: 0, CZ: 0, CG: 0, Hout: 0 };
    if (ln) {
      b.U1 = f4(BPmax * D);
      b.m1 = f4(BPmax);
      b.r1 = f4(BPmax);
      b.U2 = f4(BPmax * D);
      b.m2 = f4(BPmax);
      b.r2 = f4(BPmax);
    }
    b.TZ = f4(Th * Rmax); // token fc1 pre-activation, then act'(.) in place
    b.TG = act ? f4(Th * Rmax) : b.TZ;
    b.Hmid = f4(BPmax * D);
    b.CZ = f4(BPmax * Ch);
    b.CG = act && !(i === s.blocks - 1 && geluMean) ? f4(BPmax * Ch) : b.CZ;
    b.Hout = i === s.blocks - 1 && meanFc2 ? 0 : f4(BPmax * D);
    blk.push(b);
  }
  const hLast = s.blocks ? blk[s.blocks - 1]!.Hout : h0;
  const hF = ln ? f4(BPmax * D) : 0;
  const mF = ln ? f4(BPmax) : 0;
  const rF = ln ? f4(BPmax) : 0;
  const hbar = f4(B * D);
  const dHbar = f4(B * D);
  const gbar = meanFc2 ? f4(B * Ch) : 0;
  const dGbar = meanFc2 ? f4(B * Ch) : 0;
  const logitsPtr = f4(B * NC);
  const dLogits = f4(B * NC);
  const dH = f4(BPmax * D);
  const dU = f4(BPmax * D);
  const dT = f4(Th * Rmax);
  const dC = f4(BPmax * Ch);
  k.initGemm(); // the GEMM's packing buffers, last: memory never grows after this

  const p = (name: string): number => paramsPtr + offsets[name]! * 4;
  const g = (name: string): number => gradsPtr + offsets[name]! * 4;

  function forward(n: number): void {
    const BP = n * P;
    const R = n * D;
    k.patchify(imagesPtr, xp, n, s.patchSize, IMG);
    k.gemm(BP, D, pp, xp, pp, 1, p('embed.weight'), D, 1, h0, D, 2, p('embed.bias'));
    let h = h0;
    for (let i = 0; i < s.blocks; i++) {
      const b = blk[i]!;
      const pre = `blocks.${i}.`;
      const last = i === s.blocks - 1;
      let u = h;
      if (ln) {
        k.layerNormForward(h, b.U1, p(`${pre}norm1.weight`), p(`${pre}norm1.bias`), b.m1, b.r1, BP, D, LN_EPS);
        u = b.U1;
      }
      // TZ[Th][R] = Wt1^T U + bt1[row]; Hmid[P][R] = Wt2^T TG + bt2[row]
      k.gemm(Th, R, P, p(`${pre}token_mlp.fc1.weight`), 1, Th, u, R, 1, b.TZ, R, 3, p(`${pre}token_mlp.fc1.bias`));
      if (act) activate(b.TZ, b.TG, Th * R);
      k.gemm(P, R, Th, p(`${pre}token_mlp.fc2.weight`), 1, P, b.TG, R, 1, b.Hmid, R, 3, p(`${pre}token_mlp.fc2.bias`));
      if (res) k.addInto(b.Hmid, h, BP * D);
      u = b.Hmid;
      if (ln) {
        k.layerNormForward(b.Hmid, b.U2, p(`${pre}norm2.weight`), p(`${pre}norm2.bias`), b.m2, b.r2, BP, D, LN_EPS);
        u = b.U2;
      }
      k.gemm(BP, Ch, D, u, D, 1, p(`${pre}channel_mlp.fc1.weight`), Ch, 1, b.CZ, Ch, 2, p(`${pre}channel_mlp.fc1.bias`));
      if (last && geluMean) {
        k.geluMeanForward(b.CZ, gbar, P, n * Ch);
      } else if (act) {
        activate(b.CZ, b.CG, BP * Ch);
      }
      if (last && meanFc2) {
        if (!geluMean) k.patchMean(b.CG, gbar, P, n * Ch, 1 / P);
        k.gemm(n, D, Ch, gbar, Ch, 1, p(`${pre}channel_mlp.fc2.weight`), D, 1, hbar, D, 2, p(`${pre}channel_mlp.fc2.bias`));
      } else {
        k.gemm(BP, D, Ch, b.CG, Ch, 1, p(`${pre}channel_mlp.fc2.weight`), D, 1, b.Hout, D, 2, p(`${pre}channel_mlp.fc2.bias`));
        if (res) k.addInto(b.Hout, b.Hmid, BP * D);
      }
      h = b.Hout;
    }
    if (!meanFc2) {
      let hf = h;
      if (ln) {
        k.layerNormForward(h, hF, p('norm.weight'), p('norm.bias'), mF, rF, BP, D, LN_EPS);
        hf = hF;
      }
      k.patchMean(hf, hbar, P, R, 1 / P);
    }
    k.headForward(hbar, p('head.weight'), p('head.bias'), logitsPtr, n, D, NC);
  }

  function forwardBackward(n: number, gradScale: number, labelSmoothing = 0): { lossSum: number; correct: number } {
    forward(n);
    const BP = n * P;
    const R = n * D;
    // LayerNorm `norm` backward from dU into dH, added to dH (the residual path's gradient) when `accumulate`
    const normBackward = (norm: string, x: number, mean: number, rstd: number, accumulate: boolean) =>
      k.layerNormBackward(x, dU, p(`${norm}.weight`), mean, rstd, dH, g(`${norm}.weight`), g(`${norm}.bias`), BP, D, accumulate ? 1 : 0);
    const lossSum = k.softmaxCrossEntropy(logitsPtr, labelsPtr, dLogits, n, NC, gradScale, labelSmoothing);
    const correct = k.correctCount();
    k.headBackward(hbar, p('head.weight'), dLogits, g('head.weight'), g('head.bias'), dHbar, n, D, NC);
    if (meanFc2) {
      const i = s.blocks - 1;
      const b = blk[i]!;
      const cm = `blocks.${i}.channel_mlp.`;
      k.gemm(Ch, D, n, gbar, 1, Ch, dHbar, D, 1, g(`${cm}fc2.weight`), D, 0, 0);
      k.colSum(dHbar, n, D, g(`${cm}fc2.bias`));
      k.gemm(n, Ch, D, dHbar, D, 1, p(`${cm}fc2.weight`), 1, D, dGbar, Ch, 0, 0);
      k.broadcastMulColSum(dGbar, act ? b.CZ : 0, dC, P, n * Ch, Ch, 1 / P, g(`${cm}fc1.bias`));
    } else {
      k.broadcastMulColSum(dHbar, 0, ln ? dU : dH, P, R, D, 1 / P, 0);
      if (ln) normBackward('norm', hLast, mF, rF, false);
    }
    // Invariant at each block's end: dH = dLoss/dHout (in the meanFc2 case dC is ready instead).
    for (let i = s.blocks - 1; i >= 0; i--) {
      const b = blk[i]!;
      const pre = `blocks.${i}.`;
      const hin = i === 0 ? h0 : blk[i - 1]!.Hout;
      const cm = `${pre}channel_mlp.`;
      const tm = `${pre}token_mlp.`;
      if (!(meanFc2 && i === s.blocks - 1)) {
        k.gemm(BP, Ch, D, dH, D, 1, p(`${cm}fc2.weight`), 1, D, dC, Ch, 0, 0); // dCG = dH Wc2^T
        k.gemm(Ch, D, BP, b.CG, 1, Ch, dH, D, 1, g(`${cm}fc2.weight`), D, 0, 0); // dWc2 = CG^T dH
        k.colSum(dH, BP, D, g(`${cm}fc2.bias`));
        k.mulColSum(dC, act ? b.CZ : 0, BP, Ch, g(`${cm}fc1.bias`)); // dCZ, dbc1
      }
      const u2 = ln ? b.U2 : b.Hmid;
      k.gemm(D, Ch, BP, u2, 1, D, dC, Ch, 1, g(`${cm}fc1.weight`), Ch, 0, 0);
      if (ln) {
        k.gemm(BP, D, Ch, dC, Ch, 1, p(`${cm}fc1.weight`), 1, Ch, dU, D, 0, 0);
        normBackward(`${pre}norm2`, b.Hmid, b.m2, b.r2, res);
      } else {
        k.gemm(BP, D, Ch, dC, Ch, 1, p(`${cm}fc1.weight`), 1, Ch, dH, D, res ? 1 : 0, 0);
      }
      k.mulRowSum(dH, 0, P, R, g(`${tm}fc2.bias`));
      k.gemm(Th, P, R, b.TG, R, 1, dH, 1, R, g(`${tm}fc2.weight`), P, 0, 0);
      k.gemm(Th, R, P, p(`${tm}fc2.weight`), P, 1, dH, R, 1, dT, R, 0, 0);
      k.mulRowSum(dT, act ? b.TZ : 0, Th, R, g(`${tm}fc1.bias`));
      const u1 = ln ? b.U1 : hin;
      k.gemm(P, Th, R, u1, R, 1, dT, 1, R, g(`${tm}fc1.weight`), Th, 0, 0);
      if (ln) {
        k.gemm(P, R, Th, p(`${tm}fc1.weight`), Th, 1, dT, R, 1, dU, R, 0, 0);
        normBackward(`${pre}norm1`, hin, b.m1, b.r1, res);
      } else {
        k.gemm(P, R, Th, p(`${tm}fc1.weight`), Th, 1, dT, R, 1, dH, R, res ? 1 : 0, 0);
      }
    }
    k.gemm(pp, D, BP, xp, 1, pp, dH, D, 1, g('embed.weight'), D, 0, 0);
    k.colSum(dH, BP, D, g('embed.bias'));
    return { lossSum, correct };
  }

  return {
    blockLength,
    offsets,
    paramsPtr,
    gradsPtr,
    stagingPtr,
    mPtr,
    vPtr,
    imagesPtr,
    labelsPtr,
    logitsPtr,
    forward,
    forwardBackward,
    accumulate: () => k.addInto(gradsPtr, stagingPtr, blockLength),
    adam: (lr, beta1, beta2, epsilon, bc1, bc2) =>
      k.adam(paramsPtr, gradsPtr, mPtr, vPtr, blockLength, lr, beta1, beta2, epsilon, bc1, bc2),
    sgd: (lr, momentum, undamped, nesterov, first) =>
      k.sgd(paramsPtr, gradsPtr, mPtr, blockLength, lr, momentum, undamped, nesterov, first),
  };
}
