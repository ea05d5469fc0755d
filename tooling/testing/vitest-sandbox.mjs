// Vitest settings shared by the packages whose tests run real sandbox containers. Plain JavaScript so
// that a package's vitest.config.ts can import it: Vitest loads config files before any TypeScript
// transform applies to workspace packages.

/** @type {import('./vitest-sandbox.d.mts').SandboxSuiteSettings} */
export const sandboxSuite = {
  pool: 'forks',
  // The files share one Docker engine, two CPUs' worth of sandbox runs and one base image; they run one at a time.
  fileParallelism: false,
  testTimeout: 300_000,
  hookTimeout: 600_000,
};
