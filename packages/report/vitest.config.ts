import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // type tests (`*.test-d.ts`): checked by tsc as part of `vitest run`
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'] },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
