import { FmnistModelError } from '../errors';
import { KERNELS_WASM_BASE64 } from './generated/kernels-wasm';

/**
 * The exports of the kernels module (assembly/index.ts). Pointers are byte offsets into `memory`.
 * @internal
 */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  init(maxImages: number): void;
  forward(n: number): void;
  forwardBackward(n: number, gradScale: number): number;
  correctCount(): number;
  accumulateGradients(): void;
  adamUpdate(lr: number, beta1: number, beta2: number, epsilon: number, biasCorrection1: number, biasCorrection2: number): void;
  paramBlockLength(): number;
  paramOffset(tensor: number): number;
  paramSize(tensor: number): number;
  batchCapacity(): number;
  paramsPtr(): number;
  gradsPtr(): number;
  gradStagingPtr(): number;
  adamMPtr(): number;
  adamVPtr(): number;
  imagesPtr(): number;
  labelsPtr(): number;
  logitsPtr(): number;
}

/** Imports the kernels module expects (only `env.abort`, unreachable with the build flags used). */
export const KERNEL_IMPORTS = {
  env: {
    abort(): never {
      throw new Error('wasm kernels aborted');
    },
  },
};

let wasmBytes: Uint8Array<ArrayBuffer> | undefined;
let wasmModule: Promise<WebAssembly.Module> | undefined;

/**
 * The kernels' WebAssembly binary (decoded once from the generated base64 module).
 * @internal
 */
export function kernelsWasmBytes(): Uint8Array<ArrayBuffer> {
  if (!wasmBytes) {
    const text = atob(KERNELS_WASM_BASE64);
    wasmBytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) wasmBytes[i] = text.charCodeAt(i);
  }
  return wasmBytes;
}

/**
 * Compiles the kernels once per thread.
 * @throws FmnistModelError `E_BACKEND` when this runtime lacks WebAssembly SIMD
 * @internal
 */
export function compileKernels(): Promise<WebAssembly.Module> {
  wasmModule ??= (async () => {
    const bytes = kernelsWasmBytes();
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) {
      throw new FmnistModelError(
        'E_BACKEND',
        'The wasm-simd kernels need WebAssembly with SIMD (Node 16.4+ or a current browser); use a tfjs backend instead.',
      );
    }
    return WebAssembly.compile(bytes);
  })();
  return wasmModule;
}

/**
 * A fresh kernels instance with buffers for batches of up to `maxImages` images.
 * @internal
 */
export async function instantiateKernels(maxImages: number): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(await compileKernels(), KERNEL_IMPORTS);
  const exports = instance.exports as unknown as KernelExports;
  exports.init(maxImages);
  return exports;
}
