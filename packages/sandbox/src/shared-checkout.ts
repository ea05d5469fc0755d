import { lstat, mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { TracemendError } from '@tracemend/contracts';

/** Where the read-only dependency folder is mounted inside /work. */
const DEPENDENCY_MOUNT_POINT = 'node_modules';

/**
 * Makes sure the checkout holds the directory the dependency folder is mounted on. A read-only /work
 * cannot take a new mount point, so the engine would refuse the container; the host makes it first.
 * A committed `node_modules` that is not a directory is refused with INVALID_INPUT.
 */
export async function ensureDependencyMountPoint(workDir: string): Promise<void> {
  let root: string;
  try {
    root = await realpath(workDir);
  } catch {
    // A missing work folder is the driver's to report.
    return;
  }
  const mountPoint = join(root, DEPENDENCY_MOUNT_POINT);
  await mkdir(mountPoint, { mode: 0o755 }).catch((error: unknown) => {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  });
  const info = await lstat(mountPoint);
  if (!info.isDirectory()) {
    throw new TracemendError('INVALID_INPUT', `${mountPoint} is not a directory, so the dependency folder cannot be mounted there`, {
      details: { workDir, path: DEPENDENCY_MOUNT_POINT },
    });
  }
}
