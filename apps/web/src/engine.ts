/**
 * Running a model: on fmnist's own WebAssembly-SIMD kernels in web workers (kernels-engine.ts), or with
 * onnxruntime-web. Two onnxruntime builds are loaded on demand, each with its own WebAssembly binary served from the
 * app's assets (never a CDN): `onnxruntime-web/wasm` (CPU, SIMD, threads when the page is cross-origin isolated) and
 * `onnxruntime-web/webgpu` (the WebGPU execution provider, with its larger binary).
 */

import { checkOnnxOutput, inputDims } from '@fmnist/onnx';
import type { InferenceSession, Tensor } from 'onnxruntime-web';
import webgpuMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import webgpuWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import wasmMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import wasmWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { createKernelsEngine } from './kernels-engine';
import { softmaxRows } from './metrics';
import { type ModelInfo, ModelLoadError } from './model-info';
import { createSerialQueue } from './serial';

/**
 * How the app can run a model: `kernels` (fmnist's WebAssembly-SIMD kernels, one web worker per core), or
 * onnxruntime-web's `wasm` or `webgpu` execution provider.
 */
export type Provider = 'kernels' | 'wasm' | 'webgpu';

/** What the user picks: a provider, or `auto` (WebGPU when the browser has a hardware adapter, else the kernels). */
export type ProviderChoice = 'auto' | Provider;

/** Most wasm threads the app asks for (onnxruntime-web's own cap is 4 by default as well). */
export const MAX_WASM_THREADS = 4;

/** What the browser offers, detected once. */
export interface Capabilities {
  /** `crossOriginIsolated`: SharedArrayBuffer, hence wasm threads, are available. */
  isolated: boolean;
  /** Logical cores reported by the browser. */
  cores: number;
  /** WebAssembly SIMD support (required by onnxruntime-web). */
  simd: boolean;
  /** A hardware WebGPU adapter could be obtained (what `auto` needs to pick WebGPU). */
  webgpu: boolean;
  /** Only a software (fallback) adapter, e.g. SwiftShader: usable when picked explicitly, never by `auto`. */
  webgpuSoftware?: boolean;
  /** Why WebGPU is unavailable (or software only), when it is. */
  webgpuNote?: string;
}

/** How a session actually runs. */
export interface EngineInfo {
  provider: Provider;
  /** Workers of the kernels, wasm threads of onnxruntime (1 on WebGPU, where the wasm side only orchestrates). */
  threads: number;
  /** The provider choice that led here. */
  choice: ProviderChoice;
  /** A remark to show, e.g. why threads or WebGPU are not used. */
  note?: string;
}

/** A model loaded into a session. */
export interface Engine {
  readonly info: EngineInfo;
  readonly model: ModelInfo;
  /** Images per run the engine is fastest with when evaluating many (the Evaluate view's batch size). */
  readonly preferredBatch?: number;
  /**
   * Class probabilities for `n` images.
   *
   * @param x - at least `n × 784` floats (pixels / 255), image after image
   * @param n - images in the batch
   * @returns `n × classes` probabilities (a new array)
   */
  run(x: Float32Array, n: number): Promise<Float32Array>;
  /** Releases the session. */
  dispose(): Promise<void>;
}

type Ort = typeof import('onnxruntime-web');

const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/**
 * Detects cross-origin isolation, cores, WebAssembly SIMD and a WebGPU adapter.
 *
 * @returns the capabilities
 *
 * @example
 * ```ts
 * const caps = await detectCapabilities(); // { isolated: true, cores: 8, simd: true, webgpu: false, webgpuNote: '…' }
 * ```
 */
export async function detectCapabilities(): Promise<Capabilities> {
  const isolated = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined';
  const cores = globalThis.navigator?.hardwareConcurrency || 1;
  const simd = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  let webgpu = false;
  let webgpuSoftware = false;
  let webgpuNote: string | undefined;
  if (!gpu) webgpuNote = 'this browser has no WebGPU';
  else {
    try {
      const adapter = (await gpu.requestAdapter()) as {
        isFallbackAdapter?: boolean;
        info?: { isFallbackAdapter?: boolean; vendor?: string };
      } | null;
      if (!adapter) webgpuNote = 'WebGPU is present but offers no adapter (GPU disabled or blocklisted)';
      else if (isSoftwareAdapter(adapter)) {
        webgpuSoftware = true;
        webgpuNote = `only a software WebGPU adapter (${adapter.info?.vendor || 'fallback'}), slower than WebAssembly`;
      } else webgpu = true;
    } catch (err) {
      webgpuNote = `WebGPU adapter request failed (${(err as Error).message})`;
    }
  }
  return { isolated, cores, simd, webgpu, webgpuSoftware, webgpuNote };
}

/**
 * Whether a WebGPU adapter is a CPU emulation (SwiftShader and other fallback adapters).
 *
 * @param adapter - a `GPUAdapter`
 * @returns true for software adapters
 *
 * @example
 * ```ts
 * isSoftwareAdapter({ info: { isFallbackAdapter: false, vendor: 'google', architecture: 'swiftshader' } }); // true
 * ```
 */
export function isSoftwareAdapter(adapter: {
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean; vendor?: string; architecture?: string; description?: string };
}): boolean {
  if (adapter.info?.isFallbackAdapter || adapter.isFallbackAdapter) return true;
  const name = `${adapter.info?.vendor ?? ''} ${adapter.info?.architecture ?? ''} ${adapter.info?.description ?? ''}`;
  return /swiftshader|llvmpipe|softpipe|lavapipe|microsoft basic render/i.test(name);
}

/**
 * How many wasm threads to use: all cores up to {@link MAX_WASM_THREADS} when the page is cross-origin isolated, else 1.
 *
 * @param caps - detected capabilities
 * @returns the thread count
 *
 * @example
 * ```ts
 * wasmThreads({ isolated: true, cores: 2, simd: true, webgpu: false }); // 2
 * ```
 */
export function wasmThreads(caps: Pick<Capabilities, 'isolated' | 'cores'>): number {
  return caps.isolated ? Math.max(1, Math.min(MAX_WASM_THREADS, caps.cores)) : 1;
}

const runtimes = new Map<Provider, Promise<Ort>>();

/** Imports (once) the onnxruntime-web build for a provider and points it at our copies of its wasm files. */
function loadRuntime(provider: Provider, threads: number): Promise<Ort> {
  let runtime = runtimes.get(provider);
  if (!runtime) {
    runtime = (async () => {
      const ort: Ort =
        provider === 'webgpu' ? ((await import('onnxruntime-web/webgpu')) as unknown as Ort) : await import('onnxruntime-web/wasm');
      ort.env.logLevel = 'error';
      ort.env.wasm.wasmPaths = provider === 'webgpu' ? { mjs: webgpuMjsUrl, wasm: webgpuWasmUrl } : { mjs: wasmMjsUrl, wasm: wasmWasmUrl };
      ort.env.wasm.numThreads = threads;
      ort.env.wasm.proxy = false;
      return ort;
    })();
    runtime.catch(() => runtimes.delete(provider));
    runtimes.set(provider, runtime);
  }
  return runtime;
}

/**
 * How many kernels workers to start: one per core, up to {@link MAX_WASM_THREADS}. Unlike onnxruntime's threads they
 * need no cross-origin isolation (each worker gets its share of a batch by message).
 *
 * @param caps - detected capabilities
 * @returns the worker count
 *
 * @example
 * ```ts
 * kernelWorkers({ cores: 2 }); // 2
 * ```
 */
export function kernelWorkers(caps: Pick<Capabilities, 'cores'>): number {
  return Math.max(1, Math.min(MAX_WASM_THREADS, caps.cores));
}

/**
 * Decides the provider for a choice: `auto` → WebGPU when a hardware adapter exists, else the kernels (the fastest on
 * a CPU: see bench/app.mjs).
 *
 * @param choice - the user's choice
 * @param caps - detected capabilities
 * @returns the provider to try first
 *
 * @example
 * ```ts
 * resolveProvider('auto', { webgpu: false }); // 'kernels'
 * ```
 */
export function resolveProvider(choice: ProviderChoice, caps: Pick<Capabilities, 'webgpu'>): Provider {
  if (choice === 'auto') return caps.webgpu ? 'webgpu' : 'kernels';
  return choice;
}

async function createSession(provider: Provider, model: ModelInfo, threads: number): Promise<{ ort: Ort; session: InferenceSession }> {
  const ort = await loadRuntime(provider, threads);
  const session = await ort.InferenceSession.create(model.bytes, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
  });
  return { ort, session };
}

/**
 * Loads a validated model into the engine a choice resolves to. A WebGPU or kernels failure falls back to
 * onnxruntime's wasm, and the returned `info.note` says why.
 *
 * @param model - a model from `inspectModel`
 * @param choice - `auto`, `kernels`, `wasm` or `webgpu`
 * @param caps - from {@link detectCapabilities}
 * @returns a ready engine
 * @throws ModelLoadError `E_RUNTIME` when onnxruntime cannot load the model
 *
 * @example
 * ```ts
 * const engine = await createEngine(inspectModel(bytes, 'default.onnx'), 'auto', await detectCapabilities());
 * const probabilities = await engine.run(toModelInput(pixels), 1); // Float32Array(10)
 * ```
 */
export async function createEngine(model: ModelInfo, choice: ProviderChoice, caps: Capabilities): Promise<Engine> {
  if (!caps.simd) {
    throw new ModelLoadError(
      'E_RUNTIME',
      'This browser lacks WebAssembly SIMD, which onnxruntime-web and the kernels need. Use a current Chrome, Edge, Firefox or Safari.',
    );
  }
  const threads = wasmThreads(caps);
  let provider = resolveProvider(choice, caps);
  let note: string | undefined;
  if (provider === 'kernels') {
    try {
      return await createKernelsEngine(model, { workers: kernelWorkers(caps), info: { choice } });
    } catch (err) {
      note = `${(err as Error).message}; using onnxruntime`;
      provider = 'wasm';
    }
  }
  if (provider === 'webgpu' && !caps.webgpu && !caps.webgpuSoftware) {
    note = `WebGPU unavailable: ${caps.webgpuNote ?? 'no adapter'}; using WebAssembly`;
    provider = 'wasm';
  }
  let loaded: { ort: Ort; session: InferenceSession };
  try {
    loaded = await createSession(provider, model, threads);
  } catch (err) {
    if (provider !== 'webgpu') throw runtimeError(model, err);
    note = `WebGPU failed (${summarizeOrtError(err)}); using WebAssembly`;
    provider = 'wasm';
    try {
      loaded = await createSession(provider, model, threads);
    } catch (err2) {
      throw runtimeError(model, err2);
    }
  }
  const { ort, session } = loaded;
  if (provider === 'wasm' && threads === 1 && !caps.isolated) {
    note = note ?? 'single-threaded: the page is not cross-origin isolated (COOP/COEP headers missing)';
  }
  const inputName = model.signature.inputName;
  if (!session.outputNames.includes(model.output)) {
    await session.release();
    throw new ModelLoadError(
      'E_RUNTIME',
      `“${model.name}” has no '${model.output}' output in its graph (it has ${session.outputNames.join(', ')}).`,
    );
  }
  const classes = model.metadata.classNames.length;
  const serial = createSerialQueue();
  return {
    info: { provider, threads: provider === 'wasm' ? threads : 1, choice, note },
    model,
    run(x, n) {
      return serial(async () => {
        const input = new ort.Tensor('float32', x.length === n * 784 ? x : x.subarray(0, n * 784), inputDims(model.signature, n));
        const result = await session.run({ [inputName]: input }, [model.output]);
        const tensor = result[model.output] as Tensor;
        checkOnnxOutput(model.signature, model.output, tensor, n); // the graph computes what it declares
        const data = tensor.data as Float32Array; // CPU outputs are copied out of the wasm heap already
        return model.output === 'logits' ? softmaxRows(data, classes) : data;
      });
    },
    dispose() {
      return serial(() => session.release());
    },
  };
}

/** Longest onnxruntime message shown to the user (the full one stays in the error's `cause`). */
export const MAX_ERROR_CHARS = 200;

/**
 * Turns an onnxruntime error into one readable sentence: drops the `ERROR_CODE`/source-path/C++-signature noise that
 * onnxruntime-web prefixes, keeps the explanation, and caps the length.
 *
 * @param err - what onnxruntime threw
 * @returns a short message
 *
 * @example
 * ```ts
 * summarizeOrtError(new Error("Can't create a session. ERROR_CODE: 1, ERROR_MESSAGE: /x/y.cc:264 f(int) n > -1 was false. Bad graph."));
 * // 'Bad graph.'
 * ```
 */
export function summarizeOrtError(err: unknown): string {
  let text = String((err as Error)?.message ?? err)
    .replace(/\s+/g, ' ')
    .trim();
  const detail = text.match(/ERROR_MESSAGE: (.*)$/);
  if (detail) text = detail[1] as string;
  text = text.replace(/^\S+\.(?:cc|h|cpp):\d+ /, '');
  const failedCheck = text.lastIndexOf(' was false. ');
  if (failedCheck >= 0) text = text.slice(failedCheck + ' was false. '.length);
  if (text.length > MAX_ERROR_CHARS) text = `${text.slice(0, MAX_ERROR_CHARS - 1).trimEnd()}…`;
  return text.replace(/\.+$/, '');
}

function runtimeError(model: ModelInfo, err: unknown): ModelLoadError {
  return new ModelLoadError(
    'E_RUNTIME',
    `onnxruntime-web cannot load “${model.name}” (${summarizeOrtError(err)}). Export it again with: fmnist export <checkpoint>.`,
    { cause: err },
  );
}

/**
 * A one-line description of an engine for the status bar, e.g. `fmnist kernels · WebAssembly SIMD · 2 workers`.
 *
 * @param info - the engine's info
 * @returns the label
 *
 * @example
 * ```ts
 * describeEngine({ provider: 'wasm', threads: 1, choice: 'wasm' }); // 'onnxruntime · WebAssembly SIMD · 1 thread'
 * ```
 */
export function describeEngine(info: EngineInfo): string {
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (info.provider === 'kernels') return `fmnist kernels · WebAssembly SIMD · ${plural(info.threads, 'worker')}`;
  if (info.provider === 'webgpu') return 'onnxruntime · WebGPU';
  return `onnxruntime · WebAssembly SIMD · ${plural(info.threads, 'thread')}`;
}
