import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The Temporal worker's native runtime and webpack bundling want a process of their own.
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['@tracemend/testing/temporal-global-setup'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
