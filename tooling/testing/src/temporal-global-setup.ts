// vitest globalSetup: one real Temporal dev server per test run, its address handed to tests by inject().
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startTemporalDevServer } from './temporal-dev-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTemporalDevServer();
  project.provide('temporalAddress', server.address);
  return () => server.stop();
}
