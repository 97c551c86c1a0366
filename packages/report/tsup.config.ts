import { defineConfig } from 'tsup';

// One entry, browser-safe: no Node built-ins (src/bundle.test.ts bundles dist/ for the browser and checks).
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: false, // not published: maps would point at src/, which the tarball leaves out (CONTRIBUTING.md)
  clean: true,
  target: 'es2022',
  platform: 'neutral',
});
