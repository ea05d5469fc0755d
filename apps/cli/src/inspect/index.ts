import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TracemendError } from '@tracemend/contracts';
import { findDeclaredEntries } from './deploy-config';
import { compareCandidates, findCodeEntries, type EntryCandidate } from './entries';
import { inspectRepoFacts, type RepoFacts } from './repo-facts';
import { listSourceTree } from './source-tree';

export type { EntryCandidate, EntryEvidence, EntryKind } from './entries';
export type { RepoFacts } from './repo-facts';

/** What `tracemend init` learns from a repository folder: its facts and its candidate entries, best first. */
export interface RepoInspection extends RepoFacts {
  readonly root: string;
  readonly entries: readonly EntryCandidate[];
}

/**
 * Merges candidates naming the same module and export: a handler that deployment configuration
 * declares keeps its kind and score and gains what the code showed about it.
 */
function mergeCandidates(declared: readonly EntryCandidate[], code: readonly EntryCandidate[]): EntryCandidate[] {
  const merged = new Map<string, EntryCandidate>();
  for (const candidate of [...declared, ...code]) {
    const key = `${candidate.module}\u0000${candidate.export}`;
    const known = merged.get(key);
    if (known === undefined) merged.set(key, candidate);
    else {
      // The code knows an SQS batch consumer even where the configuration names no event.
      const sqs = known.kind === 'function' && known.event === 'auto' && candidate.kind === 'message' && candidate.envelope === 'sqs-batch';
      merged.set(key, { ...(sqs ? { ...candidate, score: known.score } : known), evidence: [...known.evidence, ...candidate.evidence] });
    }
  }
  return [...merged.values()].sort(compareCandidates);
}

/** Inspects a repository folder for `tracemend init`; INVALID_INPUT when the folder is missing. */
export async function inspectRepository(dir: string): Promise<RepoInspection> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new TracemendError('INVALID_INPUT', `${dir} is not a folder: pass the repository's folder (default: the current one)`);
  const tree = await listSourceTree(root);
  const facts = await inspectRepoFacts(root);
  const entries = mergeCandidates(await findDeclaredEntries(root, tree), findCodeEntries(root, tree));
  return { root, ...facts, entries };
}
