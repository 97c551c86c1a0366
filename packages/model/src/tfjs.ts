/**
 * `@fmnist/model/tfjs`: the TensorFlow.js engines of `@fmnist/model` — the `tensorflow` (tfjs-node), `wasm` and `cpu`
 * backends. Needs the optional peer dependencies `@tensorflow/tfjs` (and `@tensorflow/tfjs-backend-wasm` for `wasm`,
 * `@tensorflow/tfjs-node` for `tensorflow`). The main entry loads this one by itself when such a backend is asked
 * for; import it to reach TensorFlow.js directly (`tf`, {@link useTfjsBackend}, {@link createTfjsForward}).
 *
 * @packageDocumentation
 */

export type { BackendName, TfjsBackendName } from './backend';
export { tf, tryLoadTfjsNode, useTfjsBackend } from './tfjs-backend';
export { createTfjsEngine, createTfjsForward, type TfjsEngineOptions } from './tfjs-engine';
