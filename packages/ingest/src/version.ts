// service.version → the deployed commit: a SHA, a vcs.* resource attribute, the catalog's map, a release tag.
import { GitSha, TracemendError, type CatalogService, type RepoTarget } from '@tracemend/contracts';
import type { GitRepositories } from './git';
import type { RepositoryFiles } from '@tracemend/test-runners/detect';

/** How a reported version became a commit (RepoTarget's `sha` and `resolvedFrom`). */
export interface ResolvedCommit {
  sha: string;
  resolvedFrom: NonNullable<RepoTarget['resolvedFrom']>;
}

/** What the service reported: its version and, when a resource attribute named it, its commit. */
export interface ReportedVersion {
  service: string;
  version: string;
  revision?: string;
}

/** Resolves reported versions to commits and lists a commit's files, memoized per process. */
export interface VersionResolver {
  resolve(reported: ReportedVersion, entry: CatalogService): Promise<ResolvedCommit>;
  listFiles(entry: CatalogService, sha: string): Promise<string[]>;
  /** The repository's files at `sha`, read from git objects (no checkout). */
  repositoryFiles(entry: CatalogService, sha: string): RepositoryFiles;
}

const SHORT_SHA = /^[0-9a-f]{7,39}$/;

/** The tag names a version may be released under, in the order they are tried (the catalog's pattern first). */
export function candidateTags(service: string, version: string, tagPattern?: string): string[] {
  const fill = (pattern: string) => pattern.replaceAll('{version}', version).replaceAll('{service}', service);
  // A version reported as `v1.4.2` is also looked for as `1.4.2`, never as `vv1.4.2`.
  const bare = /^v\d/.test(version) ? version.slice(1) : version;
  const names = [...(tagPattern ? [fill(tagPattern)] : []), version, bare, `v${bare}`, `${service}@${version}`, `${service}-v${bare}`];
  return [...new Set(names)];
}

function notFound(reported: ReportedVersion, entry: CatalogService, tried: string[]): TracemendError {
  const key = `services.${reported.service}.version`;
  return new TracemendError(
    'INVALID_INPUT',
    `service.version "${reported.version.slice(0, 120)}" of ${reported.service} names no commit of ${entry.repository.cloneUrl}; tried: ${tried.join('; ')}. ` +
      `Set ${key}.tagPattern in the service catalog to the repository's release tag naming (e.g. "release-{version}"), ` +
      `or map the version to its commit under ${key}.commits ("${reported.version.slice(0, 120)}": <full SHA>)`,
    { details: { service: reported.service, version: reported.version, tried } },
  );
}

/**
 * Resolution order: a full SHA; the commit a `vcs.*` or git resource attribute named; the catalog's
 * `version.commits`; a short SHA (a unique prefix of a commit in the mirror); a release tag
 * (`candidateTags`, annotated tags peeled). Nothing found is INVALID_INPUT naming every ref tried
 * and the catalog setting that fixes it; git failing to reach the repository is a plain (retryable) error.
 */
export async function resolveVersion(git: GitRepositories, reported: ReportedVersion, entry: CatalogService): Promise<ResolvedCommit> {
  const { version, revision } = reported;
  const cloneUrl = entry.repository.cloneUrl;
  const tried: string[] = [];
  const lower = version.toLowerCase();
  if (GitSha.safeParse(lower).success) return { sha: lower, resolvedFrom: { version, how: 'sha' } };
  tried.push('a full commit SHA (it is not one)');

  if (revision !== undefined) {
    if (GitSha.safeParse(revision).success) return { sha: revision, resolvedFrom: { version, how: 'vcs-attribute', ref: revision } };
    const commits = await git.commitsWithPrefix(cloneUrl, revision);
    if (commits.length === 1 && commits[0]) return { sha: commits[0], resolvedFrom: { version, how: 'vcs-attribute', ref: revision } };
    tried.push(`the reported revision ${revision} (${commits.length === 0 ? 'no such commit' : `ambiguous: ${commits.length} commits`})`);
  }

  const mapped = entry.version?.commits?.[version];
  if (mapped !== undefined) return { sha: mapped, resolvedFrom: { version, how: 'catalog-map', ref: version } };
  tried.push(entry.version?.commits ? `the catalog's version.commits (no entry "${version.slice(0, 120)}")` : "the catalog's version.commits (not set)");

  if (SHORT_SHA.test(lower)) {
    const commits = await git.commitsWithPrefix(cloneUrl, lower);
    if (commits.length === 1 && commits[0]) return { sha: commits[0], resolvedFrom: { version, how: 'short-sha', ref: lower } };
    tried.push(`a short SHA ${lower} (${commits.length === 0 ? 'no such commit' : `ambiguous: ${commits.length} commits start with it`})`);
  }

  const tags = new Map((await git.listTags(cloneUrl)).map((tag) => [tag.name, tag.commit]));
  const names = candidateTags(reported.service, version, entry.version?.tagPattern);
  for (const name of names) {
    const commit = tags.get(name);
    if (commit !== undefined) return { sha: commit, resolvedFrom: { version, how: 'tag', ref: `refs/tags/${name}` } };
  }
  tried.push(`tags ${names.map((name) => `refs/tags/${name}`).join(', ')} (the repository has ${tags.size} tag(s))`);
  throw notFound(reported, entry, tried);
}

/** A bounded memo: the oldest entry goes first when full; failures are not kept. */
function memo<T>(limit: number): (key: string, make: () => Promise<T>) => Promise<T> {
  const entries = new Map<string, Promise<T>>();
  return (key, make) => {
    const known = entries.get(key);
    if (known) return known;
    const pending = make();
    entries.set(key, pending);
    pending.catch(() => entries.delete(key));
    if (entries.size > limit) entries.delete(entries.keys().next().value as string);
    return pending;
  };
}

/**
 * A resolver shared by ingest (to match frames) and triage (for the target), memoized per process:
 * a commit's file list never changes; a version's commit is kept for `versionTtlMs` (tags can move).
 */
export function createVersionResolver(git: GitRepositories, options: { versionTtlMs?: number; now?: () => number } = {}): VersionResolver {
  const ttl = options.versionTtlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  const versions = new Map<string, { at: number; value: Promise<ResolvedCommit> }>();
  const files = memo<string[]>(16);
  const listed = (entry: CatalogService, sha: string) => files(`${entry.repository.cloneUrl}\n${sha}`, () => git.listFiles(entry.repository.cloneUrl, sha));
  return {
    resolve(reported, entry) {
      const key = JSON.stringify([entry.repository.cloneUrl, reported.service, reported.version, reported.revision ?? null, entry.version ?? null]);
      const known = versions.get(key);
      if (known && now() - known.at < ttl) return known.value;
      const value = resolveVersion(git, reported, entry);
      versions.set(key, { at: now(), value });
      value.catch(() => versions.delete(key));
      if (versions.size > 1_000) versions.delete(versions.keys().next().value as string);
      return value;
    },
    listFiles(entry, sha) {
      return listed(entry, sha);
    },
    repositoryFiles(entry, sha) {
      return {
        read: (path) => git.readFile(entry.repository.cloneUrl, sha, path),
        rootEntries: async () => [...new Set((await listed(entry, sha)).map((file) => file.split('/')[0] ?? file))],
      };
    },
  };
}
