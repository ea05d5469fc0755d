import { z } from 'zod';
import { TestRunner } from './pipeline';
import { boundedString, Identifier } from './primitives';

/** One service of the catalog: where its code lives, how to test it, which data contract governs it. */
export const CatalogService = z.object({
  repository: z.object({ owner: Identifier, name: Identifier, cloneUrl: boundedString(2_048) }),
  baseBranch: Identifier.default('main'),
  test: z.object({ runner: TestRunner, command: z.array(boundedString(1_024)).min(1).max(64) }),
  /** Path of the service's data contract, relative to the catalog file. */
  dataContract: boundedString(1_024),
  /** For HTTP services: the module and export that build the app the replay harness mounts. */
  httpApp: z.object({ module: boundedString(1_024), export: Identifier }).optional(),
});
export type CatalogService = z.infer<typeof CatalogService>;

/** `tracemend.config.yaml`: the service catalog triage resolves alerts against. */
export const ServiceCatalog = z.object({
  version: z.literal(1),
  services: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'expected a service name (lowercase, digits, . _ -)'), CatalogService)
    .refine((services) => Object.keys(services).length <= 1_000, { message: 'expected at most 1000 services' }),
});
export type ServiceCatalog = z.infer<typeof ServiceCatalog>;
