import { z } from 'zod';
import { TestRunner } from './pipeline';
import { FeatureFlagsConfig, FunctionHandlerConfig, HttpAppConfig, MessageHandlerConfig } from './entry-config';
import { boundedRecord, boundedString, GitSha, Identifier } from './primitives';

/**
 * How `service.version` maps to a commit. A full or short SHA and `vcs.*` resource attributes need
 * nothing here; release versions are looked up in `commits` first, then as tags named by `tagPattern`
 * (`{version}` and `{service}` are replaced), then as `{version}`, `v{version}`, `{service}@{version}`
 * and `{service}-v{version}`.
 */
export const VersionConfig = z.object({
  tagPattern: boundedString(256)
    .refine((pattern) => pattern.includes('{version}'), { message: 'expected a pattern containing {version}' })
    .optional(),
  commits: boundedRecord(GitSha, 1_000).optional(),
}).refine((config) => config.tagPattern !== undefined || config.commits !== undefined, {
  message: 'expected tagPattern or commits (or leave version out)',
  path: ['tagPattern'],
});
export type VersionConfig = z.infer<typeof VersionConfig>;

/** One service of the catalog: where its code lives, how to test it, which data contract governs it. */
export const CatalogService = z.object({
  repository: z.object({ owner: Identifier, name: Identifier, cloneUrl: boundedString(2_048) }),
  baseBranch: Identifier.default('main'),
  /**
   * How to run the repository's tests. Either part may be left out: the runner is then read from the
   * command or the repository at the incident's commit (its test script, config files, dependencies),
   * and the command is `npm test` when that script starts the runner without shell syntax, else the
   * runner's own.
   */
  test: z
    .object({ runner: TestRunner.optional(), command: z.array(boundedString(1_024)).min(1).max(64).optional() })
    .optional(),
  /** Path of the service's data contract, relative to the catalog file. */
  dataContract: boundedString(1_024),
  /** How the deployed version names a commit (release tags, an explicit map). */
  version: VersionConfig.optional(),
  /**
   * Where the deployed code lives, for layouts the frame paths cannot reveal (absolute prefix such as
   * `/opt/odd/layout/`). Without it the root is inferred by matching frame paths to the repository's files.
   */
  deployRoot: boundedString(1_024).optional(),
  /** For HTTP services: the module and export that build the app the replay harness mounts. */
  httpApp: HttpAppConfig.optional(),
  /** For functions (Lambda and peers): the handler the replay invokes with the recorded event. */
  functionHandler: FunctionHandlerConfig.optional(),
  /** For queue consumers: the handler the replay delivers the recorded message to. */
  messageHandler: MessageHandlerConfig.optional(),
  /** Where the flag client reads feature flags, when it is not a JSON `FEATURE_FLAGS` variable. */
  featureFlags: FeatureFlagsConfig.optional(),
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
