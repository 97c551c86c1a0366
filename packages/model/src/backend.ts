import * as tf from '@tensorflow/tfjs';
import { FmnistModelError } from './errors';

/**
 * Compute backends for training and inference:
 * - `kernels` — our WebAssembly-SIMD kernels, data-parallel over worker threads (the one-block patch-MLP only);
 * - `tensorflow` — `@tensorflow/tfjs-node` (native libtensorflow), when installed and loadable;
 * - `wasm` — `@tensorflow/tfjs-backend-wasm` (single-threaded in Node);
 * - `cpu` — TensorFlow.js's plain JavaScript backend;
 * - `auto` — `kernels` when the model fits them, else `tensorflow`, else `wasm`, else `cpu`.
 */
export type BackendName = 'auto' | 'kernels' | 'tensorflow' | 'wasm' | 'cpu';

/** A TensorFlow.js backend name. */
export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

let tfjsNodeTried: Promise<boolean> | undefined;

/**
 * Loads `@tensorflow/tfjs-node` if it is installed and its native library loads. Never throws.
 * @returns whether the `tensorflow` backend is now registered
 */
export function tryLoadTfjsNode(): Promise<boolean> {
  tfjsNodeTried ??= (async () => {
    try {
      await import(/* @vite-ignore */ '@tensorflow/tfjs-node' as string);
      return tf.findBackendFactory('tensorflow') !== null;
    } catch {
      return false;
    }
  })();
  return tfjsNodeTried;
}

let wasmLoaded: Promise<void> | undefined;

async function loadWasmBackend(): Promise<void> {
  wasmLoaded ??= import('@tensorflow/tfjs-backend-wasm').then(() => undefined);
  await wasmLoaded;
}

/**
 * Makes `name` the active TensorFlow.js backend, falling back along `tensorflow` → `wasm` → `cpu` when `name` is
 * `'auto'`.
 *
 * @param name - the backend wanted
 * @returns the backend actually active
 * @throws FmnistModelError `E_BACKEND` when an explicitly requested backend cannot be used, with every cause
 *
 * @example
 * ```ts
 * await useTfjsBackend('auto'); // 'tensorflow' with tfjs-node installed, else 'wasm'
 * ```
 */
export async function useTfjsBackend(name: TfjsBackendName | 'auto'): Promise<TfjsBackendName> {
  // Production mode: no debug checks, and no "install tfjs-node" banner on the cpu backend (the README says how).
  // Set here rather than at import, so importing this package changes nothing in the user's TensorFlow.js.
  tf.enableProdMode();
  const order: TfjsBackendName[] = name === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [name];
  const causes: string[] = [];
  for (const candidate of order) {
    try {
      if (candidate === 'tensorflow' && !(await tryLoadTfjsNode())) {
        causes.push(
          'tensorflow: @tensorflow/tfjs-node is not installed or its native library did not load (npm install @tensorflow/tfjs-node; it needs Node ≤ 20 prebuilt binaries or a build from source)',
        );
        continue;
      }
      if (candidate === 'wasm') await loadWasmBackend();
      if (tf.getBackend() !== candidate) {
        const ok = await tf.setBackend(candidate);
        if (!ok) {
          causes.push(`${candidate}: failed to initialise`);
          continue;
        }
      }
      await tf.ready();
      return candidate;
    } catch (err) {
      causes.push(`${candidate}: ${(err as Error).message}`);
    }
  }
  throw new FmnistModelError('E_BACKEND', `No usable TensorFlow.js backend for '${name}':\n${causes.map((c) => `  - ${c}`).join('\n')}`);
}

export { tf };
