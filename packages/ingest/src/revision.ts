/**
 * Resource attributes that name the deployed commit, most specific first: OpenTelemetry's VCS
 * conventions (`vcs.ref.head.revision`, earlier `vcs.repository.ref.revision`) and the common
 * `git.commit.sha`. Sentry events carry the same names, or `commit`, as tags.
 */
export const REVISION_ATTRIBUTES = ['vcs.ref.head.revision', 'vcs.repository.ref.revision', 'git.commit.sha', 'commit'] as const;

/** The commit (a full or short SHA, lowercased) the first revision attribute names, or undefined. */
export function revisionOf(read: (key: string) => unknown): string | undefined {
  for (const key of REVISION_ATTRIBUTES) {
    const value = read(key);
    if (typeof value === 'string' && /^[0-9a-fA-F]{7,64}$/.test(value.trim())) return value.trim().toLowerCase();
  }
  return undefined;
}

/** `{ revision }` for the envelope identity when an attribute names the commit, else nothing. */
export function revisionField(read: (key: string) => unknown): { revision?: string } {
  const revision = revisionOf(read);
  return revision === undefined ? {} : { revision };
}
