import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['@tracemend/testing/temporal-global-setup'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
