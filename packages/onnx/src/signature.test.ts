import { create, toBinary } from '@bufbuild/protobuf';
import { CLASS_NAMES } from '@fmnist/data';
import { createModel } from '@fmnist/model/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx } from './export';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  NodeProtoSchema,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType,
  TensorProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from './gen/onnx_pb';
import { tensorInfo } from './graph';
import { decodeModel, readOnnxMetadata } from './metadata';
import { checkOnnxOutput, checkOnnxSignature, inputDims } from './signature';
import { expectError } from './test-helpers';

let bytes: Uint8Array;
beforeAll(() => {
  bytes = exportOnnx(createModel('patch-mlp'));
});

/** The exported model, decoded, edited by `edit`, encoded again. */
function mutate(edit: (m: ModelProto) => void): Uint8Array {
  const m = decodeModel(bytes);
  edit(m);
  return toBinary(ModelProtoSchema, m);
}
const setMeta = (m: ModelProto, key: string, value: string | null) => {
  m.metadataProps = m.metadataProps.filter((p) => p.key !== key);
  if (value !== null) m.metadataProps.push({ $typeName: 'onnx.StringStringEntryProto', key, value });
};
const noMetadata = (m: ModelProto) => {
  m.metadataProps = [];
};
const graph = (m: ModelProto) => m.graph as NonNullable<ModelProto['graph']>;
const typed = (name: string, dims: (number | string)[], elemType: TensorProto_DataType): ValueInfoProto => {
  const info = tensorInfo(name, dims);
  if (info.type?.value.case === 'tensorType') info.type.value.value.elemType = elemType;
  return info;
};
const sig =
  (b: Uint8Array, options = {}) =>
  () =>
    checkOnnxSignature(b, options);

describe('checkOnnxSignature: what the exporter writes', () => {
  it('accepts an exported model and says how to feed it', () => {
    const s = checkOnnxSignature(bytes, { classCount: 10 });
    expect(s).toMatchObject({ inputName: 'image', layout: 'nchw', batchSize: null, logits: 'logits', probabilities: 'probabilities' });
    expect(s.classCount).toBe(10);
    expect(s.classNames).toEqual([...CLASS_NAMES]);
    expect(s.metadata?.preset).toBe('patch-mlp');
    expect(inputDims(s, 3)).toEqual([3, 1, 28, 28]);
  });
  it('accepts a decoded ModelProto as well as bytes, and int8/fp16 exports', () => {
    expect(checkOnnxSignature(decodeModel(bytes)).classCount).toBe(10);
    const model = createModel('patch-mlp');
    expect(checkOnnxSignature(exportOnnx(model, { quantize: 'int8' })).logits).toBe('logits');
    expect(checkOnnxSignature(exportOnnx(model, { quantize: 'fp16' })).probabilities).toBe('probabilities');
  });
  it('accepts a custom class count when the caller does not fix one, and refuses it when it does', () => {
    const b = exportOnnx(createModel({ preset: 'patch-mlp', numClasses: 5 }));
    expect(checkOnnxSignature(b).classNames).toEqual(['0', '1', '2', '3', '4']);
    expectError(sig(b, { classCount: 10 }), 'E_MODEL_SIGNATURE', /has 5 classes, expected 10/);
  });
});

describe('checkOnnxSignature: foreign graphs (no fmnist metadata)', () => {
  it('runs a 10-class graph without metadata with Fashion-MNIST names, unless metadata is required', () => {
    const foreign = mutate(noMetadata);
    expect(checkOnnxSignature(foreign).classNames[0]).toBe('T-shirt/top');
    expect(checkOnnxSignature(foreign).metadata).toBeNull();
    expectError(sig(foreign, { requireMetadata: true }), 'E_NO_METADATA', /not exported by @fmnist\/onnx/);
  });
  it('a flat [batch, 784] input and a single output of any name', () => {
    const flat = mutate((m) => {
      noMetadata(m);
      graph(m).input = [tensorInfo('x', ['N', 784])];
      graph(m).output = [tensorInfo('scores', ['N', 10])];
    });
    const s = checkOnnxSignature(flat);
    expect(s).toMatchObject({ inputName: 'x', layout: 'flat', logits: 'scores', probabilities: null });
    expect(inputDims(s, 2)).toEqual([2, 784]);
  });
  it('a fixed batch size is reported', () => {
    const fixed = mutate((m) => {
      noMetadata(m);
      graph(m).input = [tensorInfo('image', [1, 1, 28, 28])];
      graph(m).output = [tensorInfo('logits', [1, 10])];
    });
    expect(checkOnnxSignature(fixed).batchSize).toBe(1);
  });
  it('5 scores per image without metadata', () => {
    const five = mutate((m) => {
      noMetadata(m);
      graph(m).output = [tensorInfo('logits', ['batch', 5])];
    });
    expectError(sig(five), 'E_MODEL_SIGNATURE', /no fmnist metadata.*5 scores per image; Fashion-MNIST has 10 classes/);
  });
  it.each([
    ['rank-3 input', ['batch', 28, 28], /shape \[batch, 28, 28\] \(rank 3\), expected \[batch, 1, 28, 28\] or \[batch, 784\]/],
    ['3 channels', ['batch', 3, 28, 28], /shape \[batch, 3, 28, 28\]/],
    ['32×32 images', ['batch', 1, 32, 32], /shape \[batch, 1, 32, 32\]/],
    ['NHWC', ['batch', 28, 28, 1], /shape \[batch, 28, 28, 1\]/],
    ['[batch, 1024]', ['batch', 1024], /shape \[batch, 1024\]/],
    ['a scalar', [], /shape \[\] \(rank 0\)/],
  ])('refuses an input of another shape: %s', (_, dims, message) => {
    const b = mutate((m) => {
      noMetadata(m);
      graph(m).input = [tensorInfo('image', dims as (number | string)[])];
    });
    expectError(sig(b), 'E_MODEL_SIGNATURE', message);
  });
  it('refuses a non-float input (uint8 images)', () => {
    const b = mutate((m) => {
      noMetadata(m);
      graph(m).input = [typed('image', ['batch', 1, 28, 28], TensorProto_DataType.UINT8)];
    });
    expectError(sig(b), 'E_MODEL_SIGNATURE', /input 'image' is uint8, expected float32/);
  });
  it('refuses int64 outputs (class indices instead of scores)', () => {
    const b = mutate((m) => {
      noMetadata(m);
      graph(m).output = [typed('logits', ['batch', 10], TensorProto_DataType.INT64)];
    });
    expectError(sig(b), 'E_MODEL_SIGNATURE', /output 'logits' is int64, expected float32/);
  });
  it.each([
    ['[batch]', ['batch'], /output 'logits' has shape \[batch\], expected \[batch, classes\]/],
    ['[batch, classes] with a named class dim', ['batch', 'classes'], /\[batch, classes\], expected \[batch, classes\] with a fixed/],
    ['[batch, 10, 1]', ['batch', 10, 1], /shape \[batch, 10, 1\]/],
    ['[batch, 1]', ['batch', 1], /gives 1 score per image/],
  ])('refuses an output of shape %s', (_, dims, message) => {
    const b = mutate((m) => {
      noMetadata(m);
      graph(m).output = [tensorInfo('logits', dims as (number | string)[])];
    });
    expectError(sig(b), 'E_MODEL_SIGNATURE', message);
  });
  it('refuses graphs with no input, two inputs, no output, or several unnamed outputs', () => {
    expectError(sig(mutate((m) => void (graph(m).input = []))), 'E_MODEL_SIGNATURE', /no graph input/);
    const two = mutate((m) => void graph(m).input.push(tensorInfo('mask', ['batch', 784])));
    expectError(sig(two), 'E_MODEL_SIGNATURE', /2 graph inputs \('image', 'mask'\)/);
    expectError(sig(mutate((m) => void (graph(m).output = []))), 'E_MODEL_SIGNATURE', /no graph output/);
    const unnamed = mutate((m) => {
      noMetadata(m);
      graph(m).output = [tensorInfo('a', ['batch', 10]), tensorInfo('b', ['batch', 10])];
    });
    expectError(sig(unnamed), 'E_MODEL_SIGNATURE', /2 outputs \('a', 'b'\) and none is named 'logits' or 'probabilities'/);
  });
  it('ignores initializers listed among the inputs (older IR versions do that)', () => {
    const b = mutate((m) => {
      const first = graph(m).initializer[0];
      if (first) graph(m).input.push(tensorInfo(first.name, first.dims.map(Number)));
    });
    expect(checkOnnxSignature(b).inputName).toBe('image');
  });
  it('refuses an input without type or shape', () => {
    const untyped = mutate((m) => void (graph(m).input = [create(ValueInfoProtoSchema, { name: 'image' })]));
    expectError(sig(untyped), 'E_MODEL_SIGNATURE', /input 'image' is not a tensor/);
    const shapeless = mutate((m) => {
      const info = tensorInfo('image', []);
      if (info.type?.value.case === 'tensorType') info.type.value.value.shape = undefined;
      graph(m).input = [info];
    });
    expectError(sig(shapeless), 'E_MODEL_SIGNATURE', /declares no shape/);
  });
  it('refuses outputs whose batch differs from the input batch, and logits/probabilities that disagree', () => {
    const batch = mutate((m) => {
      noMetadata(m);
      graph(m).input = [tensorInfo('image', [4, 1, 28, 28])];
      graph(m).output = [tensorInfo('logits', [2, 10])];
    });
    expectError(sig(batch), 'E_MODEL_SIGNATURE', /batch dimension 2 for an input batch of 4/);
    const disagree = mutate((m) => {
      noMetadata(m);
      graph(m).output = [tensorInfo('logits', ['batch', 10]), tensorInfo('probabilities', ['batch', 9])];
    });
    expectError(sig(disagree), 'E_MODEL_SIGNATURE', /disagree: 'logits' gives 10 scores per image, 'probabilities' 9/);
  });
  it('bytes that are not ONNX stay E_NOT_ONNX', () => {
    expectError(sig(new TextEncoder().encode('<svg/>')), 'E_NOT_ONNX', /Not an ONNX model/);
  });
});

describe('checkOnnxSignature: graph against fmnist metadata', () => {
  it('5 outputs per image with 10 class names (the misaligned-logits case)', () => {
    const b = mutate((m) => {
      graph(m).output = [tensorInfo('logits', ['batch', 5]), tensorInfo('probabilities', ['batch', 5])];
    });
    expectError(sig(b), 'E_MODEL_SIGNATURE', /metadata names 10 classes, but its output 'logits' gives 5 scores per image/);
  });
  it.each([3, 20])('%i class names for a 10-class graph', (n) => {
    const b = mutate((m) => setMeta(m, 'class_names', JSON.stringify(Array.from({ length: n }, (_, i) => `c${i}`))));
    expectError(sig(b), 'E_MODEL_SIGNATURE', new RegExp(`metadata names ${n} classes, but its output 'logits' gives 10`));
  });
  it('a config whose numClasses disagrees with the graph', () => {
    const b = mutate((m) => {
      const config = JSON.parse(m.metadataProps.find((p) => p.key === 'config')?.value as string);
      setMeta(m, 'config', JSON.stringify({ ...config, numClasses: 12 }));
    });
    expectError(sig(b), 'E_MODEL_SIGNATURE', /numClasses 12, but its graph gives 10/);
  });
  it('metadata input name or shape that is not the graph’s', () => {
    const renamed = mutate((m) =>
      setMeta(m, 'input', JSON.stringify({ name: 'pixels', shape: ['batch', 1, 28, 28], normalization: 'unit' })),
    );
    expectError(sig(renamed), 'E_MODEL_SIGNATURE', /metadata names its input 'pixels', but the graph's input is 'image'/);
    const flat = mutate((m) => setMeta(m, 'input', JSON.stringify({ name: 'image', shape: ['batch', 784], normalization: 'unit' })));
    expectError(sig(flat), 'E_MODEL_SIGNATURE', /shape \[batch, 784\], but the graph's input has \[batch, 1, 28, 28\]/);
    const fixed = mutate((m) => setMeta(m, 'input', JSON.stringify({ name: 'image', shape: [1, 1, 28, 28], normalization: 'unit' })));
    expectError(sig(fixed), 'E_MODEL_SIGNATURE', /shape \[1, 1, 28, 28\]/);
  });
  it('metadata listing an output the graph lacks', () => {
    const b = mutate((m) => void (graph(m).output = graph(m).output.filter((o) => o.name === 'logits')));
    expectError(sig(b), 'E_MODEL_SIGNATURE', /lists output 'probabilities' that its graph lacks/);
  });
  it('damaged metadata is never skipped as "foreign": E_NO_METADATA naming the entry', () => {
    expectError(sig(mutate((m) => setMeta(m, 'class_names', 'null'))), 'E_NO_METADATA', /'class_names' must be a JSON array.*got null/);
    expectError(
      sig(mutate((m) => setMeta(m, 'class_names', JSON.stringify('abcdefghij')))),
      'E_NO_METADATA',
      /'class_names' must be a JSON array.*got a string \("abcdefghij"\)/,
    );
    expectError(
      sig(mutate((m) => setMeta(m, 'class_names', '[1,2,3,4,5,6,7,8,9,10]'))),
      'E_NO_METADATA',
      /'class_names\[0\]'.*got the number 1/,
    );
  });
});

describe('checkOnnxSignature: class names that could forge output', () => {
  it.each([
    ['a newline', 'T-shirt\nshoe.png: Sandal 99.9%'],
    ['a carriage return', 'Bag\rSandal'],
    ['a tab', 'Bag\tx'],
    ['an escape sequence', 'Bag\u001b]0;pwned\u0007'],
    ['a C1 CSI', 'Bag\u009b2J'],
    ['a bidirectional override', 'Bag\u202eetihw'],
    ['a line separator', 'Bag\u2028Coat'],
  ])('a class name with %s is damaged metadata naming the entry', (_what, name) => {
    const names = [...CLASS_NAMES] as string[];
    names[3] = name;
    expectError(
      sig(mutate((m) => setMeta(m, 'class_names', JSON.stringify(names)))),
      'E_NO_METADATA',
      /'class_names\[3\]' must be a class name without control characters/,
    );
  });
  it('names in other scripts and with punctuation are fine', () => {
    const names = ['T-shirt/top', 'Hose (lang)', 'Pullover', 'فستان', '外套', 'Sandale', 'Hemd', 'Turnschuh', 'Tasche', 'Stiefelette'];
    expect(checkOnnxSignature(mutate((m) => setMeta(m, 'class_names', JSON.stringify(names)))).classNames).toEqual(names);
  });
});

describe('checkOnnxSignature: only self-contained models', () => {
  const external = (location: string) => (t: TensorProto) => {
    t.dataLocation = TensorProto_DataLocation.EXTERNAL;
    t.externalData = [{ $typeName: 'onnx.StringStringEntryProto', key: 'location', value: location }];
    t.rawData = new Uint8Array(0);
  };
  it('an initializer kept in an external file is refused, naming the tensor and the file', () => {
    const b = mutate((m) => external('secret.bin')(graph(m).initializer[0] as TensorProto));
    expectError(sig(b), 'E_MODEL_SIGNATURE', /keeps tensor "[^"]+" in an external file \("secret\.bin"\); only self-contained models/);
  });
  it('an external tensor inside a node attribute (a Constant) or a subgraph is found too', () => {
    const constant = mutate((m) => {
      const t = create(TensorProtoSchema, { name: 'k', dims: [1n], dataType: TensorProto_DataType.FLOAT });
      external('../../etc/passwd')(t);
      graph(m).node.push(
        create(NodeProtoSchema, {
          opType: 'Constant',
          output: ['k_out'],
          attribute: [create(AttributeProtoSchema, { name: 'value', t, type: AttributeProto_AttributeType.TENSOR })],
        }),
      );
    });
    expectError(sig(constant), 'E_MODEL_SIGNATURE', /keeps tensor "k" in an external file \("\.\.\/\.\.\/etc\/passwd"\)/);
    const nested = mutate((m) => {
      const t = create(TensorProtoSchema, { name: 'deep', dims: [1n], dataType: TensorProto_DataType.FLOAT });
      external('x.bin')(t);
      const sub = create(GraphProtoSchema, { name: 'then', initializer: [t] });
      graph(m).node.push(
        create(NodeProtoSchema, {
          opType: 'If',
          input: ['cond'],
          output: ['if_out'],
          attribute: [create(AttributeProtoSchema, { name: 'then_branch', g: sub, type: AttributeProto_AttributeType.GRAPH })],
        }),
      );
    });
    expectError(sig(nested), 'E_MODEL_SIGNATURE', /keeps tensor "deep" in an external file/);
  });
  it('what the exporter writes is self-contained, at every quantization', () => {
    for (const quantize of ['none', 'int8', 'fp16'] as const) {
      expect(() => checkOnnxSignature(exportOnnx(createModel('patch-mlp'), { quantize }))).not.toThrow();
    }
  });
});

describe('readOnnxMetadata: every entry checked', () => {
  const bad = (key: string, value: string | null) => () => readOnnxMetadata(mutate((m) => setMeta(m, key, value)));
  it.each([
    ['class_names', '{"0":"a"}', /'class_names' must be a JSON array.*got an object/],
    ['class_names', '["only one"]', /'class_names' must be a JSON array of 2 to 1000/],
    ['class_names', JSON.stringify(['a', 'a', 'b']), /'class_names\[1\]' must be distinct/],
    ['class_names', JSON.stringify(['a', '   ']), /'class_names\[1\]' must be a non-empty string/],
    ['class_names', JSON.stringify(['a', 'x'.repeat(101)]), /at most 100 characters/],
    ['input', 'null', /'input' must be a JSON object/],
    ['input', '{"name":"image","shape":"batch,1,28,28"}', /'input\.shape' must be an array/],
    ['input', '{"name":"image","shape":["batch",-1,28,28]}', /'input\.shape\[1\]' must be a positive integer/],
    ['outputs', '"logits"', /'outputs' must be a JSON array of output names/],
    ['config', '[]', /'config' must be a model config object/],
    ['parameters', 'many', /'parameters' must be a non-negative integer, got a string \("many"\)/],
    ['parameters', null, /no 'parameters' entry/],
    ['format_version', 'NaN', /'format_version' must be a non-negative integer/],
    ['training', '{"learningRate":"fast"}', /'training\.learningRate' must be a finite number, got a string/],
    ['training', '{"batchSize":-3}', /'training\.batchSize' must be a non-negative integer, got the number -3/],
    ['training', '{"initSeed":"seven"}', /'training\.initSeed' must be a finite number, got a string/],
    ['training', '"adam"', /'training' must be a JSON object/],
    ['metrics', '{"epoch":3,"testAccuracy":"81%"}', /'metrics\.testAccuracy' must be a fraction in \[0, 1\]/],
    ['metrics', '{"epoch":3,"testAccuracy":1.5}', /'metrics\.testAccuracy' must be a fraction/],
    ['metrics', '{"epoch":"three"}', /'metrics\.epoch' must be a non-negative integer/],
    ['dataset', '{"name":"mnist","source":"x","sha256":{},"recorded":true}', /'dataset\.name' must be 'fashion-mnist'/],
    ['dataset', '{"name":"fashion-mnist","source":"x","sha256":null,"recorded":true}', /'dataset\.sha256'/],
  ])('%s = %s', (key, value, message) => {
    expectError(bad(key, value), 'E_NO_METADATA', message);
  });
});

describe('checkOnnxOutput', () => {
  it('passes float32 [n, C] and refuses other types and dims', () => {
    const s = { classCount: 10 };
    expect(() => checkOnnxOutput(s, 'logits', { type: 'float32', dims: [4, 10] }, 4)).not.toThrow();
    expectError(
      () => checkOnnxOutput(s, 'logits', { type: 'float32', dims: [4, 5] }, 4),
      'E_MODEL_SIGNATURE',
      /float32 \[4, 5\] for 4 images, expected float32 \[4, 10\]/,
    );
    expectError(
      () => checkOnnxOutput(s, 'logits', { type: 'int64', dims: [1, 10] }, 1),
      'E_MODEL_SIGNATURE',
      /int64 \[1, 10\] for 1 image,/,
    );
    expectError(() => checkOnnxOutput(s, 'logits', { type: 'float32', dims: [40] }, 4), 'E_MODEL_SIGNATURE', /\[40\]/);
  });
});
