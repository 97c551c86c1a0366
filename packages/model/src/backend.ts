import { FmnistModelError } from './errors';

/**
 * Compute backends for training and inference:
 * - `kernels` — our WebAssembly-SIMD kernels, data-parallel over worker threads (every config with 10 classes);
 * - `tensorflow` — `@tensorflow/tfjs-node` (native libtensorflow), when installed and loadable;
 * - `wasm` — `@tensorflow/tfjs-backend-wasm` (single-threaded in Node);
 * - `cpu` — TensorFlow.js's plain JavaScript backend;
 * - `auto` — `kernels` when the model fits them, else `tensorflow`, else `wasm`, else `cpu`.
 *
 * The last three need TensorFlow.js, an optional peer dependency: install `@tensorflow/tfjs` (plus
 * `@tensorflow/tfjs-backend-wasm` for `wasm`, `@tensorflow/tfjs-node` for `tensorflow`). It is loaded only when one of
 * them is used.
 */
export type BackendName = 'auto' | 'kernels' | 'tensorflow' | 'wasm' | 'cpu';

/** A TensorFlow.js backend name. */
export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

/** The `@fmnist/model/tfjs` entry, as the main entry loads it on demand. */
export type TfjsModule = typeof import('./tfjs');

/** The optional peers, in the order a missing one is reported (the most specific name first). */
const TFJS_PACKAGES = ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs'] as const;

/**
 * The optional-peer package whose absence made `err` (a failed `import`/`require`), or null for any other error.
 * @internal
 */
export function missingTfjsPackage(err: unknown): (typeof TFJS_PACKAGES)[number] | null {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return null;
  const message = String(e.message);
  // Node's ESM and CJS loaders set a code; Vite's module runner (vitest, vite-node) only says `Could not resolve "x"`.
  const notFound = e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND' || message.startsWith('Could not resolve "');
  if (!notFound) return null;
  return TFJS_PACKAGES.find((name) => message.includes(`'${name}'`) || message.includes(`"${name}"`)) ?? null;
}

/** What each backend needs installed, for the error message. */
function installHint(backend: string): string {
  if (backend === 'wasm') return 'npm install @tensorflow/tfjs @tensorflow/tfjs-backend-wasm';
  if (backend === 'tensorflow') return 'npm install @tensorflow/tfjs-node';
  return 'npm install @tensorflow/tfjs';
}

/**
 * The error for a TensorFlow.js backend whose package is not installed.
 * @internal
 */
export function backendUnavailable(backend: string, pkg: string, cause?: unknown, reason?: string): FmnistModelError {
  return new FmnistModelError(
    'E_BACKEND_UNAVAILABLE',
    `backend '${backend}'${reason ? ` (${reason})` : ''} needs ${pkg}, which is not installed (it is an optional peer dependency of @fmnist/model). ` +
      `Install it with \`${installHint(backend)}\`, or use backend 'kernels' (the default for 10-class models), which needs nothing.`,
    { cause },
  );
}

/**
 * Loads `@fmnist/model/tfjs` (and with it TensorFlow.js) on first use; the module cache makes later calls cheap.
 *
 * @param backend - the backend it is loaded for, named in the error
 * @param reason - why TensorFlow.js is needed, when `backend` alone does not say (`'auto'`)
 * @param load - how to import the entry (tests pass a failing one)
 * @returns the entry's exports
 * @throws FmnistModelError `E_BACKEND_UNAVAILABLE` when `@tensorflow/tfjs` is not installed
 * @internal
 */
export async function loadTfjs(
  backend: string,
  reason?: string,
  load: () => Promise<TfjsModule> = () => import('./tfjs'),
): Promise<TfjsModule> {
  try {
    return await load();
  } catch (err) {
    const pkg = missingTfjsPackage(err);
    if (pkg !== null) throw backendUnavailable(backend, pkg, err, reason);
    throw err;
  }
}

/**
 * Loads `@tensorflow/tfjs-node` if it and TensorFlow.js are installed and its native library loads. Never throws. This
 * is the only way the main entry reaches TensorFlow.js without a TensorFlow.js backend being asked for.
 *
 * @returns whether the `tensorflow` backend is now registered
 *
 * @example
 * ```ts
 * const backend = (await tryLoadTfjsNode()) ? 'tensorflow' : 'kernels';
 * ```
 */
export async function tryLoadTfjsNode(): Promise<boolean> {
  try {
    return await (await loadTfjs('tensorflow')).tryLoadTfjsNode();
  } catch {
    return false;
  }
}
