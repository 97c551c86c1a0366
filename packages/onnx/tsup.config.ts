import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: false, // not published: maps would point at src/, which the tarball leaves out (CONTRIBUTING.md)
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: [/^node:/],
  define: { __FMNIST_ONNX_VERSION__: JSON.stringify(version) },
});
