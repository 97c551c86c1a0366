import * as tf from '@tensorflow/tfjs';
import { backendUnavailable, missingTfjsPackage, type TfjsBackendName } from './backend';
import { FmnistModelError } from './errors';

/** Outcome of loading tfjs-node: registered, or why not (`missing`: the package is not installed). */
type TfjsNodeLoad = { ok: true } | { ok: false; missing: boolean; error: unknown };

let tfjsNodeTried: Promise<TfjsNodeLoad> | undefined;

function loadTfjsNode(): Promise<TfjsNodeLoad> {
  tfjsNodeTried ??= (async (): Promise<TfjsNodeLoad> => {
    try {
      await import(/* @vite-ignore */ '@tensorflow/tfjs-node' as string);
      if (tf.findBackendFactory('tensorflow') !== null) return { ok: true };
      return { ok: false, missing: false, error: new Error('@tensorflow/tfjs-node loaded but registered no tensorflow backend') };
    } catch (error) {
      return { ok: false, missing: missingTfjsPackage(error) === '@tensorflow/tfjs-node', error };
    }
  })();
  return tfjsNodeTried;
}

/**
 * Loads `@tensorflow/tfjs-node` if it is installed and its native library loads. Never throws.
 * @returns whether the `tensorflow` backend is now registered
 *
 * @example
 * ```ts
 * import { tryLoadTfjsNode } from '@fmnist/model/tfjs';
 *
 * console.log((await tryLoadTfjsNode()) ? 'libtensorflow' : 'no tfjs-node');
 * ```
 */
export async function tryLoadTfjsNode(): Promise<boolean> {
  return (await loadTfjsNode()).ok;
}

let wasmLoaded: Promise<void> | undefined;

async function loadWasmBackend(): Promise<void> {
  wasmLoaded ??= import('@tensorflow/tfjs-backend-wasm').then(() => undefined);
  try {
    await wasmLoaded;
  } catch (err) {
    wasmLoaded = undefined; // installing the package later in the same process can still work
    throw err;
  }
}

/**
 * Makes `name` the active TensorFlow.js backend, falling back along `tensorflow` → `wasm` → `cpu` when `name` is
 * `'auto'`.
 *
 * @param name - the backend wanted
 * @returns the backend actually active
 * @throws FmnistModelError `E_BACKEND_UNAVAILABLE` when an explicitly requested backend's package is not installed
 * (`@tensorflow/tfjs-node` for `tensorflow`, `@tensorflow/tfjs-backend-wasm` for `wasm`), `E_BACKEND` when it is
 * installed but cannot be used, with every cause
 *
 * @example
 * ```ts
 * import { useTfjsBackend } from '@fmnist/model/tfjs';
 *
 * await useTfjsBackend('auto'); // 'tensorflow' with tfjs-node installed, else 'wasm' (when installed), else 'cpu'
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
      if (candidate === 'tensorflow') {
        const loaded = await loadTfjsNode();
        if (!loaded.ok) {
          if (loaded.missing && name !== 'auto') throw backendUnavailable('tensorflow', '@tensorflow/tfjs-node', loaded.error);
          causes.push(
            loaded.missing
              ? 'tensorflow: @tensorflow/tfjs-node is not installed (npm install @tensorflow/tfjs-node)'
              : `tensorflow: @tensorflow/tfjs-node did not load (${(loaded.error as Error).message?.split('\n')[0]}; it needs Node ≤ 20 prebuilt binaries or a build from source)`,
          );
          continue;
        }
      }
      if (candidate === 'wasm') {
        try {
          await loadWasmBackend();
        } catch (err) {
          if (missingTfjsPackage(err) !== '@tensorflow/tfjs-backend-wasm') throw err;
          if (name !== 'auto') throw backendUnavailable('wasm', '@tensorflow/tfjs-backend-wasm', err);
          causes.push('wasm: @tensorflow/tfjs-backend-wasm is not installed (npm install @tensorflow/tfjs-backend-wasm)');
          continue;
        }
      }
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
      if (err instanceof FmnistModelError && err.code === 'E_BACKEND_UNAVAILABLE') throw err;
      causes.push(`${candidate}: ${(err as Error).message}`);
    }
  }
  throw new FmnistModelError('E_BACKEND', `No usable TensorFlow.js backend for '${name}':\n${causes.map((c) => `  - ${c}`).join('\n')}`);
}

export { tf };
