import { cpus } from 'node:os';
import { type BackendName, loadTfjs, type TfjsBackendName } from './backend';
import type { ModelConfig } from './config';
import type { ParamSet, TrainEngine } from './engine';
import { FmnistModelError } from './errors';

/**
 * True when the WebAssembly-SIMD kernels can train this config: every valid config with 10 classes (the patch-MLP and
 * the MLP-Mixer presets run on the same kernels).
 *
 * @param config - a full config
 * @returns whether `backend: 'kernels'` can train it
 */
export function kernelsSupport(config: ModelConfig): boolean {
  return config.numClasses === 10;
}

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** @defaultValue `'auto'` */
  backend?: BackendName;
  /** Threads for the `kernels` backend. @defaultValue the number of CPU cores */
  threads?: number;
  /** Largest batch `trainStep` will get. @defaultValue 256 */
  maxBatch?: number;
}

/**
 * Creates the engine that will run a model: `kernels` when they support the config (unless another backend is asked
 * for), otherwise TensorFlow.js (`tensorflow` → `wasm` → `cpu`), which is imported only then.
 * @throws FmnistModelError `E_BACKEND_UNAVAILABLE` when a TensorFlow.js backend is needed and its package is not
 * installed, `E_BACKEND` for an unknown or unusable backend
 * @internal
 */
export async function createEngine(config: ModelConfig, params: ParamSet, options: EngineOptions = {}): Promise<TrainEngine> {
  const backend = options.backend ?? 'auto';
  const threads = options.threads ?? Math.max(1, cpus().length);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`'threads' must be a positive integer, got ${threads}.`);
  if (backend === 'kernels' || (backend === 'auto' && kernelsSupport(config))) {
    if (!kernelsSupport(config)) {
      throw new FmnistModelError(
        'E_BACKEND',
        `backend 'kernels' supports only 10 classes (got numClasses ${config.numClasses}); use backend 'auto', 'wasm', 'cpu' or 'tensorflow' for this config.`,
      );
    }
    const { createMixerKernelEngine } = await import('./kernels');
    return createMixerKernelEngine({ config, threads, maxBatch: options.maxBatch, params });
  }
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(backend)) {
    throw new FmnistModelError('E_BACKEND', `Unknown backend '${backend}'. Choose auto, kernels, tensorflow, wasm or cpu.`);
  }
  const { createTfjsEngine } = await loadTfjs(
    backend,
    backend === 'auto' ? `the kernels support only 10 classes, this config has numClasses ${config.numClasses}` : undefined,
  );
  return createTfjsEngine(config, params, { backend: backend as TfjsBackendName | 'auto' });
}
