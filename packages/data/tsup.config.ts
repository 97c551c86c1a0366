import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', node: 'src/node.ts', tfjs: 'src/tfjs.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: false, // not published: maps would point at src/, which the tarball leaves out (CONTRIBUTING.md)
    clean: true,
    target: 'es2022',
    platform: 'neutral',
    external: [/^node:/, /^@tensorflow\//],
  },
  {
    entry: { bin: 'src/bin.ts' },
    format: ['esm'],
    sourcemap: false, // not published: maps would point at src/, which the tarball leaves out (CONTRIBUTING.md)
    target: 'node20',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
