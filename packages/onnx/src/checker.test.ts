/**
 * External validation with the reference implementation: `onnx.checker.check_model(model, full_check=True)` from
 * Debian's python3-onnx (installed by .ci/run), on every preset in every weight format. Not skipped: a machine without
 * python3-onnx fails here with the install command.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createModel, PRESETS, type PresetName } from '@fmnist/model/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exportOnnx } from './export';
import { ModelProtoSchema, NodeProtoSchema } from './gen/onnx_pb';

const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../scripts/check-model.py');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-onnx-check-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface CheckResult {
  file: string;
  ok: boolean;
  error?: string;
  ir_version?: number;
  opset?: number;
  onnx_version?: string;
  inferred_outputs?: Record<string, (string | number)[]>;
}

async function check(files: string[]): Promise<CheckResult[]> {
  const run = promisify(execFile);
  let stdout: string;
  try {
    ({ stdout } = await run(PYTHON, [SCRIPT, ...files], { maxBuffer: 1 << 20 }));
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string };
    if (e.stderr?.includes("No module named 'onnx'") || e.code === 'ENOENT') {
      throw new Error(`${PYTHON} has no 'onnx' module: install Debian's python3-onnx (apt-get install -y python3-onnx). ${e.stderr ?? ''}`);
    }
    stdout = e.stdout ?? '';
    if (!stdout) throw err;
  }
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as CheckResult);
}

it('every preset, as fp32, int8 and fp16, passes onnx.checker.check_model(full_check=True)', async () => {
  const files: string[] = [];
  for (const preset of Object.keys(PRESETS) as PresetName[]) {
    const model = createModel(preset);
    for (const quantize of ['none', 'int8', 'fp16'] as const) {
      const file = join(dir, `${preset}.${quantize}.onnx`);
      await writeFile(file, exportOnnx(model, { quantize }));
      files.push(file);
    }
  }
  const custom = join(dir, 'custom.onnx');
  await writeFile(custom, exportOnnx(createModel({ preset: 'mixer-s', patchSize: 7, activation: 'relu', blocks: 2, numClasses: 4 })));
  files.push(custom);
  const results = await check(files);
  expect(results.map((r) => [r.file, r.ok, r.error])).toEqual(files.map((f) => [f, true, undefined]));
  for (const r of results) {
    expect(r.ir_version).toBe(8);
    expect(r.opset).toBe(17);
  }
  expect(results[0]?.inferred_outputs).toEqual({ logits: ['batch', 10], probabilities: ['batch', 10] });
});

it('the checker is not a rubber stamp: a broken graph fails it', async () => {
  const model = fromBinary(ModelProtoSchema, exportOnnx(createModel('patch-mlp')));
  model.graph!.node.push(create(NodeProtoSchema, { opType: 'MatMul', input: ['logits', 'no_such_value'], output: ['broken'] }));
  const file = join(dir, 'broken.onnx');
  await writeFile(file, toBinary(ModelProtoSchema, model));
  const [result] = await check([file]);
  expect(result?.ok).toBe(false);
  expect(result?.error).toMatch(/no_such_value/);
});
