import { defineConfig } from 'tsup';

// One ESM entry; every command is a dynamic import, so tsup splits it into its own chunk and `fmnist --help` loads
// neither TensorFlow.js nor the native modules.
export default defineConfig({
  entry: { bin: 'src/bin.ts' },
  format: ['esm'],
  sourcemap: false, // not published: maps would point at src/, which the tarball leaves out (CONTRIBUTING.md)
  clean: true,
  splitting: true,
  target: 'node20',
  platform: 'node',
  banner: { js: '#!/usr/bin/env node' },
});
