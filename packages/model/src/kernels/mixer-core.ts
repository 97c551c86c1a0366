import { type ModelConfig, paramSpecs } from '../config';
import { type AdamOptions, type AdamState, decayWeights, type ParamSet } from '../engine';
import { FmnistModelError } from '../errors';
import { IMAGE_PIXELS, NUM_CLASSES } from './core';
import { MIXER_WASM_BASE64 } from './generated/mixer-wasm';
import { KERNEL_IMPORTS } from './wasm';

/**
 * The exports of the MLP-Mixer kernels module (assembly/mixer/kernels.ts). Pointers are byte offsets into `memory`,
 * sizes and strides are in f32 elements.
 * @internal
 */
export interface MixerKernelExports {
  readonly memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  init(): void;
  gemm(...args: number[]): void;
  act_fwd(kind: number, z: number, g: number, n: number): void;
  mul_rowsum(dG: number, d: number, rows: number, cols: number, rsum: number): void;
  mul_colsum(dG: number, d: number, rows: number, cols: number, csum: number): void;
  col_sum(x: number, rows: number, cols: number, out: number): void;
  row_sum(x: number, rows: number, cols: number, out: number): void;
  patchify(x: number, xp: number, n: number, patchSize: number, imageWidth: number): void;
  patch_mean(x: number, out: number, patches: number, r: number, scale: number): void;
  bcast_mul_colsum(dG: number, d: number, dZ: number, patches: number, r: number, cols: number, scale: number, csum: number): void;
  add_into(dst: number, src: number, n: number): void;
  ln_fwd(...args: number[]): void;
  ln_bwd(...args: number[]): void;
  head_fwd(h: number, w: number, bias: number, out: number, n: number, dim: number, classes: number): void;
  softmax_xent(logits: number, labels: number, dLogits: number, n: number, classes: number, scale: number): number;
  count_correct(logits: number, labels: number, n: number, classes: number): number;
  head_bwd(h: number, w: number, dl: number, dW: number, db: number, dh: number, n: number, dim: number, classes: number): void;
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
}

/** What the compute core needs to know about a config (plain data, so it can be posted to a worker). @internal */
export interface MixerShape {
  patchSize: number;
  dim: number;
  tokenHidden: number;
  channelHidden: number;
  blocks: number;
  /** 0 none, 1 relu, 2 gelu (the kernels' `act_fwd` kinds). */
  act: number;
  layerNorm: boolean;
  residual: boolean;
  numClasses: number;
  /** The parameter tensors in the order of {@link paramSpecs}: name, element count, and whether it is a Linear weight. */
  tensors: { name: string; size: number; weight: boolean }[];
}

/** The compute core of one wasm instance (see {@link createMixerCompute}). @internal */
export interface MixerCompute {
  blockLength: number;
  offsets: Record<string, number>;
  paramsPtr: number;
  gradsPtr: number;
  stagingPtr: number;
  mPtr: number;
  vPtr: number;
  imagesPtr: number;
  labelsPtr: number;
  logitsPtr: number;
  forward(n: number): void;
  forwardBackward(n: number, gradScale: number): { lossSum: number; correct: number };
  accumulate(): void;
}

/** The {@link MixerShape} of a config. @internal */
export function mixerShape(config: ModelConfig): MixerShape {
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
    tensors: paramSpecs(config).map((spec) => ({ name: spec.name, size: sizeOf(spec.shape), weight: spec.kind === 'weight' })),
  };
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Allocates every buffer of an MLP-Mixer for batches of up to `capacity` images in the kernels instance `k` and
 * returns the functions that sequence the kernels: forward, forward + backward, gradient accumulation.
 *
 * SELF-CONTAINED: this function references nothing outside its body, because the parallel engine's worker embeds
 * its source text (`createMixerCompute.toString()`). Keep it that way (no imports, no module constants).
 *
 * Activations are patch-major: row `p*n + b` of a `[P*n, dim]` matrix is image b, patch p, so channel MLPs and
 * LayerNorm act on rows, token mixing is a left multiplication of the same memory viewed as `[P][n*dim]` (strided
 * GEMM, parameters stay in the spec layout), and the patch mean is a sum of P slabs. The head is applied to the
 * patch mean (exact, it is affine); with no norm and no residual the mean also moves before the last channel fc2.
 * @internal
 */
export function createMixerCompute(k: MixerKernelExports, s: MixerShape, capacity: number): MixerCompute {
  const IMG = 28;
  const LN_EPS = 1e-5;
  const f4 = (n: number): number => k.alloc(Math.max(n, 4) * 4);
  const P = (IMG / s.patchSize) ** 2;
  const pp = s.patchSize * s.patchSize;
  const D = s.dim;
  const Th = s.tokenHidden;
  const Ch = s.channelHidden;
  const NC = s.numClasses;
  const ln = s.layerNorm;
  const act = s.act;
  const res = s.residual;
  const meanFc2 = !ln && !res;

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
  const labelsPtr = f4(B); // int32
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
    b.CG = act ? f4(BPmax * Ch) : b.CZ;
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
  k.init(); // internal GEMM scratch: memory never grows after this

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
        k.ln_fwd(h, b.U1, p(`${pre}norm1.weight`), p(`${pre}norm1.bias`), b.m1, b.r1, BP, D, LN_EPS);
        u = b.U1;
      }
      // TZ[Th][R] = Wt1^T U + bt1[row]; Hmid[P][R] = Wt2^T TG + bt2[row]
      k.gemm(Th, R, P, p(`${pre}token_mlp.fc1.weight`), 1, Th, u, R, 1, b.TZ, R, 3, p(`${pre}token_mlp.fc1.bias`));
      if (act) k.act_fwd(act, b.TZ, b.TG, Th * R);
      k.gemm(P, R, Th, p(`${pre}token_mlp.fc2.weight`), 1, P, b.TG, R, 1, b.Hmid, R, 3, p(`${pre}token_mlp.fc2.bias`));
      if (res) k.add_into(b.Hmid, h, BP * D);
      u = b.Hmid;
      if (ln) {
        k.ln_fwd(b.Hmid, b.U2, p(`${pre}norm2.weight`), p(`${pre}norm2.bias`), b.m2, b.r2, BP, D, LN_EPS);
        u = b.U2;
      }
      k.gemm(BP, Ch, D, u, D, 1, p(`${pre}channel_mlp.fc1.weight`), Ch, 1, b.CZ, Ch, 2, p(`${pre}channel_mlp.fc1.bias`));
      if (act) k.act_fwd(act, b.CZ, b.CG, BP * Ch);
      if (last && meanFc2) {
        k.patch_mean(b.CG, gbar, P, n * Ch, 1 / P);
        k.gemm(n, D, Ch, gbar, Ch, 1, p(`${pre}channel_mlp.fc2.weight`), D, 1, hbar, D, 2, p(`${pre}channel_mlp.fc2.bias`));
      } else {
        k.gemm(BP, D, Ch, b.CG, Ch, 1, p(`${pre}channel_mlp.fc2.weight`), D, 1, b.Hout, D, 2, p(`${pre}channel_mlp.fc2.bias`));
        if (res) k.add_into(b.Hout, b.Hmid, BP * D);
      }
      h = b.Hout;
    }
    if (!meanFc2) {
      let hf = h;
      if (ln) {
        k.ln_fwd(h, hF, p('norm.weight'), p('norm.bias'), mF, rF, BP, D, LN_EPS);
        hf = hF;
      }
      k.patch_mean(hf, hbar, P, R, 1 / P);
    }
    k.head_fwd(hbar, p('head.weight'), p('head.bias'), logitsPtr, n, D, NC);
  }

  function forwardBackward(n: number, gradScale: number): { lossSum: number; correct: number } {
    forward(n);
    const BP = n * P;
    const R = n * D;
    const lossSum = k.softmax_xent(logitsPtr, labelsPtr, dLogits, n, NC, gradScale);
    const correct = k.count_correct(logitsPtr, labelsPtr, n, NC);
    k.head_bwd(hbar, p('head.weight'), dLogits, g('head.weight'), g('head.bias'), dHbar, n, D, NC);
    if (meanFc2) {
      const i = s.blocks - 1;
      const b = blk[i]!;
      const cm = `blocks.${i}.channel_mlp.`;
      k.gemm(Ch, D, n, gbar, 1, Ch, dHbar, D, 1, g(`${cm}fc2.weight`), D, 0, 0);
      k.col_sum(dHbar, n, D, g(`${cm}fc2.bias`));
      k.gemm(n, Ch, D, dHbar, D, 1, p(`${cm}fc2.weight`), 1, D, dGbar, Ch, 0, 0);
      k.bcast_mul_colsum(dGbar, act ? b.CZ : 0, dC, P, n * Ch, Ch, 1 / P, g(`${cm}fc1.bias`));
    } else {
      k.bcast_mul_colsum(dHbar, 0, ln ? dU : dH, P, R, D, 1 / P, 0);
      if (ln) k.ln_bwd(hLast, dU, p('norm.weight'), mF, rF, dH, g('norm.weight'), g('norm.bias'), BP, D, 0);
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
        k.col_sum(dH, BP, D, g(`${cm}fc2.bias`));
        k.mul_colsum(dC, act ? b.CZ : 0, BP, Ch, g(`${cm}fc1.bias`)); // dCZ, dbc1
      }
      const u2 = ln ? b.U2 : b.Hmid;
      k.gemm(D, Ch, BP, u2, 1, D, dC, Ch, 1, g(`${cm}fc1.weight`), Ch, 0, 0);
      if (ln) {
        k.gemm(BP, D, Ch, dC, Ch, 1, p(`${cm}fc1.weight`), 1, Ch, dU, D, 0, 0);
        k.ln_bwd(b.Hmid, dU, p(`${pre}norm2.weight`), b.m2, b.r2, dH, g(`${pre}norm2.weight`), g(`${pre}norm2.bias`), BP, D, res ? 1 : 0);
      } else {
        k.gemm(BP, D, Ch, dC, Ch, 1, p(`${cm}fc1.weight`), 1, Ch, dH, D, res ? 1 : 0, 0);
      }
      k.row_sum(dH, P, R, g(`${tm}fc2.bias`));
      k.gemm(Th, P, R, b.TG, R, 1, dH, 1, R, g(`${tm}fc2.weight`), P, 0, 0);
      k.gemm(Th, R, P, p(`${tm}fc2.weight`), P, 1, dH, R, 1, dT, R, 0, 0);
      k.mul_rowsum(dT, act ? b.TZ : 0, Th, R, g(`${tm}fc1.bias`));
      const u1 = ln ? b.U1 : hin;
      k.gemm(P, Th, R, u1, R, 1, dT, 1, R, g(`${tm}fc1.weight`), Th, 0, 0);
      if (ln) {
        k.gemm(P, R, Th, p(`${tm}fc1.weight`), Th, 1, dT, R, 1, dU, R, 0, 0);
        k.ln_bwd(hin, dU, p(`${pre}norm1.weight`), b.m1, b.r1, dH, g(`${pre}norm1.weight`), g(`${pre}norm1.bias`), BP, D, res ? 1 : 0);
      } else {
        k.gemm(P, R, Th, p(`${tm}fc1.weight`), Th, 1, dT, R, 1, dH, R, res ? 1 : 0, 0);
      }
    }
    k.gemm(pp, D, BP, xp, 1, pp, dH, D, 1, g('embed.weight'), D, 0, 0);
    k.col_sum(dH, BP, D, g('embed.bias'));
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
    accumulate: () => k.add_into(gradsPtr, stagingPtr, blockLength),
  };
}

let mixerModule: Promise<WebAssembly.Module> | undefined;

/**
 * Compiles the MLP-Mixer kernels once per thread.
 * @throws FmnistModelError `E_BACKEND` when this runtime lacks WebAssembly SIMD
 * @internal
 */
export function compileMixerKernels(): Promise<WebAssembly.Module> {
  mixerModule ??= (async () => {
    const text = atob(MIXER_WASM_BASE64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) {
      throw new FmnistModelError(
        'E_BACKEND',
        'The wasm-simd kernels need WebAssembly with SIMD (Node 16.4+ or a current browser); use a tfjs backend instead.',
      );
    }
    return WebAssembly.compile(bytes);
  })();
  return mixerModule;
}

/**
 * One MLP-Mixer kernels instance with its parameters, gradients and Adam state (the main-thread side of the mixer
 * engines; workers run {@link createMixerCompute} directly).
 * @internal
 */
export class MixerCore {
  /** Adam updates applied so far. */
  step = 0;
  /** `[offset, length]` of the Linear weight matrices (what AdamW's weight decay touches). */
  private readonly decayed: [number, number][];

  private constructor(
    private readonly k: MixerKernelExports,
    private readonly c: MixerCompute,
    private readonly shape: MixerShape,
    /** Images one call can process. */
    readonly capacity: number,
  ) {
    this.decayed = shape.tensors.flatMap((t) => (t.weight ? [[c.offsets[t.name] as number, t.size]] : []));
  }

  /** A core for `config` with buffers for up to `capacity` images per call. */
  static async create(config: ModelConfig, capacity: number): Promise<MixerCore> {
    const instance = await WebAssembly.instantiate(await compileMixerKernels(), KERNEL_IMPORTS);
    const k = instance.exports as unknown as MixerKernelExports;
    const shape = mixerShape(config);
    return new MixerCore(k, createMixerCompute(k, shape, capacity), shape, capacity);
  }

  /** Length (f32s) of the padded parameter block; gradients and moments use the same layout. */
  get blockLength(): number {
    return this.c.blockLength;
  }

  private f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, length);
  }

  /** The padded parameter block, a live view into wasm memory. */
  paramBlock(): Float32Array {
    return this.f32(this.c.paramsPtr, this.blockLength);
  }

  /** Adds `grads` (a padded gradient block, e.g. another shard's) into the gradients. */
  accumulateGradients(grads: Float32Array): void {
    this.f32(this.c.stagingPtr, this.blockLength).set(grads);
    this.c.accumulate();
  }

  private readSet(ptr: number): ParamSet {
    const block = this.f32(ptr, this.blockLength);
    const out: ParamSet = {};
    for (const { name, size } of this.shape.tensors) out[name] = block.slice(this.c.offsets[name]!, this.c.offsets[name]! + size);
    return out;
  }

  private writeSet(ptr: number, set: ParamSet, what: string): void {
    for (const name of Object.keys(set)) {
      if (!(name in this.c.offsets)) throw new RangeError(`unknown ${what} tensor '${name}' for this model`);
    }
    for (const { name, size } of this.shape.tensors) {
      const values = set[name];
      if (!values) throw new RangeError(`${what} tensor '${name}' is missing`);
      if (values.length !== size) throw new RangeError(`${what} tensor '${name}' has ${values.length} values, expected ${size}`);
    }
    const block = this.f32(ptr, this.blockLength);
    for (const { name } of this.shape.tensors) block.set(set[name]!, this.c.offsets[name]!);
  }

  /** Replaces all parameters. @throws RangeError for a missing, unknown or wrongly sized tensor */
  setParams(params: ParamSet): void {
    this.writeSet(this.c.paramsPtr, params, 'parameter');
  }

  /** Copies out all parameters. */
  getParams(): ParamSet {
    return this.readSet(this.c.paramsPtr);
  }

  /** Copies out the gradients of the last {@link forwardBackward} (after any accumulation). */
  getGradients(): ParamSet {
    return this.readSet(this.c.gradsPtr);
  }

  /** Copies out Adam's state. */
  getOptimizerState(): AdamState {
    return { step: this.step, m: this.readSet(this.c.mPtr), v: this.readSet(this.c.vPtr) };
  }

  /** Replaces Adam's state. @throws RangeError for a bad step count or tensors */
  setOptimizerState(state: AdamState): void {
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new RangeError(`Adam step must be a non-negative integer, got ${state.step}`);
    this.writeSet(this.c.mPtr, state.m, 'Adam first-moment');
    this.writeSet(this.c.vPtr, state.v, 'Adam second-moment');
    this.step = state.step;
  }

  /** Copies `count` images (and labels, if given) starting at image `start` into the input buffers. */
  loadInputs(x: Float32Array, y: Uint8Array | undefined, start: number, count: number): void {
    this.f32(this.c.imagesPtr, count * IMAGE_PIXELS).set(x.subarray(start * IMAGE_PIXELS, (start + count) * IMAGE_PIXELS));
    if (y) new Int32Array(this.k.memory.buffer, this.c.labelsPtr, count).set(y.subarray(start, start + count));
  }

  /** Forward and backward over the `n` loaded images: gradients of `gradScale × Σ loss` replace the gradient block. */
  forwardBackward(n: number, gradScale: number): { lossSum: number; correct: number } {
    return this.c.forwardBackward(n, gradScale);
  }

  /** Logits of the `n` loaded images, a live view valid until the next call. */
  forward(n: number): Float32Array {
    this.c.forward(n);
    return this.f32(this.c.logitsPtr, n * NUM_CLASSES);
  }

  /** One Adam update (PyTorch semantics, bias-corrected) from the gradient block. */
  adamUpdate(adam: AdamOptions): void {
    this.step++;
    decayWeights(this.paramBlock(), this.decayed, adam);
    const { learningRate, beta1, beta2, epsilon } = adam;
    this.k.adam(
      this.c.paramsPtr,
      this.c.gradsPtr,
      this.c.mPtr,
      this.c.vPtr,
      this.blockLength,
      learningRate,
      beta1,
      beta2,
      epsilon,
      1 - beta1 ** this.step,
      1 - beta2 ** this.step,
    );
  }
}
