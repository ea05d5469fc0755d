import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // The Temporal worker's native runtime and webpack bundling want a process of their own.
    pool: 'forks',
    testTimeout: 120_000,
  },
});
