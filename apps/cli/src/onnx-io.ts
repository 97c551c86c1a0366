/** ONNX export (through `@fmnist/onnx`) and inference (through onnxruntime-node). */
import { readFile } from 'node:fs/promises';
import { ExitError } from './errors';

/** Loaded ONNX model ready to run. */
export interface OnnxRunner {
  /** Path it was loaded from. */
  path: string;
  /** Class names from the model's metadata (else Fashion-MNIST's). */
  classNames: string[];
  /** The metadata written by `@fmnist/onnx`, when present. */
  metadata: Record<string, unknown> | null;
  /** Logits `[n, classes]` for `n` images of 784 pixels scaled to [0, 1]. */
  logits(x: Float32Array, n: number): Promise<Float32Array>;
  /** Frees the session. */
  dispose(): Promise<void>;
}

/**
 * Exports a saved checkpoint to an ONNX file (atomically), with its training record in the model's metadata.
 *
 * @param checkpointDir - the checkpoint directory
 * @param path - output file (its directory is created)
 * @param options - `int8` to quantise the Linear weights
 * @returns bytes written
 */
export async function exportCheckpointToFile(checkpointDir: string, path: string, options: { int8?: boolean }): Promise<number> {
  const { exportOnnxFile } = await import('@fmnist/onnx');
  const result = await exportOnnxFile(checkpointDir, path, options.int8 ? { quantize: 'int8' } : {});
  return result.bytes;
}

/**
 * Loads an ONNX model into onnxruntime-node (CPU).
 *
 * @param path - the .onnx file
 * @returns a runner
 * @throws ExitError when the file is missing or not a model onnxruntime can load
 */
export async function loadOnnx(path: string): Promise<OnnxRunner> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ExitError(
      `${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Pass an .onnx file written by fmnist train or fmnist export.`,
      1,
      { cause: err },
    );
  }
  return loadOnnxBytes(bytes, path);
}

/**
 * The onnxruntime graph optimisation level for a model: `basic` for int8 models, `all` for the others. At `extended`
 * and `all`, onnxruntime 1.30 fuses an int8 weight's `DequantizeLinear` + `MatMul` into `MatMulNBits`, which also
 * rounds the activations: measured on the 10,000 test images with the trained patch-MLP, logits moved by up to 0.18
 * from the graph's float32 result and 19 predictions changed, while `basic` matched `disabled` exactly at the same
 * speed. float32 and float16 models are unaffected by the fusion and get every optimisation.
 *
 * @param metadata - the model's fmnist metadata (its `quantization`), or null for a foreign model
 * @returns the `graphOptimizationLevel` for `InferenceSession.create`
 */
export function ortOptimizationLevel(metadata: Record<string, unknown> | null): 'basic' | 'all' {
  return metadata?.quantization === 'int8' ? 'basic' : 'all';
}

/**
 * Loads ONNX bytes into onnxruntime-node (CPU), at the optimisation level of {@link ortOptimizationLevel}.
 *
 * @param bytes - the model
 * @param path - a name for messages
 * @returns a runner
 */
export async function loadOnnxBytes(bytes: Uint8Array, path: string): Promise<OnnxRunner> {
  let metadata: Record<string, unknown> | null = null;
  try {
    const { readOnnxMetadata } = await import('@fmnist/onnx');
    metadata = readOnnxMetadata(bytes) as unknown as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'E_NOT_ONNX') {
      throw new ExitError(
        `${path}: not an ONNX model (${bytes.length} bytes that do not parse as one). Pass an .onnx file written by fmnist train or fmnist export.`,
        1,
        { cause: err },
      );
    }
    // A valid ONNX model without our metadata: run it anyway, assuming the Fashion-MNIST contract.
  }
  const ort = await import('onnxruntime-node');
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: ortOptimizationLevel(metadata),
    });
  } catch (err) {
    throw new ExitError(
      `${path}: onnxruntime cannot load it (${(err as Error).message.split('\n')[0]}). Export it again with: fmnist export <checkpoint>`,
      1,
      { cause: err },
    );
  }
  const inputName = session.inputNames[0] as string;
  const outputName = session.outputNames.includes('logits') ? 'logits' : (session.outputNames[0] as string);
  const inputInfo = (metadata?.input as { shape?: (string | number)[] } | undefined)?.shape;
  const rank = inputInfo?.length ?? 4;
  const { CLASS_NAMES } = await import('@fmnist/data');
  const classNames = (metadata?.classNames as string[] | undefined) ?? [...CLASS_NAMES];
  return {
    path,
    classNames,
    metadata,
    async logits(x, n) {
      const dims = rank === 2 ? [n, 784] : rank === 3 ? [n, 28, 28] : [n, 1, 28, 28];
      const out = await session.run({ [inputName]: new ort.Tensor('float32', x, dims) }, [outputName]);
      const t = out[outputName] as import('onnxruntime-node').Tensor;
      return t.data as Float32Array;
    },
    async dispose() {
      await session.release();
    },
  };
}

/** Softmax of one row of logits. */
export function softmax(logits: Float32Array | number[]): number[] {
  const max = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
