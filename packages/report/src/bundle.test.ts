/**
 * The built package must run in a page: `dist/` (what npm ships) imports no Node built-in, and bundled for the
 * browser with esbuild it pulls in none either (fflate's and @fmnist/data's browser builds) — and runs in a bare
 * JavaScript context with no `Buffer`, `process` or `require`, rendering a report there.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { beforeAll, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isBuiltin = (p: string) => p.startsWith('node:') || builtins.has(p) || builtins.has(p.split('/')[0] as string);

let dist: Record<'esm' | 'cjs', string>;
beforeAll(() => {
  try {
    dist = { esm: readFileSync(join(root, 'dist/index.js'), 'utf8'), cjs: readFileSync(join(root, 'dist/index.cjs'), 'utf8') };
  } catch (err) {
    throw new Error(`packages/report/dist is missing: run \`pnpm --filter @fmnist/report build\` first (\`pnpm test\` does). ${err}`);
  }
});

it('dist/index.js and dist/index.cjs import only @fmnist/data and fflate: no node: or bare Node built-in', () => {
  const esm = [...dist.esm.matchAll(/\b(?:from|import)\s*["']([^"']+)["']/g)].map((m) => m[1]);
  const cjs = [...dist.cjs.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
  expect(new Set(esm)).toEqual(new Set(['@fmnist/data', 'fflate']));
  expect(new Set(cjs)).toEqual(new Set(['@fmnist/data', 'fflate']));
  for (const code of [dist.esm, dist.cjs]) {
    expect(code).not.toMatch(/["'`]node:/);
    expect(code).not.toMatch(/\bBuffer\b|\bprocess\.|\bimport\(/);
  }
});

it('bundles with platform=browser without a Node built-in, and renders a report in a context without Node globals', async () => {
  const result = await build({
    stdin: {
      contents: `import { renderRunReport } from './dist/index.js';
        globalThis.render = () => renderRunReport({
          title: 'browser', epochs: [{ epoch: 1, trainLoss: 0.5, trainAccuracy: 0.8, testLoss: 0.4, testAccuracy: 0.5, timeMs: 10, imagesPerSecond: 1 }],
          evaluation: { confusion: [[1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], predictions: new Uint8Array([0, 0]) },
          testImages: { images: new Uint8Array(2 * 784).fill(99), labels: new Uint8Array([0, 1]) },
          config: { where: 'a page' },
        }).html;`,
      resolveDir: root,
      loader: 'js',
    },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
    metafile: true,
  });
  const inputs = Object.entries(result.metafile.inputs);
  const problems = inputs.flatMap(([file, input]) => [
    ...(isBuiltin(file) ? [`${file} is a Node built-in`] : []),
    ...input.imports.filter((i) => isBuiltin(i.path) || i.external).map((i) => `${file} imports '${i.path}'`),
  ]);
  expect(problems).toEqual([]);
  const files = inputs.map(([f]) => f);
  expect(files.some((f) => /fflate\/esm\/browser\.js$/.test(f))).toBe(true);
  expect(files.filter((f) => /@tensorflow|onnxruntime|sharp|node_modules\/@types\/node/.test(f))).toEqual([]);
  const code = result.outputFiles[0]?.text ?? '';
  expect(code).not.toMatch(/["'`]node:/);
  // A bare context: the language's built-ins and the two web APIs a page has (btoa, console), nothing of Node.
  const context = createContext({ btoa, console });
  runInContext(code, context);
  expect(runInContext('typeof Buffer + typeof process + typeof require', context)).toBe('undefinedundefinedundefined');
  const page = runInContext('render()', context) as string;
  expect(page.startsWith('<!doctype html>')).toBe(true);
  expect(page.match(/<img alt="test image 1" src="data:image\/png;base64,iVBORw0KGgo[A-Za-z0-9+/=]+">/g)).toHaveLength(1);
  expect(page).toContain('&quot;where&quot;: &quot;a page&quot;'.replace(/&quot;/g, '"'));
});
