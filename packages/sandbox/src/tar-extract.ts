// Host-side extraction of an archive that sandboxed code shaped: the files a container wrote under
// /work, read back from an engine that does not share this machine's filesystem. Every entry is
// judged before anything is written, and writes go through safe-fs, so neither a crafted name nor a
// link can place a file outside the tree.
import { createHash } from 'node:crypto';
import { chmod, lchown, mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { TracemendError } from '@tracemend/contracts';
import { resolveInside, writeFileInside } from '@tracemend/process';

/** Bounds of one archive; sandboxed code decides how much it writes. */
export interface ExtractLimits {
  /**
   * Bytes of new or changed file content (held in memory until the whole archive is judged); files
   * that come back as they were uploaded do not count.
   */
  readonly maxBytes: number;
  /** Number of entries (files, directories, links) the archive may hold. */
  readonly maxEntries: number;
}

/** 256 MiB of new content and 200,000 entries: far above test reports and build output, far below a full disk. */
export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = { maxBytes: 256 * 1024 * 1024, maxEntries: 200_000 };

/** A file as it was before the run. */
export interface KnownFile {
  /** sha256, hex. */
  readonly sha256: string;
  readonly size: number;
}

export interface ExtractOptions {
  readonly limits?: ExtractLimits;
  /** Files as they were before the run, by tree-relative path: equal content is neither counted nor rewritten. */
  readonly unchanged?: ReadonlyMap<string, KnownFile>;
  /** Owner given to files and directories the archive creates (the owner of the tree's root, as a bind mount would leave them). */
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/** What an extraction changed on the host. */
export interface ExtractResult {
  /** Tree-relative paths of the files written (new or changed). */
  readonly written: readonly string[];
  /** Tree-relative paths of directories created. */
  readonly createdDirectories: readonly string[];
  /** Links that stay inside the tree; they are left as the host has them, not recreated. */
  readonly skippedLinks: readonly string[];
  readonly entries: number;
  readonly bytes: number;
}

/** Raw archive bytes allowed per entry on top of file content: headers, long names, padding. */
const OVERHEAD_PER_ENTRY = 8 * 1024;

function refuse(entry: string, why: string, details: Record<string, unknown> = {}): TracemendError {
  return new TracemendError('SANDBOX_ESCAPE', `archive entry ${JSON.stringify(entry.slice(0, 300))} ${why}; nothing from this archive was written`, {
    details: { entry: entry.slice(0, 1_024), ...details },
  });
}

function tooLarge(entry: string, why: string, details: Record<string, unknown>): TracemendError {
  return new TracemendError('SANDBOX_RESOURCE_LIMIT', `archive entry ${JSON.stringify(entry.slice(0, 300))} ${why}; nothing from this archive was written`, {
    details: { entry: entry.slice(0, 1_024), ...details },
  });
}

/**
 * The tree-relative path of an entry named `./x/y` (the engine's archive of a folder's contents), or
 * a refusal naming it: absolute names, `..` segments, NUL bytes and names outside `./` are refused.
 */
export function entryPath(name: string): string {
  if (name.includes('\0')) throw refuse(name, 'holds a NUL byte');
  if (name.startsWith('/')) throw refuse(name, 'is an absolute path');
  if (name.split('/').includes('..')) throw refuse(name, 'climbs out of the tree with ..');
  if (name !== '.' && name !== './' && !name.startsWith('./')) throw refuse(name, 'does not lie under the archived folder');
  return posix.normalize(name).replace(/\/+$/, '').replace(/^\.$/, '');
}

/** Whether a link written at `path` pointing to `target` stays inside the tree (both tree-relative). */
function linkStaysInside(path: string, target: string): boolean {
  if (target.startsWith('/')) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(path === '' ? '.' : path), target));
  return resolved !== '..' && !resolved.startsWith('../');
}

interface PlannedFile {
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
}

interface Plan {
  readonly files: PlannedFile[];
  readonly directories: string[];
  readonly skippedLinks: string[];
  entries: number;
  bytes: number;
}

function bodyOf(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Reads the whole archive, judging every header before its body is read; resolves with what to write. */
function planExtraction(archive: Readable, limits: ExtractLimits, unchanged: ReadonlyMap<string, KnownFile>): Promise<Plan> {
  const plan: Plan = { files: [], directories: [], skippedLinks: [], entries: 0, bytes: 0 };
  const extract = tar.extract();
  let knownBytes = 0;
  for (const file of unchanged.values()) knownBytes += file.size;
  const rawLimit = limits.maxBytes + knownBytes + (limits.maxEntries + 2) * OVERHEAD_PER_ENTRY;
  const overLimit = (name: string, size: number): TracemendError =>
    tooLarge(name, `has ${size} bytes, which passes the ${limits.maxBytes} bytes of new content allowed for the archive`, { size, maxBytes: limits.maxBytes });
  let raw = 0;
  return new Promise<Plan>((resolve, reject) => {
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      reject(error instanceof Error ? error : new Error(String(error)));
      archive.destroy();
      extract.destroy();
    };
    archive.on('data', (chunk: Buffer) => {
      raw += chunk.length;
      if (raw > rawLimit) fail(tooLarge('(archive)', `pushed the archive past ${rawLimit} bytes`, { rawBytes: raw }));
    });
    archive.once('error', fail);
    extract.on('entry', (header, stream, next) => {
      void (async () => {
        const name = header.name;
        plan.entries += 1;
        if (plan.entries > limits.maxEntries) throw tooLarge(name, `is one entry more than the ${limits.maxEntries} allowed`, { maxEntries: limits.maxEntries });
        const path = entryPath(name);
        switch (header.type) {
          case 'directory':
            stream.resume();
            if (path !== '') plan.directories.push(path);
            return;
          case 'file':
          case 'contiguous-file': {
            const size = header.size ?? 0;
            if (path === '') throw refuse(name, 'is a file in place of the tree root');
            // A file of its uploaded size may be the uploaded one: read it (bounded by that size) before counting it.
            const known = unchanged.get(path);
            const maybeUnchanged = known !== undefined && known.size === size;
            if (!maybeUnchanged && plan.bytes + size > limits.maxBytes) throw overLimit(name, size);
            const content = await bodyOf(stream);
            if (maybeUnchanged && createHash('sha256').update(content).digest('hex') === known.sha256) return;
            if (plan.bytes + size > limits.maxBytes) throw overLimit(name, size);
            plan.bytes += size;
            plan.files.push({ path, content, mode: (header.mode ?? 0o644) & 0o777 });
            return;
          }
          case 'symlink':
          case 'link': {
            stream.resume();
            const target = header.linkname ?? '';
            // A hard link names its target from the archive root; a symlink from its own folder.
            const inside = header.type === 'link' ? entryPathOrNull(target) !== null : linkStaysInside(path, target);
            if (!inside) throw refuse(name, `is a ${header.type === 'link' ? 'hard link' : 'symbolic link'} to ${target.slice(0, 300)}, outside the tree`, { link: target.slice(0, 1_024) });
            plan.skippedLinks.push(path);
            return;
          }
          default:
            throw refuse(name, `is a ${header.type ?? 'typeless'} entry; only regular files and directories are copied back`, { type: header.type });
        }
      })().then(() => next(), fail);
    });
    extract.once('finish', () => {
      if (!failed) resolve(plan);
    });
    extract.once('error', fail);
    archive.pipe(extract);
  });
}

function entryPathOrNull(name: string): string | null {
  try {
    const path = entryPath(name.startsWith('./') ? name : `./${name}`);
    return path === '' ? null : path;
  } catch {
    return null;
  }
}

/** Creates a directory inside the tree without following a link out of it; returns whether it was new. */
async function directoryInside(root: string, path: string): Promise<{ created: boolean; absolute: string }> {
  const resolved = await resolveInside(root, path);
  if (resolved.exists) return { created: false, absolute: resolved.path };
  await mkdir(resolved.path, { recursive: true, mode: 0o755 });
  return { created: true, absolute: resolved.path };
}

/**
 * Extracts `archive` (the engine's tar of a folder, entries named `./…`) into `root`. Only regular
 * files and directories are written; absolute names, `..`, links that leave the tree and any other
 * entry type (devices, FIFOs) are refused with SANDBOX_ESCAPE naming the entry, sizes and counts past
 * `limits` with SANDBOX_RESOURCE_LIMIT. The whole archive is judged before the first write, so a
 * refused archive changes nothing. Files go through `writeFileInside`; unchanged ones are skipped.
 */
export async function extractArchiveInto(root: string, archive: Readable, options: ExtractOptions = {}): Promise<ExtractResult> {
  const plan = await planExtraction(archive, options.limits ?? DEFAULT_EXTRACT_LIMITS, options.unchanged ?? new Map());
  const createdDirectories: string[] = [];
  const giveOwner = async (absolute: string): Promise<void> => {
    if (options.owner !== undefined) await lchown(absolute, options.owner.uid, options.owner.gid);
  };
  for (const path of plan.directories) {
    const directory = await directoryInside(root, path);
    if (directory.created) {
      createdDirectories.push(path);
      await giveOwner(directory.absolute);
    }
  }
  for (const file of plan.files) {
    const before = await resolveInside(root, file.path);
    await writeFileInside(root, file.path, file.content);
    const after = await resolveInside(root, file.path);
    if (!before.exists) await giveOwner(after.path);
    await chmod(after.path, file.mode);
  }
  return { written: plan.files.map((file) => file.path), createdDirectories, skippedLinks: plan.skippedLinks, entries: plan.entries, bytes: plan.bytes };
}
