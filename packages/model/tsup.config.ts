import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', core: 'src/core.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: false, // not published: maps would point at src/, which the tarball leaves out (CONTRIBUTING.md)
  clean: true,
  target: 'node20',
  platform: 'node',
  shims: true,
});
