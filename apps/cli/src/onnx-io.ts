/** ONNX export (through `@fmnist/onnx`) and inference (through onnxruntime-node). */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { ExitError } from './errors';

/** The largest .onnx file read: far above any fmnist model, far below what would exhaust memory. */
export const MAX_ONNX_BYTES = 512 * 2 ** 20;

/** onnxruntime's log severity for fatal messages only (0 verbose … 4 fatal). */
const ORT_FATAL = 4;

/** Loaded ONNX model ready to run. */
export interface OnnxRunner {
  /** Path it was loaded from. */
  path: string;
  /** Class names from the model's metadata (else Fashion-MNIST's), one per score the graph gives. */
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
 * @param options - `quantize`: `int8` (Linear weights) or `fp16` (every parameter); default float32
 * @returns bytes written
 */
export async function exportCheckpointToFile(
  checkpointDir: string,
  path: string,
  options: { quantize?: 'none' | 'int8' | 'fp16' },
): Promise<number> {
  const { exportOnnxFile } = await import('@fmnist/onnx');
  const result = await exportOnnxFile(checkpointDir, path, { quantize: options.quantize ?? 'none' });
  return result.bytes;
}

/**
 * Loads an ONNX model into onnxruntime-node (CPU).
 *
 * @param path - the .onnx file
 * @param options - see {@link LoadOnnxOptions}
 * @returns a runner
 * @throws ExitError when the file is missing or not a model onnxruntime can load
 */
export async function loadOnnx(path: string, options: LoadOnnxOptions = {}): Promise<OnnxRunner> {
  let bytes: Uint8Array;
  try {
    // O_NONBLOCK: a FIFO must not wait for a writer; fstat then refuses it (and devices, /proc files) before reading.
    const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        throw new ExitError(
          `${path}: not a regular file (a directory, FIFO, socket or device). Pass an .onnx file written by fmnist train or fmnist export.`,
        );
      }
      if (info.size > MAX_ONNX_BYTES) {
        throw new ExitError(
          `${path}: ${info.size.toLocaleString('en-US')} bytes, more than the ${MAX_ONNX_BYTES / 2 ** 20} MiB read for a model (fmnist's largest preset exports to about 4.5 MB). Pass an .onnx file written by fmnist train or fmnist export.`,
        );
      }
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof ExitError) throw err;
    throw new ExitError(
      `${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Pass an .onnx file written by fmnist train or fmnist export.`,
      1,
      { cause: err },
    );
  }
  return loadOnnxBytes(bytes, path, options);
}

/** Options of {@link loadOnnx}. */
export interface LoadOnnxOptions {
  /** The class count the command needs (10 to score on Fashion-MNIST's test labels); any when absent. */
  classCount?: number;
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
 * Loads ONNX bytes into onnxruntime-node (CPU), at the optimisation level of {@link ortOptimizationLevel}, after
 * `checkOnnxSignature` has checked the graph's input and outputs against the metadata: the runner feeds the input in
 * the graph's layout (and fixed batch size, if any), reads the logits (or the log of the probabilities) and checks
 * every output tensor's type and dims.
 *
 * @param bytes - the model
 * @param path - a name for messages
 * @param options - see {@link LoadOnnxOptions}
 * @returns a runner
 * @throws ExitError naming the file when it is not ONNX, its metadata is damaged, or its signature is not a
 *   Fashion-MNIST classifier's
 */
export async function loadOnnxBytes(bytes: Uint8Array, path: string, options: LoadOnnxOptions = {}): Promise<OnnxRunner> {
  const { checkOnnxOutput, checkOnnxSignature, inputDims } = await import('@fmnist/onnx');
  let signature: import('@fmnist/onnx').OnnxSignature;
  try {
    signature = checkOnnxSignature(bytes, options);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'E_NOT_ONNX') {
      throw new ExitError(
        `${path}: not an ONNX model (${bytes.length} bytes that do not parse as one). Pass an .onnx file written by fmnist train or fmnist export.`,
        1,
        { cause: err },
      );
    }
    if (code === 'E_NO_METADATA' || code === 'E_MODEL_SIGNATURE') {
      throw new ExitError(`${path}: ${(err as Error).message} [${code}]`, 1, { cause: err });
    }
    throw err;
  }
  const ort = await import('onnxruntime-node');
  // onnxruntime's own logger writes node and output names from the model to stderr raw (escape sequences, newlines):
  // it is kept to fatal messages, and every failure reaches the user as our own sanitised error instead.
  ort.env.logLevel = 'fatal';
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: ortOptimizationLevel(signature.metadata as Record<string, unknown> | null),
      logSeverityLevel: ORT_FATAL,
    });
  } catch (err) {
    throw new ExitError(
      `${path}: onnxruntime cannot load it (${(err as Error).message.split('\n')[0]}). Export it again with: fmnist export <checkpoint>`,
      1,
      { cause: err },
    );
  }
  const outputName = (signature.logits ?? signature.probabilities) as string;
  const classes = signature.classCount;
  const runBatch = async (x: Float32Array, n: number): Promise<Float32Array> => {
    let out: import('onnxruntime-node').InferenceSession.OnnxValueMapType;
    try {
      out = await session.run({ [signature.inputName]: new ort.Tensor('float32', x, inputDims(signature, n)) }, [outputName], {
        logSeverityLevel: ORT_FATAL,
      });
    } catch (err) {
      throw new ExitError(`${path}: onnxruntime failed to run it (${(err as Error).message.split('\n')[0]}).`, 1, { cause: err });
    }
    const t = out[outputName] as import('onnxruntime-node').Tensor;
    try {
      checkOnnxOutput(signature, outputName, t, n);
    } catch (err) {
      throw new ExitError(`${path}: ${(err as Error).message} [E_MODEL_SIGNATURE]`, 1, { cause: err });
    }
    const data = t.data as Float32Array;
    // Probabilities only: their logarithm is a set of logits with the same softmax.
    return signature.logits ? data : data.map((p) => Math.log(p));
  };
  return {
    path,
    classNames: signature.classNames,
    metadata: signature.metadata as Record<string, unknown> | null,
    async logits(x, n) {
      const fixed = signature.batchSize;
      if (fixed === null) return runBatch(x, n);
      // A graph with a fixed batch size: run it batch by batch, padding the last one with blank images.
      const result = new Float32Array(n * classes);
      for (let start = 0; start < n; start += fixed) {
        const m = Math.min(fixed, n - start);
        const chunk = new Float32Array(fixed * 784);
        chunk.set(x.subarray(start * 784, (start + m) * 784));
        result.set((await runBatch(chunk, fixed)).subarray(0, m * classes), start * classes);
      }
      return result;
    },
    async dispose() {
      await session.release();
    },
  };
}

/**
 * Refuses logits that are NaN or infinite: NaN or infinite weights give them, and a class or an accuracy read from them
 * would be a guess presented as a result.
 *
 * @param logits - `[n, classes]`
 * @param classes - scores per image
 * @param path - the model, for the message
 * @param image - names image `k` in the message (`test image 7`, `image 2 of 3`)
 * @throws ExitError naming the model, the image and the class
 */
export function checkFiniteLogits(logits: Float32Array, classes: number, path: string, image: (k: number) => string): void {
  const bad = logits.findIndex((v) => !Number.isFinite(v));
  if (bad < 0) return;
  throw new ExitError(
    `${path}: the model gives ${logits[bad]} for ${image(Math.floor(bad / classes))} (class ${bad % classes}); its weights hold NaN or infinite values. Export it again from a good checkpoint.`,
  );
}

/** Softmax of one row of logits. */
export function softmax(logits: Float32Array | number[]): number[] {
  const max = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
