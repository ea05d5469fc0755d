// Host-side file access to trees that sandboxed code can write: checkouts mounted at /work, the
// verifier's copies and the reports written into them. The worker typically runs as root, and a
// symlink planted in such a tree resolves against the host's filesystem, so every read, write and copy
// over these trees goes through here and refuses to leave the tree. A hard link cannot be told from
// the file it links by any path check, so a regular file with more than one link is refused too: git
// checkouts and copies never make one, and a tree that holds one was tampered with.
import { constants } from 'node:fs';
import { chmod, lstat, lutimes, mkdir, open, readdir, readlink, realpath, symlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TracemendError } from '@tracemend/contracts';

/**
 * `O_NOFOLLOW` refuses a symlink as the last path component; `O_NONBLOCK` keeps a FIFO planted where a
 * file is expected from blocking the worker (regular files ignore it).
 */
const NO_FOLLOW = constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Bits a copy keeps of a file's mode: no setuid, setgid or sticky bit on the host. */
const PLAIN_MODE = 0o777;

/** Whether `path` is `root` itself or lies below it (both absolute, `root` a real path). */
export function isInsideTree(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function escapeError(root: string, path: string, why: string, details: Record<string, unknown> = {}): TracemendError {
  return new TracemendError('SANDBOX_ESCAPE', `${path} ${why} (tree ${root}); host-side code does not follow links out of the work folder`, {
    details: { root, path, ...details },
  });
}

/**
 * A repository-relative path as forward-slash segments; absolute paths, `..` that climbs out, empty
 * paths and NUL bytes are refused with INVALID_INPUT.
 */
export function treeRelativePath(path: string): string {
  const normalized = posix.normalize(path.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (path === '' || path.includes('\0') || normalized.startsWith('/') || normalized === '..' || normalized.startsWith('../') || /^[A-Za-z]:/.test(normalized)) {
    throw new TracemendError('INVALID_INPUT', `path ${JSON.stringify(path.slice(0, 200))} is not inside the tree`, { details: { path: path.slice(0, 1_024) } });
  }
  return normalized;
}

/** Where `relativePath` lands under `root`, every existing component checked. */
export interface ResolvedInside {
  /** The real path of the tree's root. */
  readonly root: string;
  /** Absolute, symlink-free path; components that do not exist yet are appended as given. */
  readonly path: string;
  /** Whether the whole path exists. */
  readonly exists: boolean;
}

/**
 * Resolves `relativePath` under `root` one component at a time with `lstat`: a symlink is followed
 * only when its real target stays inside the tree; one that leaves it, or does not resolve, is refused
 * with SANDBOX_ESCAPE naming the link. Links inside the tree (a repository's committed `docs -> ../doc`)
 * keep working.
 */
export async function resolveInside(root: string, relativePath: string): Promise<ResolvedInside> {
  const realRoot = await realpath(root);
  const segments = treeRelativePath(relativePath).split('/').filter((segment) => segment !== '.' && segment !== '');
  let current = realRoot;
  for (const [index, segment] of segments.entries()) {
    const next = join(current, segment);
    const shown = segments.slice(0, index + 1).join('/');
    let info;
    try {
      info = await lstat(next);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return { root: realRoot, path: join(next, ...segments.slice(index + 1)), exists: false };
      throw error;
    }
    if (!info.isSymbolicLink()) {
      current = next;
      continue;
    }
    const written = await readlink(next);
    let target: string;
    try {
      target = await realpath(next);
    } catch (error) {
      throw escapeError(realRoot, shown, `is a symbolic link to ${written} that does not resolve`, { link: written, cause: (error as { code?: string }).code });
    }
    if (!isInsideTree(realRoot, target)) throw escapeError(realRoot, shown, `is a symbolic link to ${target}, outside the tree`, { link: written, target });
    current = target;
  }
  return { root: realRoot, path: current, exists: true };
}

/**
 * Where an open file really is. On Linux `/proc/self/fd` names the opened inode's path, which no
 * later rename or swapped directory can change; elsewhere the path is resolved again.
 */
async function openedPath(handle: FileHandle, path: string): Promise<string> {
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    return await realpath(path);
  }
}

/**
 * Opens `path` (already resolved inside `root`) without following a final symlink, then checks that
 * the opened file is a regular file inside the tree with a single link: a directory swapped for a link
 * between the check and the open, or a hard link to a file elsewhere (which no path check can see), is
 * caught here on the opened descriptor, after the fact but before a byte is read or written.
 */
async function openChecked(root: string, shown: string, path: string, flags: number, mode?: number, allowHardLinks = false): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, flags | NO_FOLLOW, mode);
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOOP') throw escapeError(root, shown, 'became a symbolic link', { cause: 'ELOOP' });
    throw error;
  }
  try {
    const opened = await openedPath(handle, path);
    if (!isInsideTree(root, opened)) throw escapeError(root, shown, `was opened at ${opened}, outside the tree`, { target: opened });
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new TracemendError('INVALID_INPUT', `${shown} is not a regular file (tree ${root})`, { details: { root, path: shown } });
    }
    if (info.nlink > 1 && !allowHardLinks) throw escapeError(root, shown, `has ${info.nlink} hard links, so it may be a file from outside the tree`, { links: info.nlink });
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export interface ReadInsideOptions {
  /** Refuse files larger than this (SANDBOX_RESOURCE_LIMIT); sandboxed code decides how big they are. */
  readonly maxBytes?: number;
  /**
   * Accept files with more than one hard link. Only for trees no sandbox can write, such as
   * tracemend's own installed packages, whose package manager links files from its store.
   */
  readonly allowHardLinks?: boolean;
}

/**
 * Reads a file of a sandbox-writable tree: symlinks out of the tree and hard-linked files are refused
 * (SANDBOX_ESCAPE, naming the path), the file is opened with O_NOFOLLOW and must be a regular file. A
 * missing file rejects with the usual ENOENT error.
 */
export async function readFileInside(root: string, relativePath: string, options: ReadInsideOptions = {}): Promise<Buffer> {
  const resolved = await resolveInside(root, relativePath);
  const handle = await openChecked(resolved.root, relativePath, resolved.path, constants.O_RDONLY, undefined, options.allowHardLinks === true);
  try {
    const { size } = await handle.stat();
    if (options.maxBytes !== undefined && size > options.maxBytes) {
      throw new TracemendError('SANDBOX_RESOURCE_LIMIT', `${relativePath} in ${resolved.root} has ${size} bytes, more than the ${options.maxBytes} read`, {
        details: { root: resolved.root, path: relativePath, size },
      });
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** `readFileInside` as UTF-8 text. */
export async function readTextInside(root: string, relativePath: string, options: ReadInsideOptions = {}): Promise<string> {
  return (await readFileInside(root, relativePath, options)).toString('utf8');
}

/** Creates the missing directories between `root` and `dir` (both real paths) one at a time, never through a link. */
async function makeDirectoriesInside(root: string, dir: string): Promise<void> {
  let current = root;
  for (const segment of relative(root, dir).split(sep).filter((part) => part !== '')) {
    current = join(current, segment);
    try {
      await mkdir(current);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
    const info = await lstat(current);
    if (info.isSymbolicLink()) throw escapeError(root, relative(root, current), 'became a symbolic link');
    if (!info.isDirectory()) throw new TracemendError('INVALID_INPUT', `${relative(root, current)} in ${root} is not a directory`, { details: { root, path: relative(root, current) } });
  }
}

/**
 * Writes a file into a sandbox-writable tree, creating its parent directories: links out of the tree
 * and hard-linked files are refused (SANDBOX_ESCAPE, naming the path), the file is opened with
 * O_NOFOLLOW and truncated only after it was found to be a regular file inside the tree with one link.
 * New files get mode 0644.
 */
export async function writeFileInside(root: string, relativePath: string, content: string | Uint8Array): Promise<void> {
  const resolved = await resolveInside(root, relativePath);
  await makeDirectoriesInside(resolved.root, dirname(resolved.path));
  const handle = await openChecked(resolved.root, relativePath, resolved.path, constants.O_WRONLY | constants.O_CREAT, 0o644);
  try {
    await handle.truncate(0);
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

export interface CopyTreeOptions {
  /** Tree-relative paths (forward slashes) to leave out, with everything below them. */
  readonly skip?: (relativePath: string) => boolean;
}

/** Copies one regular file: read through a checked descriptor, written to a new file of the same (plain) mode and times. */
async function copyFileInside(root: string, shown: string, from: string, to: string): Promise<void> {
  const source = await openChecked(root, shown, from, constants.O_RDONLY);
  let info;
  try {
    info = await source.stat();
  } catch (error) {
    await source.close();
    throw error;
  }
  const target = await open(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, info.mode & PLAIN_MODE).catch(async (error: unknown) => {
    await source.close();
    throw error;
  });
  // Both streams close their handles when the copy ends or fails.
  await pipeline(source.createReadStream(), target.createWriteStream());
  await lutimes(to, info.atimeMs / 1000, info.mtimeMs / 1000);
}

/**
 * Copies a sandbox-writable tree without following any link: directories and regular files are copied
 * (modes without setuid/setgid bits, timestamps kept), a symlink is recreated verbatim only when it
 * points inside the tree, and one that points out of it is refused with SANDBOX_ESCAPE naming it, as is
 * a regular file with more than one hard link. FIFOs, sockets and devices carry no content and are left
 * out. `dest` must not exist yet.
 */
export async function copyTreeInside(src: string, dest: string, options: CopyTreeOptions = {}): Promise<void> {
  const root = await realpath(src);
  await mkdir(dirname(dest), { recursive: true });
  const walk = async (relativeDir: string, to: string): Promise<void> => {
    const from = relativeDir === '' ? root : join(root, relativeDir);
    // The directory may have been swapped for a link since its parent was listed.
    const real = await realpath(from);
    if (real !== from) throw escapeError(root, relativeDir, `became a link to ${real}`, { target: real });
    const info = await lstat(from);
    await mkdir(to, { mode: 0o700 });
    for (const entry of await readdir(from, { withFileTypes: true })) {
      const path = relativeDir === '' ? entry.name : `${relativeDir}/${entry.name}`;
      if (options.skip?.(path)) continue;
      const source = join(root, path);
      const target = join(to, entry.name);
      if (entry.isDirectory()) await walk(path, target);
      else if (entry.isFile()) await copyFileInside(root, path, source, target);
      else if (entry.isSymbolicLink()) await copyLinkInside(root, path, source, target);
    }
    await utimes(to, info.atimeMs / 1000, info.mtimeMs / 1000);
    await chmod(to, info.mode & PLAIN_MODE);
  };
  await walk('', dest);
}

/** Recreates a symlink whose target stays inside the tree (also when it dangles); refuses one that leaves it. */
async function copyLinkInside(root: string, shown: string, source: string, target: string): Promise<void> {
  const written = await readlink(source);
  let points: string;
  try {
    points = await realpath(source);
  } catch {
    // Dangling: judge the link by what it says. Host code never follows it (resolveInside refuses dangling links).
    points = resolve(dirname(source), written);
  }
  if (!isInsideTree(root, points)) throw escapeError(root, shown, `is a symbolic link to ${points}, outside the tree`, { link: written, target: points });
  await symlink(written, target);
}
