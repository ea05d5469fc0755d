import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The text of a local secret file (a key made on first use), creating it with `create()` when it does
 * not exist: mode 0600 in a 0700 folder, written whole to a temporary file and linked into place, so
 * processes starting together (a gateway and a worker) never read half a file and all end up with the
 * same secret, whichever of them made it.
 */
export async function readOrCreateSecretFile(file: string, create: () => string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, create(), { mode: 0o600, flag: 'wx' });
  try {
    // `link` refuses an existing name: a secret another process placed meanwhile wins and is read.
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(temporary, { force: true });
  }
  return readFile(file, 'utf8');
}
