import { defineConfig } from 'vitest/config';

// Each GitHub call against the emulator runs several git processes; leave room for a busy machine.
export default defineConfig({
  test: { testTimeout: 60_000, hookTimeout: 60_000 },
});
