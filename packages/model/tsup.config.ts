import { defineConfig, type Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * The main entry reaches the TensorFlow.js engines only through `import('./tfjs')` (src/backend.ts). Keep that import
 * pointing at the built `tfjs` entry beside it instead of bundling a second copy, so TensorFlow.js loads only when
 * asked for and both entries share one tfjs-node/wasm state (the CJS build has no code splitting).
 */
const tfjsEntryExternal: Plugin = {
  name: 'tfjs-entry-external',
  setup(build) {
    const file = build.initialOptions.format === 'cjs' ? './tfjs.cjs' : './tfjs.js';
    build.onResolve({ filter: /^\.\/tfjs$/ }, (args) => (args.kind === 'dynamic-import' ? { path: file, external: true } : undefined));
  },
};

export default defineConfig({
  // `worker`: the kernel engines' worker thread, started by file URL (src/kernels/worker-pool.ts), never eval'd.
  entry: { index: 'src/index.ts', core: 'src/core.ts', tfjs: 'src/tfjs.ts', worker: 'src/kernels/worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: false, // not published: maps would point at src/, which the tarball leaves out (CONTRIBUTING.md)
  clean: true,
  target: 'node20',
  platform: 'node',
  shims: true,
  esbuildPlugins: [tfjsEntryExternal],
  // Where worker-pool.ts finds the worker module: beside the bundle, in the bundle's own format.
  esbuildOptions(options, { format }) {
    options.define = { ...options.define, __FMNIST_WORKER_FILE__: JSON.stringify(format === 'cjs' ? './worker.cjs' : './worker.js') };
  },
});
