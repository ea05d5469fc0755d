import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { GitSha, RepoTarget, ServiceCatalog, TracemendError, formatIssues, parseContract, type CatalogService, type TriageInput } from '@tracemend/contracts';
import { resolveTestSetup, UnsupportedRunnerError, type TestSetup } from '@tracemend/test-runners/detect';
import { parse as parseYaml } from 'yaml';
import type { ResolvedCommit, VersionResolver } from './version';

/** A parsed catalog and the folder its relative paths (data contracts) resolve against. */
export interface LoadedCatalog {
  catalog: ServiceCatalog;
  file: string;
}

/** Reads `tracemend.config.yaml`; a bad file fails with INVALID_INPUT naming the file and the path. */
export async function loadServiceCatalog(file: string): Promise<LoadedCatalog> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `cannot read the service catalog ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `the service catalog ${file} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = ServiceCatalog.safeParse(value);
  if (!parsed.success) throw new TracemendError('INVALID_INPUT', `the service catalog ${file} is invalid: ${formatIssues(parsed.error.issues)}`);
  return { catalog: parsed.data, file };
}

/** The catalog entry of a service, or SERVICE_NOT_IN_CATALOG. */
export function catalogService(loaded: LoadedCatalog, service: string): CatalogService {
  const entry = loaded.catalog.services[service];
  if (entry === undefined) {
    const known = Object.keys(loaded.catalog.services).sort().join(', ') || 'none';
    throw new TracemendError('SERVICE_NOT_IN_CATALOG', `service ${service} is not in the catalog ${loaded.file} (known: ${known})`);
  }
  return entry;
}

/** The absolute path of a service's data contract. */
export function dataContractPath(loaded: LoadedCatalog, service: string): string {
  const path = catalogService(loaded, service).dataContract;
  return isAbsolute(path) ? path : resolve(dirname(loaded.file), path);
}

/**
 * The RepoTarget of a service at a resolved commit: repository, how its tests run (`test`, the catalog's
 * settings completed from the repository by `testSetup`), data contract and how to drive it (the
 * catalog's `httpApp`, `functionHandler`, `messageHandler`, `featureFlags`, `deployRoot` copied
 * through). A plain string must be a full commit SHA (INVALID_INPUT otherwise; triage resolves other
 * versions first).
 */
export function resolveTarget(loaded: LoadedCatalog, service: string, commit: ResolvedCommit | string, test: TestSetup): RepoTarget {
  const entry = catalogService(loaded, service);
  const resolved: ResolvedCommit = typeof commit === 'string' ? { sha: commit, resolvedFrom: { version: commit.slice(0, 256), how: 'sha' } } : commit;
  if (!GitSha.safeParse(resolved.sha).success) {
    throw new TracemendError('INVALID_INPUT', `the commit of ${service} is "${resolved.sha.slice(0, 80)}", not a full commit SHA; resolve the reported version first`);
  }
  return {
    schemaVersion: 1,
    service,
    repository: entry.repository,
    baseBranch: entry.baseBranch,
    sha: resolved.sha,
    test: { runner: test.runner, command: test.command, ...(test.detectedFrom === undefined ? {} : { detectedFrom: test.detectedFrom.slice(0, 500) }) },
    dataContract: dataContractPath(loaded, service),
    ...(entry.httpApp ? { httpApp: entry.httpApp } : {}),
    ...(entry.functionHandler ? { functionHandler: entry.functionHandler } : {}),
    ...(entry.messageHandler ? { messageHandler: entry.messageHandler } : {}),
    ...(entry.featureFlags ? { featureFlags: entry.featureFlags } : {}),
    ...(entry.deployRoot ? { deployRoot: entry.deployRoot } : {}),
    resolvedFrom: { ...resolved.resolvedFrom, version: resolved.resolvedFrom.version.slice(0, 256) },
  };
}

/**
 * The triage stage over a catalog file (read per call, so edits apply to the next incident): the
 * reported version (or the commit a resource attribute named) resolved to a commit by `resolver`, and
 * the test runner and command the catalog left out read from the repository at that commit
 * (UNSUPPORTED_REPOSITORY, saying what to set, when no runner tracemend drives is found).
 */
export function createTriageActivities(deps: { catalogFile: string; resolver: VersionResolver }) {
  return {
    triage: async (input: TriageInput): Promise<RepoTarget> => {
      const loaded = await loadServiceCatalog(deps.catalogFile);
      const { service, version, revision } = input.gated.envelope.identity;
      const entry = catalogService(loaded, service);
      const commit = await deps.resolver.resolve({ service, version, ...(revision === undefined ? {} : { revision }) }, entry);
      const where = `${entry.repository.owner}/${entry.repository.name}@${commit.sha.slice(0, 12)}`;
      let test: TestSetup;
      try {
        test = await resolveTestSetup(entry.test, deps.resolver.repositoryFiles(entry, commit.sha), where);
      } catch (error) {
        if (error instanceof UnsupportedRunnerError) throw new TracemendError('UNSUPPORTED_REPOSITORY', `${error.message} (services.${service}.test)`);
        throw error;
      }
      return parseContract(RepoTarget, resolveTarget(loaded, service, commit, test), 'RepoTarget');
    },
  };
}
