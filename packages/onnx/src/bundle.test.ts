/** The default entry must bundle for browsers with no Node built-ins (and without TensorFlow.js or onnxruntime). */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

it('the exporter bundles with platform=browser and contains no Node built-in', async () => {
  const result = await build({
    stdin: {
      contents: `import { exportOnnx, readOnnxMetadata, readOnnxWeights } from './src/index.ts'; import { createModel } from '@fmnist/model/core';
        const bytes = exportOnnx(createModel('patch-mlp'), { quantize: 'int8' }); console.log(readOnnxMetadata(bytes).classNames);
        console.log(Object.keys(readOnnxWeights(bytes).params));`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    metafile: true,
    define: { __FMNIST_ONNX_VERSION__: '"test"' },
  });
  const code = result.outputFiles[0]?.text ?? '';
  const inputs = Object.keys(result.metafile.inputs);
  expect(code.length).toBeGreaterThan(10_000);
  expect(code).toContain('DequantizeLinear');
  const nodeish = [
    ...code.matchAll(
      /.{0,40}(?:["'`]node:|require\(["'](?:fs|zlib|crypto|os|path|http|worker_threads)["']\)|createReadStream|homedir).{0,40}/g,
    ),
  ];
  expect(nodeish.map((m) => m[0])).toEqual([]);
  expect(inputs.filter((f) => /@tensorflow|onnxruntime|checkpoint-node|node_modules\/@types\/node/.test(f))).toEqual([]);
  expect(inputs.some((f) => f.includes('@bufbuild/protobuf'))).toBe(true);
});
