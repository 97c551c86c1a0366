import { defineConfig } from 'vitest/config';

/** End-to-end tests: the built app (dist/) served on 127.0.0.1 and driven in Debian's Chromium by playwright-core. */
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
