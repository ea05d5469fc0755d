import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readOrCreateSecretFile } from '@tracemend/process';
import type { WorkerConfig } from './env';

/**
 * The local tokenization key: created once (32 random bytes, file mode 0600) under the state folder
 * when no key is configured, so tokens stay stable across worker restarts on one machine.
 */
export async function localTokenKey(dir: string): Promise<{ id: string; secret: string }> {
  const file = join(dir, 'token-key.json');
  const text = await readOrCreateSecretFile(file, () => JSON.stringify({ id: `local-${new Date().toISOString().slice(0, 10)}`, secret: randomBytes(32).toString('base64') }));
  let stored: { id?: unknown; secret?: unknown } = {};
  try {
    stored = JSON.parse(text) as typeof stored;
  } catch {
    // Reported below with the file's name.
  }
  if (typeof stored.id === 'string' && typeof stored.secret === 'string' && stored.secret.length >= 32) return { id: stored.id, secret: stored.secret };
  throw new Error(`${file} does not hold a token key; move it aside to generate a new one`);
}

/** The worker's token key: the configured one, else the local key under the state folder. */
export async function workerTokenKey(config: Pick<WorkerConfig, 'tokenKey' | 'stateDir'>): Promise<{ id: string; secret: string }> {
  return config.tokenKey ?? (await localTokenKey(join(config.stateDir, 'keys')));
}
