import { toBinary } from '@bufbuild/protobuf';
import { loadFashionMnist, normalize } from '@fmnist/data';
import { createModel, type FmnistModel, modelFromParams, paramSpecs } from '@fmnist/model';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportOnnx, quantizeInt8 } from './export';
import { type GraphProto, ModelProtoSchema, TensorProto_DataType } from './gen/onnx_pb';
import { fromHalfBits, toHalfBits } from './half';
import { decodeModel } from './metadata';
import { compare, expectError, runOnnx, tfjsLogits } from './test-helpers';
import { readOnnxWeights } from './weights';

/** Small presets with seeded random weights (not the presets' default seed, so nothing lines up by accident). */
const models: Record<'patch-mlp' | 'mixer-s', FmnistModel> = {
  'patch-mlp': createModel({ preset: 'patch-mlp', seed: 11 }),
  'mixer-s': createModel({ preset: 'mixer-s', seed: 12 }),
};

/** Index of the first element whose float32 bits differ, or -1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function expectSameBits(actual: Float32Array | undefined, expected: Float32Array, what: string) {
  expect(actual, what).toBeInstanceOf(Float32Array);
  expect(actual?.length, what).toBe(expected.length);
  const i = firstBitDifference(actual as Float32Array, expected);
  expect(i, `${what}[${i}]: ${actual?.[i]} vs ${expected[i]}`).toBe(-1);
}

/** Decodes an exported model, lets `edit` change its graph, and encodes it again. */
function editGraph(bytes: Uint8Array, edit: (graph: GraphProto) => void): Uint8Array {
  const model = decodeModel(bytes);
  edit(model.graph as GraphProto);
  return toBinary(ModelProtoSchema, model);
}

describe('readOnnxWeights: round trip of every format', () => {
  const presets = Object.keys(models) as (keyof typeof models)[];

  it.each(presets)('%s, float32: the exported parameters bit for bit, the same config, and the same file again', (preset) => {
    const model = models[preset];
    const bytes = exportOnnx(model);
    const read = readOnnxWeights(bytes);
    expect(read.quantization).toBe('none');
    expect(read.config).toEqual(model.config);
    expect(read.metadata.preset).toBe(preset);
    expect(Object.keys(read.params)).toEqual(paramSpecs(model.config).map((s) => s.name));
    for (const [name, values] of Object.entries(model.params)) expectSameBits(read.params[name], values, name);
    // The arrays are copies, not views into the file's bytes.
    expect(read.params['embed.weight']?.buffer).not.toBe(bytes.buffer);
    // Usable as a model's params, and exporting them again writes the same bytes.
    const again = modelFromParams(read.config, read.params, read.metadata.preset);
    expect(Buffer.from(exportOnnx(again)).equals(Buffer.from(bytes))).toBe(true);
  });

  it.each(presets)('%s, fp16: each value rounded to float16 and back', (preset) => {
    const model = models[preset];
    const bytes = exportOnnx(model, { quantize: 'fp16' });
    const read = readOnnxWeights(bytes);
    expect(read.quantization).toBe('fp16');
    expect(read.config).toEqual(model.config);
    for (const [name, values] of Object.entries(model.params)) {
      expectSameBits(read.params[name], Float32Array.from(toHalfBits(values), fromHalfBits), name);
    }
    // float16 values survive another export unchanged: the same file.
    const again = exportOnnx(modelFromParams(read.config, read.params, read.metadata.preset), { quantize: 'fp16' });
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it.each(presets)('%s, int8: Linear weights are q · scale in float32, biases and LayerNorm exact', (preset) => {
    const model = models[preset];
    const read = readOnnxWeights(exportOnnx(model, { quantize: 'int8' }));
    expect(read.quantization).toBe('int8');
    expect(read.config).toEqual(model.config);
    const specs = paramSpecs(model.config);
    expect(specs.some((s) => s.kind === 'norm-weight')).toBe(preset === 'mixer-s');
    for (const spec of specs) {
      const values = model.params[spec.name] as Float32Array;
      if (spec.kind !== 'weight') {
        expectSameBits(read.params[spec.name], values, spec.name);
        continue;
      }
      const [rows, cols] = spec.shape as [number, number];
      const { q, scale } = quantizeInt8(values, rows, cols);
      const expected = new Float32Array(rows * cols);
      for (let i = 0; i < expected.length; i++) expected[i] = Math.fround((q[i] as number) * (scale[i % cols] as number));
      expectSameBits(read.params[spec.name], expected, spec.name);
    }
    expect(modelFromParams(read.config, read.params).countParameters()).toBe(model.countParameters());
  });

  it('reads the other standard storage of TensorProto: float_data (float32), int32_data (float16, int8)', () => {
    const model = models['patch-mlp'];
    for (const quantize of ['none', 'fp16', 'int8'] as const) {
      const bytes = exportOnnx(model, { quantize });
      const typed = editGraph(bytes, (graph) => {
        for (const t of graph.initializer) {
          const raw = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
          if (t.dataType === TensorProto_DataType.FLOAT) {
            t.floatData = Array.from({ length: raw.byteLength / 4 }, (_, i) => raw.getFloat32(i * 4, true));
          } else if (t.dataType === TensorProto_DataType.FLOAT16) {
            t.int32Data = Array.from({ length: raw.byteLength / 2 }, (_, i) => raw.getUint16(i * 2, true));
          } else if (t.dataType === TensorProto_DataType.INT8) {
            t.int32Data = Array.from({ length: raw.byteLength }, (_, i) => raw.getInt8(i));
          } else {
            continue;
          }
          t.rawData = new Uint8Array();
        }
      });
      expect(decodeModel(typed).graph?.initializer.every((t) => t.dataType === TensorProto_DataType.INT64 || t.rawData.length === 0)).toBe(
        true,
      );
      const a = readOnnxWeights(bytes).params;
      const b = readOnnxWeights(typed).params;
      for (const [name, values] of Object.entries(a)) expectSameBits(b[name], values, `${quantize} ${name}`);
    }
  });
  it.each(['none', 'fp16'] as const)('%s: reads a Node Buffer at an odd offset of a shared pool (as readFile returns it)', (quantize) => {
    const model = models['patch-mlp'];
    const bytes = exportOnnx(model, { quantize });
    // A Buffer whose bytes start at an odd offset of a larger ArrayBuffer: its slice() is a view, not a copy.
    const pool = Buffer.alloc(bytes.length + 3);
    pool.set(bytes, 1);
    const file = pool.subarray(1, 1 + bytes.length);
    const fromBuffer = readOnnxWeights(file);
    const fromCopy = readOnnxWeights(new Uint8Array(bytes));
    for (const [name, values] of Object.entries(fromCopy.params)) expectSameBits(fromBuffer.params[name], values, name);
  });
});

describe('readOnnxWeights: parity with onnxruntime-node', () => {
  // For int8 the session runs at the 'basic' optimisation level, which keeps DequantizeLinear + MatMul: at the default
  // level onnxruntime 1.30 fuses them into com.microsoft MatMulNBits (bits 8, accuracy_level 4), which also quantises
  // the activations to int8 at run time and moves the logits by ~2e-3. 'basic' computes what the graph says, in
  // float32, and that is what readOnnxWeights must reproduce.
  it.each([
    ['none', 'all'],
    ['fp16', 'all'],
    ['int8', 'basic'],
  ] as const)(
    'patch-mlp (%s): the read-back params in TensorFlow.js give the logits of the ONNX model within 1e-4',
    async (quantize, level) => {
      const { test } = await loadFashionMnist();
      const n = 16;
      const x = normalize(test.images.subarray(0, n * 784));
      const bytes = exportOnnx(models['patch-mlp'], { quantize });
      const { config, params } = readOnnxWeights(bytes);
      const reference = await tfjsLogits(modelFromParams(config, params), x, n);
      const session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: level,
      });
      try {
        const { logits, dims } = await runOnnx(session, x, n);
        expect(dims).toEqual([n, 10]);
        const { maxDiff } = compare(reference, logits);
        expect(maxDiff, `max |logit diff| ${maxDiff}`).toBeLessThanOrEqual(1e-4);
      } finally {
        await session.release();
      }
    },
  );
});

describe('readOnnxWeights: errors', () => {
  const bytes = exportOnnx(models['patch-mlp']);

  it('bytes that are not an ONNX model (E_NOT_ONNX), an ONNX model from elsewhere (E_NO_METADATA), not bytes (TypeError)', () => {
    expectError(
      () => readOnnxWeights(new TextEncoder().encode('<!doctype html><html>Not found</html>')),
      'E_NOT_ONNX',
      /Not an ONNX model/,
    );
    expectError(() => readOnnxWeights(new Uint8Array()), 'E_NOT_ONNX', /empty/);
    const foreign = editGraph(bytes, () => {});
    const model = decodeModel(foreign);
    model.metadataProps = [];
    expectError(() => readOnnxWeights(toBinary(ModelProtoSchema, model)), 'E_NO_METADATA', /not exported by @fmnist\/onnx/);
    expect(() => readOnnxWeights('model.onnx' as never)).toThrow(TypeError);
  });

  it('a missing initializer is named, with the model and the fix (E_MISSING_WEIGHTS)', () => {
    const drop = (source: Uint8Array, name: string) =>
      editGraph(source, (graph) => {
        const before = graph.initializer.length;
        graph.initializer = graph.initializer.filter((t) => t.name !== name);
        expect(graph.initializer.length).toBe(before - 1);
      });
    expectError(
      () => readOnnxWeights(drop(bytes, 'blocks.0.token_mlp.fc2.weight')),
      'E_MISSING_WEIGHTS',
      /model 'fmnist_patch_mlp' .*no initializer 'blocks\.0\.token_mlp\.fc2\.weight'.*\[128, 49\].*`fmnist export`/,
    );
    const int8 = exportOnnx(models['patch-mlp'], { quantize: 'int8' });
    expectError(
      () => readOnnxWeights(drop(int8, 'head.weight_scale')),
      'E_MISSING_WEIGHTS',
      /quantization int8.*'head\.weight_scale' \(the storage of parameter 'head\.weight'\), FLOAT \[10\]/,
    );
    const fp16 = exportOnnx(models['patch-mlp'], { quantize: 'fp16' });
    expectError(() => readOnnxWeights(drop(fp16, 'embed.bias_fp16')), 'E_MISSING_WEIGHTS', /'embed\.bias_fp16'.*FLOAT16 \[128\]/);
  });

  it('wrong dims, data type or value count name the tensor, expected and actual (E_SHAPE_MISMATCH)', () => {
    const edit = (name: string, change: (t: GraphProto['initializer'][number]) => void) =>
      editGraph(bytes, (graph) => change(graph.initializer.find((t) => t.name === name) as GraphProto['initializer'][number]));
    expectError(
      () => readOnnxWeights(edit('head.weight', (t) => (t.dims = [10n, 128n]))),
      'E_SHAPE_MISMATCH',
      /'head\.weight' .*dims \[10, 128\] where its config needs \[128, 10\]/,
    );
    expectError(() => readOnnxWeights(edit('head.bias', (t) => (t.dims = []))), 'E_SHAPE_MISMATCH', /'head\.bias' .*dims \[\] .*\[10\]/);
    expectError(
      () => readOnnxWeights(edit('head.bias', (t) => (t.rawData = t.rawData.subarray(0, 36)))),
      'E_SHAPE_MISMATCH',
      /'head\.bias' .*36 bytes of raw_data .*need 10 values/,
    );
    expectError(
      () => readOnnxWeights(edit('embed.bias', (t) => (t.dataType = TensorProto_DataType.DOUBLE))),
      'E_SHAPE_MISMATCH',
      /'embed\.bias' .*is DOUBLE where quantization none stores FLOAT/,
    );
  });

  it('an invalid config in the metadata (E_NO_METADATA)', () => {
    const model = decodeModel(bytes);
    const entry = model.metadataProps.find((p) => p.key === 'config');
    if (entry) entry.value = JSON.stringify({ ...models['patch-mlp'].config, patchSize: 5 });
    expectError(() => readOnnxWeights(toBinary(ModelProtoSchema, model)), 'E_NO_METADATA', /invalid config.*patchSize/);
  });
});
