import { defineConfig } from 'vitest/config';

// Vitest's 5 s default assumes an idle machine: property tests and loopback servers take several
// times longer when CI shares its two cores with other work.
export default defineConfig({ test: { testTimeout: 30_000, hookTimeout: 60_000 } });
