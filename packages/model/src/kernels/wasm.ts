import { FmnistModelError } from '../errors';
import { MIXER_WASM_BASE64, MIXER_WASM_RELAXED_BASE64 } from './generated/mixer-wasm';

/**
 * The kernels modules: `mixer` (assembly/mixer/kernels.ts, building blocks for every config, the patch-MLP included).
 * @internal
 */
export type KernelsModule = 'mixer';

/**
 * The two builds of each module: `simd` (multiply, then add) and `relaxed-simd` (the GEMM's inner loop as fused
 * multiply-adds, `f32x4.relaxed_madd`: one rounding instead of two, so results differ in the last bits, and faster
 * where the CPU has FMA). @internal
 */
export type KernelsBuild = 'simd' | 'relaxed-simd';

const BASE64: Record<KernelsModule, Record<KernelsBuild, string>> = {
  mixer: { simd: MIXER_WASM_BASE64, 'relaxed-simd': MIXER_WASM_RELAXED_BASE64 },
};

const decoded = new Map<string, Uint8Array<ArrayBuffer>>();

/**
 * The bytes of one build of a kernels module, decoded from its generated base64 once per thread.
 * @internal
 */
export function kernelsModuleBytes(which: KernelsModule, build: KernelsBuild): Uint8Array<ArrayBuffer> {
  const key = `${which}/${build}`;
  let bytes = decoded.get(key);
  if (!bytes) {
    const text = atob(BASE64[which][build]);
    bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    decoded.set(key, bytes);
  }
  return bytes;
}

let chosen: KernelsBuild | undefined;

/**
 * The kernels build this process uses, chosen once: `relaxed-simd` when the runtime validates relaxed-SIMD modules
 * (Chromium, Node ≥ 22, or Node 20 started with `--experimental-wasm-relaxed-simd`), otherwise `simd`. The environment
 * variable `FMNIST_WASM_SIMD` (`simd`, `relaxed-simd` or `auto`) overrides the choice in Node, e.g. to compare both or
 * to reproduce a run of the other build bit for bit.
 *
 * @throws FmnistModelError `E_BACKEND` for an unknown `FMNIST_WASM_SIMD`, or `relaxed-simd` asked of a runtime without it
 * @internal
 */
export function kernelsBuild(): KernelsBuild {
  if (chosen) return chosen;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FMNIST_WASM_SIMD;
  if (env !== undefined && env !== '' && env !== 'auto' && env !== 'simd' && env !== 'relaxed-simd') {
    throw new FmnistModelError('E_BACKEND', `FMNIST_WASM_SIMD is ${JSON.stringify(env)}; use simd, relaxed-simd or auto (the default).`);
  }
  if (env === 'simd') {
    chosen = 'simd';
    return chosen;
  }
  const relaxedValid = typeof WebAssembly !== 'undefined' && WebAssembly.validate(kernelsModuleBytes('mixer', 'relaxed-simd'));
  if (env === 'relaxed-simd' && !relaxedValid) {
    throw new FmnistModelError(
      'E_BACKEND',
      'FMNIST_WASM_SIMD=relaxed-simd, but this runtime has no relaxed SIMD: use Node ≥ 22, start Node 20 with --experimental-wasm-relaxed-simd, or unset FMNIST_WASM_SIMD.',
    );
  }
  chosen = relaxedValid ? 'relaxed-simd' : 'simd';
  return chosen;
}

/** Imports the kernels module expects (only `env.abort`, unreachable with the build flags used). @internal */
export const KERNEL_IMPORTS = {
  env: {
    abort(): never {
      throw new Error('wasm kernels aborted');
    },
  },
};

const compiled = new Map<KernelsModule, Promise<WebAssembly.Module>>();

/**
 * Compiles a kernels module once per thread (decoded from its generated base64 module), in the {@link kernelsBuild}.
 * @throws FmnistModelError `E_BACKEND` when this runtime lacks WebAssembly SIMD
 * @internal
 */
export function compileKernels(which: KernelsModule): Promise<WebAssembly.Module> {
  let module = compiled.get(which);
  if (!module) {
    module = (async () => {
      const bytes = kernelsModuleBytes(which, kernelsBuild());
      if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) {
        throw new FmnistModelError(
          'E_BACKEND',
          'The wasm-simd kernels need WebAssembly with SIMD (Node 16.4+ or a current browser); use a tfjs backend instead.',
        );
      }
      return WebAssembly.compile(bytes);
    })();
    compiled.set(which, module);
  }
  return module;
}
