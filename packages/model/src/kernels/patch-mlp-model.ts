import type { ModelConfig } from '../config';
import type { KernelCompute, KernelModel, TensorSpec } from './core';

/**
 * The parameters of the one-block patch-MLP the fused kernels implement, in the order of the wasm parameter block.
 * Linear weights are `[in, out]`. `token_mlp.fc1` maps the 49 patches of one channel to 128: `t = hᵀ W + b`.
 */
export const KERNEL_PARAM_SHAPES: ReadonlyArray<readonly [name: string, shape: readonly number[]]> = [
  ['embed.weight', [16, 128]],
  ['embed.bias', [128]],
  ['blocks.0.token_mlp.fc1.weight', [49, 128]],
  ['blocks.0.token_mlp.fc1.bias', [128]],
  ['blocks.0.token_mlp.fc2.weight', [128, 49]],
  ['blocks.0.token_mlp.fc2.bias', [49]],
  ['blocks.0.channel_mlp.fc1.weight', [128, 128]],
  ['blocks.0.channel_mlp.fc1.bias', [128]],
  ['blocks.0.channel_mlp.fc2.weight', [128, 128]],
  ['blocks.0.channel_mlp.fc2.bias', [128]],
  ['head.weight', [128, 10]],
  ['head.bias', [10]],
];

/**
 * The exports of the patch-MLP kernels module (assembly/index.ts). Pointers are byte offsets into `memory`.
 * @internal
 */
export interface PatchMlpExports {
  readonly memory: WebAssembly.Memory;
  init(maxImages: number): void;
  forward(n: number): void;
  forwardBackward(n: number, gradScale: number): number;
  correctCount(): number;
  accumulateGradients(): void;
  adamUpdate(lr: number, beta1: number, beta2: number, epsilon: number, bc1: number, bc2: number): void;
  paramBlockLength(): number;
  paramOffset(tensor: number): number;
  paramSize(tensor: number): number;
  paramsPtr(): number;
  gradsPtr(): number;
  gradStagingPtr(): number;
  adamMPtr(): number;
  adamVPtr(): number;
  imagesPtr(): number;
  labelsPtr(): number;
  logitsPtr(): number;
}

/**
 * The {@link KernelCompute} of a patch-MLP instance: the module allocates its own buffers (`init`) and runs the whole
 * step; this only names them. Self-contained (embedded in the workers by `toString()`).
 * @internal
 */
export function createPatchMlpCompute(k: PatchMlpExports, shape: { tensors: TensorSpec[] }, capacity: number): KernelCompute {
  k.init(capacity);
  const offsets: Record<string, number> = {};
  shape.tensors.forEach(({ name, size }, i) => {
    if (k.paramSize(i) !== size) throw new Error(`wasm kernels disagree on the size of ${name}`);
    offsets[name] = k.paramOffset(i);
  });
  return {
    blockLength: k.paramBlockLength(),
    offsets,
    paramsPtr: k.paramsPtr(),
    gradsPtr: k.gradsPtr(),
    stagingPtr: k.gradStagingPtr(),
    mPtr: k.adamMPtr(),
    vPtr: k.adamVPtr(),
    imagesPtr: k.imagesPtr(),
    labelsPtr: k.labelsPtr(),
    logitsPtr: k.logitsPtr(),
    forward: k.forward,
    forwardBackward: (n, gradScale) => ({ lossSum: k.forwardBackward(n, gradScale), correct: k.correctCount() }),
    accumulate: k.accumulateGradients,
    adam: k.adamUpdate,
  };
}

/**
 * The one-block patch-MLP on its fused kernels (the `seed` and `patch-mlp` presets).
 * @internal
 */
export const PATCH_MLP: KernelModel<PatchMlpExports> = {
  module: 'patch-mlp',
  shape: {
    tensors: KERNEL_PARAM_SHAPES.map(([name, shape]) => ({
      name,
      shape: [...shape],
      size: shape.reduce((a, b) => a * b, 1),
      weight: shape.length === 2,
    })),
  },
  createCompute: createPatchMlpCompute,
};

/**
 * True when the fused WebAssembly-SIMD patch-MLP kernels implement this config: the coursework architecture (4×4
 * patches, width 128, one block, GELU, no norm, no residual, 10 classes), i.e. the `seed` and `patch-mlp` presets.
 * @internal
 */
export function isPatchMlp(config: ModelConfig): boolean {
  return (
    config.patchSize === 4 &&
    config.dim === 128 &&
    config.tokenHidden === 128 &&
    config.channelHidden === 128 &&
    config.blocks === 1 &&
    config.activation === 'gelu' &&
    config.norm === 'none' &&
    !config.residual &&
    config.numClasses === 10
  );
}
