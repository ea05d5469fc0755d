import { createHash } from 'node:crypto';
import { normalizeErrorMessage, type Frame } from '@tracemend/contracts';
import { frameFileName, frameOrigin } from './stack';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash of the normalized message: the same bug with different values hashes the same. */
export function messageHash(message: string): string {
  return sha256(normalizeErrorMessage(message)).slice(0, 16);
}

/**
 * Groups occurrences of one bug: service + error type + the top frames of the service's own code
 * (function and file name, not line numbers, so a line shift between versions keeps the fingerprint).
 * Own code is read from the path alone (not a dependency, not Node's), and a file counts by its name
 * without directories, so the fingerprint is the same before and after frames are matched to the
 * repository and under any deploy root (`/srv/app/`, `/var/task/`, `C:\app\`). A frame repeated back
 * to back counts once, so a recursive function fails under one fingerprint at any depth.
 */
export function fingerprint(service: string, errorType: string, frames: readonly Frame[], topFrames = 3): string {
  const own = frames.filter((frame) => frameOrigin(frame.file) === 'own');
  const where: string[] = [];
  for (const frame of own.length > 0 ? own : frames) {
    const site = `${frame.function}@${frameFileName(frame.file)}`;
    if (where[where.length - 1] !== site) where.push(site);
    if (where.length === topFrames) break;
  }
  return sha256([service, errorType, ...where].join('\n')).slice(0, 32);
}
