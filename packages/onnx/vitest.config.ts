import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  define: { __FMNIST_ONNX_VERSION__: JSON.stringify(version) },
  test: {
    include: ['src/**/*.test.ts'],
    // type tests (`*.test-d.ts`): checked by tsc as part of `vitest run`
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'] },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
