import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkerConfig } from './env';

/**
 * The local tokenization key: created once (32 random bytes, file mode 0600) under the state folder
 * when no key is configured, so tokens stay stable across worker restarts on one machine.
 */
export async function localTokenKey(dir: string): Promise<{ id: string; secret: string }> {
  const file = join(dir, 'token-key.json');
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as { id?: unknown; secret?: unknown };
    if (typeof stored.id === 'string' && typeof stored.secret === 'string' && stored.secret.length >= 32) return { id: stored.id, secret: stored.secret };
    throw new Error(`${file} does not hold a token key; move it aside to generate a new one`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = { id: `local-${new Date().toISOString().slice(0, 10)}`, secret: randomBytes(32).toString('base64') };
  // `wx` refuses to overwrite a key another worker created meanwhile; read that one instead.
  try {
    await writeFile(file, JSON.stringify(key), { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return localTokenKey(dir);
    throw error;
  }
}

/** The worker's token key: the configured one, else the local key under the state folder. */
export async function workerTokenKey(config: Pick<WorkerConfig, 'tokenKey' | 'stateDir'>): Promise<{ id: string; secret: string }> {
  return config.tokenKey ?? (await localTokenKey(join(config.stateDir, 'keys')));
}
