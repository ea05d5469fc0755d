import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { GitSha, ServiceCatalog, TracemendError, formatIssues, type CatalogService, type RepoTarget, type TriageInput } from '@tracemend/contracts';
import { parse as parseYaml } from 'yaml';

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

/** Triage: the repository, commit and test command of the failing service. */
export function resolveTarget(loaded: LoadedCatalog, service: string, version: string): RepoTarget {
  const entry = catalogService(loaded, service);
  if (!GitSha.safeParse(version).success) {
    throw new TracemendError('INVALID_INPUT', `service.version of ${service} is "${version.slice(0, 80)}", not a full commit SHA; triage needs the deployed commit`);
  }
  return {
    schemaVersion: 1,
    service,
    repository: entry.repository,
    baseBranch: entry.baseBranch,
    sha: version,
    test: entry.test,
    dataContract: dataContractPath(loaded, service),
    ...(entry.httpApp ? { httpApp: entry.httpApp } : {}),
  };
}

/** The triage stage over a catalog file (read per call, so edits apply to the next incident). */
export function createTriageActivities(deps: { catalogFile: string }) {
  return {
    triage: async (input: TriageInput): Promise<RepoTarget> => {
      const loaded = await loadServiceCatalog(deps.catalogFile);
      const { service, version } = input.gated.envelope.identity;
      return resolveTarget(loaded, service, version);
    },
  };
}
