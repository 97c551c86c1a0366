import { defineConfig } from 'vitest/config';

/** Unit tests: pure modules (preprocessing, metadata, metrics), no DOM and no browser. */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
  },
});
