import { createHash } from 'node:crypto';
import { normalizeErrorMessage, type Frame } from '@tracemend/contracts';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash of the normalized message: the same bug with different values hashes the same. */
export function messageHash(message: string): string {
  return sha256(normalizeErrorMessage(message)).slice(0, 16);
}

/**
 * Groups occurrences of one bug: service + error type + the top in-app frames (function and file,
 * not line numbers, so a line shift between versions keeps the fingerprint). A frame repeated
 * back to back counts once, so a recursive function fails under one fingerprint at any depth.
 */
export function fingerprint(service: string, errorType: string, frames: readonly Frame[], topFrames = 3): string {
  const inApp = frames.filter((frame) => frame.inApp);
  const where: string[] = [];
  for (const frame of inApp.length > 0 ? inApp : frames) {
    const site = `${frame.function}@${frame.file}`;
    if (where[where.length - 1] !== site) where.push(site);
    if (where.length === topFrames) break;
  }
  return sha256([service, errorType, ...where].join('\n')).slice(0, 32);
}
