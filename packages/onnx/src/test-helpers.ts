/** Shared helpers of the tests (not exported by the package). */
import { createEngine, type FmnistModel } from '@fmnist/model';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { FmnistOnnxError } from './errors';

/** Runs an exported model on `n` images (`n * 784` pixels) with onnxruntime-node. */
export async function runOnnx(
  session: ort.InferenceSession,
  x: Float32Array,
  n: number,
): Promise<{ logits: Float32Array; probabilities: Float32Array; dims: readonly number[] }> {
  const out = await session.run({ image: new ort.Tensor('float32', x.subarray(0, n * 784), [n, 1, 28, 28]) });
  const logits = out.logits as ort.Tensor;
  return { logits: logits.data as Float32Array, probabilities: (out.probabilities as ort.Tensor).data as Float32Array, dims: logits.dims };
}

/** Logits of `n` images, `chunk` per run (one huge batch costs more in allocations than it saves). */
export async function onnxLogits(session: ort.InferenceSession, x: Float32Array, n: number, chunk = 1000): Promise<Float32Array> {
  const out = new Float32Array(n * 10);
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    out.set((await runOnnx(session, x.subarray(i * 784), m)).logits, i * 10);
  }
  return out;
}

/** An onnxruntime-node session on one thread (other tests run beside it). */
export function createSession(bytes: Uint8Array, threads = 1): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 });
}

/** The model's logits in TensorFlow.js (its wasm backend), `chunk` images per forward pass. */
export async function tfjsLogits(model: FmnistModel, x: Float32Array, n: number, chunk = 250): Promise<Float32Array> {
  const engine = await createEngine(model.config, model.params, { backend: 'wasm' });
  try {
    const C = model.config.numClasses;
    const out = new Float32Array(n * C);
    for (let i = 0; i < n; i += chunk) {
      const end = Math.min(n, i + chunk);
      out.set(await engine.predict(x.subarray(i * 784, end * 784)), i * C);
    }
    return out;
  } finally {
    await engine.dispose();
  }
}

/** Largest |a - b| and largest |a|. */
export function compare(a: Float32Array, b: Float32Array): { maxDiff: number; maxAbs: number } {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (b[i] as number)));
    maxAbs = Math.max(maxAbs, Math.abs(a[i] as number));
  }
  return { maxDiff, maxAbs };
}

/** Argmax of each row of `[n, classes]` logits. */
export function argmax(logits: Float32Array, classes: number): Uint8Array {
  const n = logits.length / classes;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if ((logits[i * classes + c] as number) > (logits[i * classes + best] as number)) best = c;
    out[i] = best;
  }
  return out;
}

/** Fraction of rows whose argmax equals the label. */
export function accuracy(logits: Float32Array, labels: Uint8Array, classes: number): number {
  const pred = argmax(logits, classes);
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) correct++;
  return correct / pred.length;
}

/** Count of rows where two argmax arrays differ. */
export function mismatches(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** Runs `fn` and checks that it throws an {@link FmnistOnnxError} with `code` and a message matching `message`. */
export function expectError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FmnistOnnxError);
    expect((err as FmnistOnnxError).code).toBe(code);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}`);
}
