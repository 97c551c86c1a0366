/**
 * `fmnist eval` and `fmnist predict` on foreign, inconsistent and hostile ONNX models, run as the built binary: each
 * is refused with a one-line error naming the file (exit 1, no stack), or — when the graph is sound — runs in the
 * graph's own layout. Models are made by the exporter and edited with the project's own ONNX protobuf code.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { CLASS_NAMES } from '@fmnist/data';
import { createModel } from '@fmnist/model/core';
import { exportOnnx } from '@fmnist/onnx';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The generated onnx.proto code of @fmnist/onnx (not part of its public API; tests only).
import {
  type ModelProto,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProto_DataType,
  TensorProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from '../../../packages/onnx/src/gen/onnx_pb';
import { ortOptimizationLevel } from './onnx-io';
import { expectUserError, runCli } from './test-cli';

let dir: string;
let base: Uint8Array;
let images: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-onnx-io-'));
  base = exportOnnx(createModel('patch-mlp'));
  images = [];
  for (const [i, shade] of [40, 140, 240].entries()) {
    const file = join(dir, `img${i}.png`);
    const px = Buffer.alloc(28 * 28);
    for (let k = 0; k < px.length; k++) px[k] = (k * (i + 3) + shade) % 256;
    await sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(file);
    images.push(file);
  }
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function tensorInfo(name: string, dims: (number | string)[], elemType = TensorProto_DataType.FLOAT): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType,
          shape: {
            dim: dims.map((d) =>
              typeof d === 'number'
                ? { value: { case: 'dimValue' as const, value: BigInt(d) } }
                : { value: { case: 'dimParam' as const, value: d } },
            ),
          },
        },
      },
    },
  });
}

const graph = (m: ModelProto) => m.graph as NonNullable<ModelProto['graph']>;
const setMeta = (m: ModelProto, key: string, value: string | null) => {
  m.metadataProps = m.metadataProps.filter((p) => p.key !== key);
  if (value !== null) m.metadataProps.push({ $typeName: 'onnx.StringStringEntryProto', key, value });
};

/** Writes `bytes` (the exported model unless given) edited by `edit` to `<name>.onnx`. */
async function model(name: string, edit: (m: ModelProto) => void = () => {}, bytes = base): Promise<string> {
  const m = fromBinary(ModelProtoSchema, bytes);
  edit(m);
  const file = join(dir, `${name}.onnx`);
  await writeFile(file, toBinary(ModelProtoSchema, m));
  return file;
}

/** Prepends Reshape(x [batch, 784] → image [batch, 1, 28, 28]): a real graph with a flat input. */
function flatten(m: ModelProto): void {
  const g = graph(m);
  g.initializer.push(
    create(TensorProtoSchema, {
      name: 'x_shape',
      dataType: TensorProto_DataType.INT64,
      dims: [4n],
      rawData: new Uint8Array(BigInt64Array.from([-1n, 1n, 28n, 28n]).buffer),
    }),
  );
  g.node.unshift(create(NodeProtoSchema, { name: 'flat_to_image', opType: 'Reshape', input: ['x', 'x_shape'], output: ['image'] }));
  g.input = [tensorInfo('x', ['batch', 784])];
}

const predictJson = async (file: string) => {
  const r = await runCli(['predict', file, ...images, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).predictions.map((p: { label: number; probability: number }) => [p.label, p.probability.toFixed(5)]);
};

describe('eval and predict refuse inconsistent or foreign graphs', () => {
  it('5 outputs per image under fmnist metadata (eval used to report 10.04 %)', async () => {
    const file = await model('five', (m) => {
      graph(m).output = [tensorInfo('logits', ['batch', 5]), tensorInfo('probabilities', ['batch', 5])];
    });
    const r = await runCli(['eval', file]);
    expectUserError(
      r,
      1,
      /five\.onnx: The model's metadata names 10 classes, but its output 'logits' gives 5 scores per image.*\[E_MODEL_SIGNATURE\]/,
    );
    expect(r.stderr).not.toMatch(/accuracy/);
  });
  it('a real 5-class model: eval refuses it (Fashion-MNIST has 10), predict names its 5 classes', async () => {
    const file = await model('five-real', () => {}, exportOnnx(createModel({ preset: 'patch-mlp', numClasses: 5 })));
    expectUserError(await runCli(['eval', file]), 1, /five-real\.onnx: The model has 5 classes, expected 10/);
    const r = await runCli(['predict', file, images[0] as string, '--top', '10', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(
      JSON.parse(r.stdout)
        .predictions[0].top.map((t: { name: string }) => t.name)
        .sort(),
    ).toEqual(['0', '1', '2', '3', '4']);
  });
  it('the same 5-class graph without metadata', async () => {
    const file = await model(
      'five-foreign',
      (m) => void (m.metadataProps = []),
      exportOnnx(createModel({ preset: 'patch-mlp', numClasses: 5 })),
    );
    expectUserError(await runCli(['predict', file, images[0] as string]), 1, /no fmnist metadata naming its classes and gives 5 scores/);
  });
  it.each([3, 20])('%i class names for 10 scores', async (n) => {
    const file = await model(`names${n}`, (m) => setMeta(m, 'class_names', JSON.stringify(Array.from({ length: n }, (_, i) => `c${i}`))));
    expectUserError(await runCli(['predict', file, images[0] as string]), 1, new RegExp(`metadata names ${n} classes, but its output`));
  });
  it('class names that are a string, or null', async () => {
    const str = await model('names-string', (m) => setMeta(m, 'class_names', JSON.stringify('ABCDEFGHIJ')));
    expectUserError(
      await runCli(['predict', str, images[0] as string]),
      1,
      /'class_names' must be a JSON array.*got a string.*\[E_NO_METADATA\]/,
    );
    const nul = await model('names-null', (m) => setMeta(m, 'class_names', 'null'));
    expectUserError(await runCli(['eval', nul]), 1, /names-null\.onnx: .*'class_names' must be a JSON array.*got null/);
  });
  it('a rank-3 input', async () => {
    const file = await model('rank3', (m) => {
      m.metadataProps = [];
      graph(m).input = [tensorInfo('image', ['batch', 28, 28])];
    });
    expectUserError(await runCli(['eval', file]), 1, /rank3\.onnx: The model's input 'image' has shape \[batch, 28, 28\] \(rank 3\)/);
  });
  it('int64 outputs', async () => {
    const file = await model('int64', (m) => {
      m.metadataProps = [];
      graph(m).output = [tensorInfo('logits', ['batch', 10], TensorProto_DataType.INT64)];
    });
    expectUserError(await runCli(['predict', file, images[0] as string]), 1, /output 'logits' is int64, expected float32/);
  });
  it('no inputs or no outputs', async () => {
    expectUserError(await runCli(['eval', await model('no-input', (m) => void (graph(m).input = []))]), 1, /no graph input/);
    expectUserError(
      await runCli(['predict', await model('no-output', (m) => void (graph(m).output = [])), images[0] as string]),
      1,
      /no graph output/,
    );
  });
  it('the model is checked before any data is read: a bad model with a missing data folder names the model', async () => {
    const file = await model('five-first', (m) => {
      graph(m).output = [tensorInfo('logits', ['batch', 5]), tensorInfo('probabilities', ['batch', 5])];
    });
    const noData = join(dir, 'no-such-data');
    expectUserError(await runCli(['eval', file, '--dir', noData]), 1, /five-first\.onnx: .*\[E_MODEL_SIGNATURE\]/);
    expectUserError(await runCli(['predict', file, '--test-index', '0', '--dir', noData]), 1, /five-first\.onnx: /);
  });
  it('damaged figures in the metadata', async () => {
    const file = await model('bad-params', (m) => setMeta(m, 'parameters', 'NaN'));
    expectUserError(await runCli(['eval', file]), 1, /'parameters' must be a non-negative integer/);
  });
});

describe('eval and predict run sound graphs in their own layout', () => {
  it('a 10-class graph without metadata runs with Fashion-MNIST names', async () => {
    const file = await model('foreign', (m) => {
      m.metadataProps = [];
      m.producerName = 'pytorch';
    });
    const r = await runCli(['eval', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.images).toBe(10000);
    expect(Object.keys(out.perClass)).toContain('Ankle boot');
  });
  it('a flat [batch, 784] input and a fixed batch of 1 give the same predictions as the exported model', async () => {
    const expected = await predictJson(await model('plain'));
    const flat = await model('flat', (m) => {
      flatten(m);
      setMeta(m, 'input', JSON.stringify({ name: 'x', shape: ['batch', 784], normalization: 'unit' }));
    });
    expect(await predictJson(flat)).toEqual(expected);
    const one = await model('batch1', (m) => {
      m.metadataProps = [];
      graph(m).input = [tensorInfo('image', [1, 1, 28, 28])];
      graph(m).output = [tensorInfo('logits', [1, 10]), tensorInfo('probabilities', [1, 10])];
    });
    expect(await predictJson(one)).toEqual(expected);
  });
});

describe('terminal safety of what a model says', () => {
  it.each([
    ['an OSC title', '\x1b]0;pwned\x07T-shirt'],
    ['a clear screen', '\x1b[2JTrouser'],
    ['a carriage return', 'Pull\rover'],
    ['a bidi override', 'Dress\u202e'],
    ['a C1 CSI', 'Coat\u009b2J'],
  ])('class names with %s are damaged metadata, refused in a message that is itself escaped', async (_what, bad) => {
    const names: string[] = [...CLASS_NAMES];
    names[2] = bad;
    const file = await model(`ansi-${names.indexOf(bad)}-${bad.length}`, (m) => setMeta(m, 'class_names', JSON.stringify(names)));
    for (const args of [
      ['predict', file, images[0] as string, '--json'],
      ['eval', file],
    ]) {
      const r = await runCli(args);
      expectUserError(r, 1, /'class_names\[2\]' must be a class name without control characters.*\[E_NO_METADATA\]/);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
      const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
      expect(r.stderr).not.toMatch(unsafe);
      expect(r.stdout).toBe('');
    }
  });
  it('an error message quoting a file name with escape sequences is escaped', async () => {
    const file = join(dir, 'evil\x1b[2J.onnx');
    await writeFile(file, 'not a model');
    const r = await runCli(['eval', file]);
    expectUserError(r, 1, /evil\\x1b\[2J\.onnx: not an ONNX model/);
    expect(r.stderr).not.toContain('\x1b');
  });
  it('predict refuses an SVG that pulls in /etc/passwd, before decoding', async () => {
    const svg = join(dir, 'leak.svg');
    await writeFile(
      svg,
      '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><image href="file:///etc/passwd" width="28" height="28"/></svg>',
    );
    const r = await runCli(['predict', await model('for-svg'), svg]);
    expectUserError(r, 1, /leak\.svg: SVG and other XML\/HTML images are refused/);
  });
});

describe('ortOptimizationLevel', () => {
  it('reads int8 models at basic (no MatMulNBits fusion, the float32 result) and the others at all', () => {
    expect(ortOptimizationLevel({ quantization: 'int8' })).toBe('basic');
    expect(ortOptimizationLevel({ quantization: 'none' })).toBe('all');
    expect(ortOptimizationLevel({ quantization: 'fp16' })).toBe('all');
    expect(ortOptimizationLevel({})).toBe('all');
    expect(ortOptimizationLevel(null)).toBe('all');
  });
});
