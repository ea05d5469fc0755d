import { join } from 'node:path';

/**
 * Where the gate keeps its files under a state folder: the hash-chained audit log and the token
 * vault. The worker writes them and the CLI reads them, so both take the paths from here.
 */
export function privacyStateFiles(stateDir: string): { audit: string; vault: string } {
  return { audit: join(stateDir, 'audit', 'privacy.jsonl'), vault: join(stateDir, 'vault', 'tokens.sqlite') };
}
