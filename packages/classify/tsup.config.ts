import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: false, // not published: maps would point at src/, which the tarball leaves out (CONTRIBUTING.md)
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // sharp is an optional peer, imported only by the Node entry when a file or encoded image is given.
  external: [/^node:/, 'sharp'],
  shims: true, // import.meta.url in the CJS build: where the bundled model file sits
  // The bundled model (model/fmnist-classify.safetensors) ships beside the code as dist/fmnist-classify.safetensors.
  publicDir: 'model',
});
