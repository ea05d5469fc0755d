import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['@tracemend/testing/temporal-global-setup'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
