import { FmnistModelError } from '../errors';
import { MIXER_WASM_BASE64 } from './generated/mixer-wasm';

/**
 * The kernels modules: `mixer` (assembly/mixer/kernels.ts, building blocks for every config, the patch-MLP included).
 * @internal
 */
export type KernelsModule = 'mixer';

const BASE64: Record<KernelsModule, string> = { mixer: MIXER_WASM_BASE64 };

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
 * Compiles a kernels module once per thread (decoded from its generated base64 module).
 * @throws FmnistModelError `E_BACKEND` when this runtime lacks WebAssembly SIMD
 * @internal
 */
export function compileKernels(which: KernelsModule): Promise<WebAssembly.Module> {
  let module = compiled.get(which);
  if (!module) {
    module = (async () => {
      const text = atob(BASE64[which]);
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
    compiled.set(which, module);
  }
  return module;
}
