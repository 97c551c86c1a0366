import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { CLASS_NAMES } from '@fmnist/data';
import { createModel, encodeWeights, PRESETS, type PresetName, paramSpecs } from '@fmnist/model/core';
import { describe, expect, it } from 'vitest';
import { exportOnnx, quantizeInt8 } from './export';
import { ModelProtoSchema, TensorProto_DataType } from './gen/onnx_pb';
import { fromHalfBits, toHalfBits } from './half';
import { readOnnxMetadata } from './metadata';
import { expectError } from './test-helpers';
import { PRODUCER_VERSION } from './version';

const decode = (bytes: Uint8Array) => fromBinary(ModelProtoSchema, bytes);
const ops = (bytes: Uint8Array) => decode(bytes).graph!.node.map((n) => n.opType);
const dims = (bytes: Uint8Array, which: 'input' | 'output') =>
  decode(bytes).graph![which].map((v) => {
    const t = v.type!.value.value as { shape: { dim: { value: { value: unknown } }[] } };
    return [v.name, t.shape.dim.map((d) => (typeof d.value.value === 'bigint' ? Number(d.value.value) : d.value.value))];
  });

describe('exportOnnx', () => {
  it('writes the documented graph contract: IR 8, opset 17, image [batch, 1, 28, 28] → logits, probabilities [batch, 10]', () => {
    const bytes = exportOnnx(createModel('patch-mlp'));
    const model = decode(bytes);
    expect(model.irVersion).toBe(8n);
    expect(model.opsetImport.map((o) => [o.domain, o.version])).toEqual([['', 17n]]);
    expect(model.producerName).toBe('@fmnist/onnx');
    expect(model.producerVersion).toBe(PRODUCER_VERSION);
    expect(dims(bytes, 'input')).toEqual([['image', ['batch', 1, 28, 28]]]);
    expect(dims(bytes, 'output')).toEqual([
      ['logits', ['batch', 10]],
      ['probabilities', ['batch', 10]],
    ]);
    const fc1Gelu = ['MatMul', 'Add', 'Div', 'Erf', 'Add', 'Mul', 'Mul'];
    expect(ops(bytes)).toEqual([
      ...['Reshape', 'Transpose', 'Reshape', 'MatMul', 'Add'], // patchify, embed
      ...['Transpose', ...fc1Gelu, 'MatMul', 'Add', 'Transpose'], // token MLP over [B, dim, P]
      ...fc1Gelu, // channel fc1 + GELU per patch
      ...['ReduceMean', 'MatMul', 'Add'], // mean over patches, then channel fc2 once per image (it is affine)
      ...['MatMul', 'Add', 'Softmax'], // head, softmax
    ]);
    // Initializers keep the checkpoint's names and layout ([in, out]).
    const inits = new Map(model.graph!.initializer.map((t) => [t.name, t]));
    for (const spec of paramSpecs(createModel('patch-mlp').config)) {
      expect(inits.get(spec.name)?.dims.map(Number)).toEqual(spec.shape);
      expect(inits.get(spec.name)?.dataType).toBe(TensorProto_DataType.FLOAT);
    }
  });

  it('exports every preset; mixers use LayerNormalization and residual Adds', () => {
    for (const preset of Object.keys(PRESETS) as PresetName[]) {
      const model = createModel(preset);
      const bytes = exportOnnx(model);
      const list = ops(bytes);
      const floats = model.countParameters() * 4;
      expect(bytes.length).toBeGreaterThan(floats);
      expect(bytes.length).toBeLessThan(floats + 40_000); // graph and metadata: a few KB
      const blocks = model.config.blocks;
      expect(list.filter((o) => o === 'LayerNormalization').length).toBe(model.config.norm === 'layernorm' ? 2 * blocks + 1 : 0);
      expect(list.filter((o) => o === 'Erf').length).toBe(2 * blocks);
      // One bias Add per Linear (4 per block, embed, head), plus 2 residual Adds per block in the mixers.
      expect(list.filter((o) => o === 'Add').length).toBe(2 + 4 * blocks + 2 * blocks + (model.config.residual ? 2 * blocks : 0));
      expect(readOnnxMetadata(bytes).preset).toBe(preset);
    }
  });

  it('is deterministic: the same model gives the same bytes', () => {
    const a = exportOnnx(createModel('mixer-s'), { quantize: 'int8' });
    const b = exportOnnx(createModel('mixer-s'), { quantize: 'int8' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('int8 stores Linear weights as int8 with per-output scales behind DequantizeLinear: ≤ 70 KB for the seed-size model', () => {
    for (const preset of ['coursework', 'patch-mlp'] as const) {
      const model = createModel(preset);
      const bytes = exportOnnx(model, { quantize: 'int8' });
      expect(bytes.length).toBeLessThanOrEqual(70 * 1024);
      const graph = decode(bytes).graph!;
      const weights = paramSpecs(model.config).filter((s) => s.kind === 'weight');
      const dq = graph.node.filter((n) => n.opType === 'DequantizeLinear');
      expect(dq.map((n) => n.output[0])).toEqual(weights.map((w) => w.name));
      expect(dq.every((n) => n.attribute[0]?.name === 'axis' && n.attribute[0].i === 1n)).toBe(true);
      const int8 = graph.initializer.filter((t) => t.dataType === TensorProto_DataType.INT8);
      expect(int8.reduce((n, t) => n + t.rawData.length, 0)).toBe(
        weights.reduce((n, w) => n + (w.shape[0] as number) * (w.shape[1] as number) + (w.shape[1] as number), 0),
      );
      const fp16 = exportOnnx(model, { quantize: 'fp16' });
      expect(fp16.length).toBeLessThan(exportOnnx(model).length / 1.9);
      expect(ops(fp16).filter((o) => o === 'Cast').length).toBe(paramSpecs(model.config).length);
    }
  });

  it('metadata: class names, normalisation, preset, config, producer; extra keys; training record from a History', () => {
    const model = createModel('coursework');
    const history = {
      training: {
        optimizer: 'adam' as const,
        learningRate: 0.001,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
        batchSize: 256,
        epochs: 3,
        seed: 7,
        initSeed: 7,
        backend: 'wasm-simd',
        threads: 2,
        normalization: 'unit' as const,
        trainExamples: 60000,
      },
      epochs: [
        { epoch: 1, trainLoss: 900, trainAccuracy: 0.5, testLoss: 40, testAccuracy: 0.6, timeMs: 1, imagesPerSecond: 1 },
        { epoch: 2, trainLoss: 30, trainAccuracy: 0.66, timeMs: 1, imagesPerSecond: 1 },
      ],
    };
    const meta = readOnnxMetadata(exportOnnx(model, { history, metadata: { author: 'me' } }));
    expect(meta).toMatchObject({
      format: 'fmnist-onnx',
      formatVersion: 1,
      producerName: '@fmnist/onnx',
      irVersion: 8,
      opsetVersion: 17,
      classNames: [...CLASS_NAMES],
      normalization: 'unit',
      input: { name: 'image', shape: ['batch', 1, 28, 28], normalization: 'unit' },
      outputs: ['logits', 'probabilities'],
      preset: 'coursework',
      config: model.config,
      parameters: 49211,
      quantization: 'none',
      training: history.training,
      // The last epoch's training numbers, and the last test evaluation.
      metrics: { epoch: 2, trainLoss: 30, trainAccuracy: 0.66, testLoss: 40, testAccuracy: 0.6 },
      dataset: { name: 'fashion-mnist', source: 'unrecorded', recorded: false },
    });
    expect(meta.dataset?.sha256.trainImages).toMatch(/^[0-9a-f]{64}$/);
    expect(meta.raw.author).toBe('me');
    expect(meta.raw.producer).toBe(`@fmnist/onnx@${PRODUCER_VERSION}`);
    expect(() => exportOnnx(model, { metadata: { config: 'x' } })).toThrow(/cannot set 'config'/);
  });

  it('accepts checkpoint files ({ checkpointJson, weights }) as a browser would fetch them', () => {
    const model = createModel('patch-mlp');
    const checkpointJson = JSON.stringify({
      format: 'fmnist-checkpoint',
      version: 1,
      preset: 'patch-mlp',
      config: model.config,
      epoch: 1,
      step: 235,
      rng: [1, 2, 3, 4],
      training: {
        optimizer: 'adam',
        learningRate: 0.001,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
        batchSize: 256,
        epochs: 1,
        seed: 0,
        backend: 'kernels',
        threads: 1,
        normalization: 'unit',
        trainExamples: 60000,
      },
      history: [{ epoch: 1, trainLoss: 0.9, trainAccuracy: 0.7, testLoss: 0.6, testAccuracy: 0.761, timeMs: 1, imagesPerSecond: 1 }],
      dataset: { source: 'system', sha256: { trainImages: 'abc' } },
      producer: '@fmnist/model',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const bytes = exportOnnx({ checkpointJson, weights: encodeWeights(model.config, model.params, 'patch-mlp') });
    const meta = readOnnxMetadata(bytes);
    expect(meta.metrics?.testAccuracy).toBe(0.761);
    expect(meta.dataset).toEqual({ name: 'fashion-mnist', source: 'system', sha256: { trainImages: 'abc' }, recorded: true });
    expect(meta.trainedAt).toBe('2026-01-01T00:00:00.000Z');
    // Same weights → same initializers as exporting the model.
    const a = decode(bytes).graph!.initializer;
    const b = decode(exportOnnx(model)).graph!.initializer;
    expect(a.map((t) => Buffer.from(t.rawData).toString('base64'))).toEqual(b.map((t) => Buffer.from(t.rawData).toString('base64')));
  });
});

describe('errors', () => {
  const model = createModel('patch-mlp');

  it('an unknown preset lists the choices (E_CONFIG)', () => {
    expectError(
      () => exportOnnx({ config: 'tiny' as PresetName, params: model.params }),
      'E_CONFIG',
      /Unknown preset 'tiny'.*coursework, patch-mlp/,
    );
    expectError(() => exportOnnx({ ...model, preset: 'big' as PresetName }), 'E_CONFIG', /Unknown preset 'big'/);
  });

  it('an invalid config names the field (E_CONFIG)', () => {
    expectError(
      () => exportOnnx({ config: { ...model.config, patchSize: 5 }, params: model.params }),
      'E_CONFIG',
      /patchSize.*divisor of 28/,
    );
    expectError(() => exportOnnx({ config: { ...model.config, norm: 'batch' as 'none' }, params: model.params }), 'E_CONFIG', /norm/);
  });

  it('missing weights name the tensor and its shape (E_MISSING_WEIGHTS)', () => {
    const { 'head.weight': _dropped, ...params } = model.params;
    expectError(() => exportOnnx({ config: 'patch-mlp', params }), 'E_MISSING_WEIGHTS', /'head\.weight' \[128, 10\] is missing/);
    expectError(() => exportOnnx({ config: 'patch-mlp', params: undefined as never }), 'E_MISSING_WEIGHTS', /params/);
  });

  it('shape mismatches name the tensor, the sizes and the likely cause (E_SHAPE_MISMATCH)', () => {
    const params = { ...model.params, 'embed.weight': new Float32Array(10) };
    expectError(() => exportOnnx({ config: 'patch-mlp', params }), 'E_SHAPE_MISMATCH', /'embed\.weight' has 10 values.*\[16, 128\] = 2048/);
    // mixer-s weights given as patch-mlp: extra tensors and other shapes.
    expectError(() => exportOnnx({ config: 'patch-mlp', params: createModel('mixer-s').params }), 'E_SHAPE_MISMATCH', /another preset/);
    const mixer = createModel('mixer-s');
    expectError(
      () => exportOnnx({ config: mixer.config, params: { ...mixer.params, 'blocks.9.norm1.weight': new Float32Array(128) } }),
      'E_SHAPE_MISMATCH',
      /'blocks\.9\.norm1\.weight' does not belong/,
    );
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('a parameter holding %s is refused (E_NON_FINITE naming the tensor), for every quantisation', (name, value) => {
    const bad = createModel('patch-mlp');
    (bad.params['head.bias'] as Float32Array)[3] = value;
    for (const quantize of ['none', 'int8', 'fp16'] as const) {
      expectError(() => exportOnnx(bad, { quantize }), 'E_NON_FINITE', new RegExp(`tensor 'head\\.bias' holds ${name} at index 3`));
    }
  });

  it.each([
    ['1e6', 1e6],
    ['-70000', -70000],
    ['65520 (the first value float16 rounds to Infinity)', 65520],
  ])('fp16: a finite weight of %s, beyond float16, is refused (E_NON_FINITE naming it); float32 and int8 export it', (_what, value) => {
    const big = createModel('patch-mlp');
    (big.params['embed.weight'] as Float32Array)[5] = value;
    expectError(
      () => exportOnnx(big, { quantize: 'fp16' }),
      'E_NON_FINITE',
      new RegExp(`Parameter 'embed\\.weight' holds ${value} at index 5, beyond float16's range \\(largest 65504\\).*float32.*or int8`),
    );
    expect(exportOnnx(big).length).toBeGreaterThan(0);
    expect(exportOnnx(big, { quantize: 'int8' }).length).toBeGreaterThan(0);
  });

  it("fp16: 65504 and 65519 (which round to float16's largest value) export", () => {
    const edge = createModel('patch-mlp');
    (edge.params['embed.weight'] as Float32Array).set([65504, -65519], 0);
    expect(exportOnnx(edge, { quantize: 'fp16' }).length).toBeGreaterThan(0);
  });

  it('unparsable checkpoint files (E_CHECKPOINT); wrong argument types (TypeError, RangeError)', () => {
    expectError(() => exportOnnx({ checkpointJson: '{nope', weights: new Uint8Array(8) }), 'E_CHECKPOINT', /not valid JSON/);
    const json = JSON.stringify({ format: 'fmnist-checkpoint', version: 1, config: model.config });
    // checkpoint.json is checked against its schema: the first missing field is named.
    expectError(() => exportOnnx({ checkpointJson: json, weights: new Uint8Array([1, 2, 3]) }), 'E_CHECKPOINT', /field 'epoch' is missing/);
    expect(() => exportOnnx(null as never)).toThrow(TypeError);
    expect(() => exportOnnx({ foo: 1 } as never)).toThrow(/'config' and 'params'/);
    expect(() => exportOnnx(model, { quantize: 'int4' as 'int8' })).toThrow(RangeError);
    expect(() => exportOnnx({ config: 'patch-mlp', params: { ...model.params, 'head.bias': [0] as never } })).toThrow(TypeError);
  });

  it('readOnnxMetadata: E_NOT_ONNX for non-ONNX bytes, E_NO_METADATA for ONNX from elsewhere', () => {
    expectError(() => readOnnxMetadata(new Uint8Array()), 'E_NOT_ONNX', /empty/);
    expectError(
      () => readOnnxMetadata(new TextEncoder().encode('<!doctype html><html>Not found</html>')),
      'E_NOT_ONNX',
      /Not an ONNX model/,
    );
    expectError(() => readOnnxMetadata(encodeWeights(model.config, model.params)), 'E_NOT_ONNX', /Not an ONNX model/);
    expectError(() => readOnnxMetadata(new Uint8Array([0x08, 0x08])), 'E_NOT_ONNX', /no IR version, graph or opset/);
    expect(() => readOnnxMetadata('model.onnx' as never)).toThrow(TypeError);
    const foreign = create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: 'pytorch',
      producerVersion: '2.5',
      opsetImport: [{ domain: '', version: 17n }],
      graph: { name: 'g' },
    });
    expectError(
      () => readOnnxMetadata(toBinary(ModelProtoSchema, foreign)),
      'E_NO_METADATA',
      /producer: pytorch 2\.5.*not exported by @fmnist\/onnx/,
    );
  });
});

describe('weight formats', () => {
  it('float16 conversion rounds to nearest even, with subnormals, overflow to Infinity and NaN', () => {
    const values = [0, -0, 1, -2, 65504, 65520, 1e6, 6.1e-5, 5.96e-8, 2.98e-8, 1e-9, 1 + 2 ** -11, 1 + 3 * 2 ** -11, Math.PI, Number.NaN];
    const bits = toHalfBits(new Float32Array(values));
    expect(Array.from(bits.subarray(0, 14), (b) => b.toString(16))).toEqual([
      '0',
      '8000',
      '3c00',
      'c000',
      '7bff',
      '7c00',
      '7c00',
      '3ff',
      '1',
      '0',
      '0',
      '3c00',
      '3c02',
      '4248',
    ]);
    expect(Number.isNaN(fromHalfBits(bits[14] as number))).toBe(true);
    expect(fromHalfBits(0x3c00)).toBe(1);
    expect(fromHalfBits(0x0001)).toBe(2 ** -24);
    // Every float16 value survives float32 → float16 unchanged.
    const all = Float32Array.from({ length: 0x7c00 }, (_, i) => fromHalfBits(i));
    expect(Array.from(toHalfBits(all)).every((b, i) => b === i)).toBe(true);
  });

  it('int8: symmetric per-output-column scales, error ≤ half a step', () => {
    const w = new Float32Array([0.5, -1, 0, 0.25, 2, 0]);
    const { q, scale } = quantizeInt8(w, 2, 3);
    expect(Array.from(scale)).toEqual([0.5 / 127, 2 / 127, 1].map(Math.fround));
    expect(Array.from(q)).toEqual([127, -64, 0, 64, 127, 0]);
    for (let i = 0; i < w.length; i++)
      expect(Math.abs((q[i] as number) * (scale[i % 3] as number) - (w[i] as number))).toBeLessThanOrEqual(
        (scale[i % 3] as number) / 2 + 1e-9,
      );
  });
});
