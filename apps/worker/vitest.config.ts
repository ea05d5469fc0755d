import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    // Workers of every test file would share the same task queues on the one dev server.
    fileParallelism: false,
    globalSetup: ['@tracemend/testing/temporal-global-setup'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
