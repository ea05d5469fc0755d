import { readFile, rm, writeFile } from 'node:fs/promises';
import { TracemendError, type ErrorCode } from '@tracemend/contracts';

const LOCK_WAIT_MS = 15_000;
const LOCK_RETRY_MS = 5;

/** True while the process that wrote a lock file runs (a lock of a dead process is stale). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Holds `<file>.lock` (created exclusively, naming this process) while `work` runs, so writers in
 * other processes (a worker and a `tracemend gate` run) take turns. A lock whose process is gone is
 * taken over; one held longer than the wait fails with `code`, naming `what` and the lock file.
 */
export async function withFileLock<T>(file: string, what: string, code: ErrorCode, work: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
      if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new TracemendError(code, `${what} ${file} stayed locked by process ${holder || 'unknown'} for ${LOCK_WAIT_MS / 1000} s; if no tracemend process runs, remove ${lock}`);
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}
