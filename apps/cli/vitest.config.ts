import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['@tracemend/testing/temporal-global-setup'],
    // Every test starts the CLI as a process that transpiles TypeScript at start-up: a few seconds each
    // on a busy machine, where one minute for a test that runs several of them is not enough.
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
