// Sandbox mounts for an engine that cannot see this machine's files: every host folder a container
// would bind-mount becomes a Docker volume filled over the engine's archive API, and what a run wrote
// under /work travels back the same way.
import { createHash, randomUUID } from 'node:crypto';
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { TracemendError } from '@tracemend/contracts';
import { isInsideTree, readFileInside } from '@tracemend/process';
import { DEFAULT_EXTRACT_LIMITS, extractArchiveInto, type ExtractLimits, type ExtractResult } from './tar-extract';
import type { ReadOnlyMount } from './driver';

/** Label of a volume holding an uploaded host tree, valued with the tree's content hash. */
export const TREE_LABEL = 'tracemend.tree';
/** Label of a container's own /work volume. */
export const WORK_VOLUME_LABEL = 'tracemend.work-volume';
const MAX_CACHED_SCANS = 64;
/** Where an upload helper mounts the volume it fills or reads. */
const HELPER_MOUNT = '/tracemend-volume';

/** One entry of a host tree as it is uploaded. */
export interface TreeEntry {
  /** Tree-relative, forward slashes. */
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: Date;
  readonly size: number;
  /** sha256 of a file's content. */
  readonly sha256?: string;
  /** A symlink's target, relative, pointing inside the tree. */
  readonly linkname?: string;
}

/** A host tree walked without following links, with a hash over paths, types, modes, owners and contents. */
export interface TreeManifest {
  readonly root: string;
  readonly entries: readonly TreeEntry[];
  readonly hash: string;
  readonly bytes: number;
  /** Whether hard-linked files were read (see `ScanOptions.allowHardLinks`); the upload reads them the same way. */
  readonly allowHardLinks: boolean;
}

function escapeError(root: string, path: string, why: string, details: Record<string, unknown>): TracemendError {
  return new TracemendError('SANDBOX_ESCAPE', `${path} ${why} (tree ${root}); a tree is uploaded to the engine only with links that stay inside it`, {
    details: { root, path, ...details },
  });
}

/** Whether `link` names one of the container paths (or something below one) a tree may link to. */
function namesContainerPath(link: string, containerLinks: readonly string[]): boolean {
  return containerLinks.some((prefix) => link === prefix || link.startsWith(`${prefix}/`));
}

/**
 * A symlink as uploaded: its target relative to its folder when it stays inside the tree, as written
 * when it names one of the tree's declared container paths, otherwise refused.
 */
async function linkEntryTarget(root: string, path: string, absolute: string, containerLinks: readonly string[]): Promise<string> {
  const written = await readlink(absolute);
  if (written.startsWith('/') && !written.split('/').includes('..') && namesContainerPath(written, containerLinks)) return written;
  let target: string;
  try {
    target = await realpath(absolute);
  } catch {
    target = resolve(dirname(absolute), written);
  }
  if (!isInsideTree(root, target)) throw escapeError(root, path, `is a symbolic link to ${target}, outside the tree`, { link: written, target });
  // An absolute target that stays inside names a host path the container does not have.
  return written.startsWith('/') ? relative(dirname(absolute), resolve(dirname(absolute), written)) || '.' : written;
}

export interface ScanOptions {
  /** Tree-relative paths (forward slashes) left out with everything below them. */
  readonly skip?: (path: string) => boolean;
  /** Container paths links may name (see `ReadOnlyMount.containerLinks`); kept as written. */
  readonly containerLinks?: readonly string[];
  /**
   * Reads hard-linked files too. Only for trees no sandbox has written (dependencies, tracemend's own
   * tooling, which pnpm hard-links from its store); a writable checkout keeps the refusal.
   */
  readonly allowHardLinks?: boolean;
}

/**
 * Walks `source` like `copyTreeInside`: directories and regular files (read through `readFileInside`,
 * so never through a link), symlinks that stay inside the tree; a link out of it is refused with
 * SANDBOX_ESCAPE naming it, FIFOs, sockets and devices are left out.
 */
export async function scanTree(source: string, options: ScanOptions = {}): Promise<TreeManifest> {
  const root = await realpath(source);
  const entries: TreeEntry[] = [];
  const hash = createHash('sha256');
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    const absoluteDir = dir === '' ? root : join(root, dir);
    const real = await realpath(absoluteDir);
    if (real !== absoluteDir) throw escapeError(root, dir, `became a link to ${real}`, { target: real });
    const listing = (await readdir(absoluteDir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const dirent of listing) {
      const path = dir === '' ? dirent.name : `${dir}/${dirent.name}`;
      if (options.skip?.(path)) continue;
      const absolute = join(root, path);
      const info = await lstat(absolute);
      const base = { path, mode: info.mode & 0o7777 & ~0o6000, uid: info.uid, gid: info.gid, mtime: info.mtime };
      if (info.isDirectory()) {
        entries.push({ ...base, type: 'directory', size: 0 });
        hash.update(`d ${base.mode.toString(8)} ${base.uid}:${base.gid} ${path}\n`);
        await walk(path);
      } else if (info.isFile()) {
        const content = await readFileInside(root, path, options.allowHardLinks === true ? { allowHardLinks: true } : {});
        const sha256 = createHash('sha256').update(content).digest('hex');
        entries.push({ ...base, type: 'file', size: content.length, sha256 });
        hash.update(`f ${base.mode.toString(8)} ${base.uid}:${base.gid} ${path} ${sha256}\n`);
        bytes += content.length;
      } else if (info.isSymbolicLink()) {
        const linkname = await linkEntryTarget(root, path, absolute, options.containerLinks ?? []);
        entries.push({ ...base, type: 'symlink', size: 0, linkname });
        hash.update(`l ${base.uid}:${base.gid} ${path} ${linkname}\n`);
      }
    }
  };
  await walk('');
  return { root, entries, hash: hash.digest('hex'), bytes, allowHardLinks: options.allowHardLinks === true };
}

/**
 * A cheap stand-in for a tree's content: every entry's path, type, mode, owner, size, inode and
 * change time, from `lstat` alone. Writing a file changes its ctime, which no caller can set back, so
 * an equal fingerprint means the content hash of an earlier scan still holds.
 */
export async function treeFingerprint(source: string): Promise<string> {
  const root = await realpath(source);
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    const names = (await readdir(dir === '' ? root : join(root, dir))).sort();
    for (const name of names) {
      const path = dir === '' ? name : `${dir}/${name}`;
      const info = await lstat(join(root, path), { bigint: true });
      hash.update(`${path}\0${info.mode}\0${info.uid}:${info.gid}\0${info.size}\0${info.ino}\0${info.ctimeNs}\0${info.mtimeNs}\n`);
      if (info.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return hash.digest('hex');
}

/**
 * The tar of a scanned tree, entries named as in the manifest. Files are read again through
 * `readFileInside`; one that changed since the scan fails the stream, so a volume never holds a
 * mix the manifest's hash does not describe.
 */
export function packTree(manifest: TreeManifest): Readable {
  const pack = tar.pack();
  void (async () => {
    for (const entry of manifest.entries) {
      const header = { name: entry.path, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime };
      if (entry.type === 'directory') {
        pack.entry({ ...header, type: 'directory' });
      } else if (entry.type === 'symlink') {
        pack.entry({ ...header, type: 'symlink', linkname: entry.linkname ?? '' });
      } else {
        const content = await readFileInside(manifest.root, entry.path, { allowHardLinks: manifest.allowHardLinks });
        if (createHash('sha256').update(content).digest('hex') !== entry.sha256) {
          throw new TracemendError('INTERNAL', `${entry.path} in ${manifest.root} changed while it was uploaded to the engine`, { details: { root: manifest.root, path: entry.path } });
        }
        await new Promise<void>((done, fail) => pack.entry({ ...header, type: 'file', size: content.length }, content, (error) => (error ? fail(error) : done())));
      }
    }
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error instanceof Error ? error : new Error(String(error))));
  return pack;
}

function statusCodeOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | undefined)?.statusCode;
}

/**
 * A volume mount. `copyImage` lets the engine copy the image's folder at `target` into an empty
 * volume first (the sandbox image's /work, owned by the sandbox user); tree volumes skip it.
 */
function volumeMount(source: string, target: string, readOnly: boolean, copyImage = false): Docker.MountSettings {
  // The engine needs neither Labels nor DriverConfig here; the typings insist on both.
  return { Type: 'volume', Source: source, Target: target, ReadOnly: readOnly, VolumeOptions: { NoCopy: !copyImage } } as Docker.MountSettings;
}

function ignoreMissing(error: unknown): void {
  if (statusCodeOf(error) !== 404) throw error;
}

export interface VolumeMountsOptions {
  readonly docker: Docker;
  /** Labels on every volume and helper container, besides `tracemend.sandbox=1`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Bounds of the archive copied back from /work. */
  readonly copyBackLimits?: ExtractLimits;
  readonly sandboxLabel: string;
}

/** How a container's mounts were staged in volume mode, and how to finish with them. */
export interface StagedVolumes {
  /** Mounts for the container definition. */
  readonly mounts: Docker.MountConfig;
  /** Uploads the checkout into the container's /work volume (the container exists, not started). */
  upload(container: Docker.Container): Promise<void>;
  /** Copies what the container wrote under /work back into the host checkout (no-op for a read-only /work). */
  copyBack(): Promise<ExtractResult | undefined>;
  /** Removes the container's own volume; shared tree volumes stay for the next container. */
  release(): Promise<void>;
}

/** What `stage` needs of a run spec: the host folders and where they go. */
export interface VolumeStageRequest {
  readonly image: string;
  readonly workDir: string;
  readonly workReadOnly: boolean;
  readonly depsDir: string | undefined;
  readonly mounts: readonly ReadOnlyMount[];
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Turns a container's host folders into volumes. Read-only folders become content-addressed volumes
 * named by their tree hash, uploaded once per engine and shared by every container after; a tree
 * volume counts as complete only once its never-started upload container has been renamed to the
 * volume's name, which also keeps the volume in use. The checkout gets a fresh volume per container.
 */
export class VolumeMounts {
  private readonly uploads = new Map<string, Promise<string>>();
  /** Scans of read-only trees by real path, reused while their fingerprint holds: hashing node_modules takes about a second. */
  private readonly scans = new Map<string, { readonly fingerprint: string; readonly manifest: TreeManifest }>();

  constructor(private readonly options: VolumeMountsOptions) {}

  private get docker(): Docker {
    return this.options.docker;
  }

  private labels(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    return { ...extra, ...this.options.labels, [this.options.sandboxLabel]: '1' };
  }

  private async scanReadOnly(source: string, containerLinks: readonly string[]): Promise<TreeManifest> {
    const root = await realpath(source);
    const key = [root, ...containerLinks].join('\0');
    const fingerprint = await treeFingerprint(root);
    const known = this.scans.get(key);
    if (known?.fingerprint === fingerprint) return known.manifest;
    const manifest = await scanTree(root, { containerLinks, allowHardLinks: true });
    this.scans.delete(key);
    this.scans.set(key, { fingerprint, manifest });
    if (this.scans.size > MAX_CACHED_SCANS) this.scans.delete(this.scans.keys().next().value ?? key);
    return manifest;
  }

  /** The volume holding `source`'s tree (its name and content hash), uploaded unless the engine has it already. */
  async treeVolumeOf(source: string, image: string, containerLinks: readonly string[] = []): Promise<{ name: string; hash: string }> {
    const manifest = await this.scanReadOnly(source, containerLinks);
    return { name: await this.ensureTreeVolume(manifest, image), hash: manifest.hash };
  }

  private async ensureTreeVolume(manifest: TreeManifest, image: string): Promise<string> {
    const name = `tracemend-tree-${manifest.hash.slice(0, 40)}`;
    const known = this.uploads.get(name);
    if (known !== undefined) {
      const settled = await known.catch(() => undefined);
      if (settled !== undefined && (await this.exists(name))) return name;
    }
    const upload = this.uploadTree(name, manifest, image);
    this.uploads.set(name, upload);
    upload.catch(() => this.uploads.delete(name));
    return await upload;
  }

  private async exists(holder: string): Promise<boolean> {
    try {
      await this.docker.getContainer(holder).inspect();
      return true;
    } catch (error) {
      ignoreMissing(error);
      return false;
    }
  }

  private async uploadTree(name: string, manifest: TreeManifest, image: string): Promise<string> {
    if (await this.exists(name)) return name;
    await this.docker.createVolume({ Name: name, Labels: this.labels({ [TREE_LABEL]: manifest.hash }) });
    const helper = await this.helper(name, image, false, `${name}-upload-${randomUUID().slice(0, 8)}`);
    try {
      await helper.putArchive(packTree(manifest), { path: HELPER_MOUNT });
      await helper.rename({ name });
      return name;
    } catch (error) {
      await helper.remove({ force: true }).catch(ignoreMissing);
      // Another upload of the same tree finished first.
      if (statusCodeOf(error) === 409 && (await this.exists(name))) return name;
      throw error;
    }
  }

  /** A never-started container whose only purpose is to reach `volume` over the archive API. */
  private async helper(volume: string, image: string, readOnly: boolean, name?: string): Promise<Docker.Container> {
    return await this.docker.createContainer({
      ...(name === undefined ? {} : { name }),
      Image: image,
      Cmd: ['node', '-e', ''],
      Labels: this.labels(),
      NetworkDisabled: true,
      HostConfig: {
        NetworkMode: 'none',
        Mounts: [volumeMount(volume, HELPER_MOUNT, readOnly)],
      },
    });
  }

  /**
   * Checks, once a container mounts them (so they can no longer be removed), that the tree volumes are
   * the uploaded ones: had a reaper removed one in between, the engine would have mounted a new empty
   * volume of that name, and the run would see an empty folder.
   */
  private async verifyTrees(trees: readonly { name: string; hash: string }[]): Promise<void> {
    for (const tree of trees) {
      const info = await this.docker.getVolume(tree.name).inspect();
      if (info.Labels?.[TREE_LABEL] !== tree.hash) {
        throw new TracemendError('SANDBOX_UNAVAILABLE', `engine volume ${tree.name} vanished while a sandbox container was created and came back empty; run it again`, {
          details: { volume: tree.name },
        });
      }
    }
  }

  /** Prepares the volumes of one container; see `StagedVolumes`. */
  async stage(request: VolumeStageRequest): Promise<StagedVolumes> {
    const readOnly = await Promise.all(
      [
        ...(request.depsDir === undefined ? [] : [{ source: request.depsDir, target: '/work/node_modules' }]),
        ...request.mounts,
      ].map(async (mount: ReadOnlyMount) => ({ target: mount.target, tree: await this.treeVolumeOf(mount.source, request.image, mount.containerLinks) })),
    );
    const trees = readOnly.map(({ tree }) => tree);
    const treeMounts = readOnly.map(({ target, tree }) => volumeMount(tree.name, target, true));
    if (request.workReadOnly) {
      const work = await this.treeVolumeOf(request.workDir, request.image);
      return this.staged([volumeMount(work.name, '/work', true), ...treeMounts], () => this.verifyTrees([work, ...trees]), () => Promise.resolve(undefined));
    }
    const skipDeps = request.depsDir === undefined ? undefined : (path: string) => path === 'node_modules';
    const manifest = await scanTree(request.workDir, skipDeps === undefined ? {} : { skip: skipDeps });
    const workVolume = `tracemend-work-${randomUUID()}`;
    await this.docker.createVolume({ Name: workVolume, Labels: this.labels({ ...request.labels, [WORK_VOLUME_LABEL]: '1' }) });
    let uploaded = false;
    // The image's /work (owned by the sandbox user) is copied into the fresh volume, so its root is writable as with a chowned checkout.
    return this.staged(
      [volumeMount(workVolume, '/work', false, true), ...treeMounts],
      async (container) => {
        await this.verifyTrees(trees);
        await container.putArchive(packTree(manifest), { path: '/work' });
        uploaded = true;
      },
      async () => (uploaded ? await this.copyBack(workVolume, manifest, request.image) : undefined),
      workVolume,
    );
  }

  private staged(mounts: Docker.MountConfig, upload: StagedVolumes['upload'], copyBack: StagedVolumes['copyBack'], workVolume?: string): StagedVolumes {
    let copied: Promise<ExtractResult | undefined> | undefined;
    return {
      mounts,
      upload,
      copyBack: () => (copied ??= copyBack()),
      release: async () => {
        if (workVolume !== undefined) await this.docker.getVolume(workVolume).remove().catch(ignoreMissing);
      },
    };
  }

  /**
   * Reads the work volume through a helper container that mounts only it (not the dependency
   * volume nested at /work/node_modules) and extracts it into the host checkout.
   */
  private async copyBack(workVolume: string, manifest: TreeManifest, image: string): Promise<ExtractResult> {
    const helper = await this.helper(workVolume, image, true);
    try {
      const archive = (await helper.getArchive({ path: `${HELPER_MOUNT}/.` })) as unknown as Readable;
      const unchanged = new Map(manifest.entries.flatMap((entry) => (entry.sha256 === undefined ? [] : [[entry.path, { sha256: entry.sha256, size: entry.size }] as const])));
      const owner = await lstat(manifest.root);
      return await extractArchiveInto(manifest.root, archive, {
        limits: this.options.copyBackLimits ?? DEFAULT_EXTRACT_LIMITS,
        unchanged,
        ...(process.getuid?.() === 0 ? { owner: { uid: owner.uid, gid: owner.gid } } : {}),
      });
    } finally {
      await helper.remove({ force: true }).catch(ignoreMissing);
    }
  }
}

/** Removes sandbox-labelled volumes no container uses any more, created at least `olderThanMs` ago; returns their names. */
export async function reapVolumes(docker: Docker, labelFilters: readonly string[], olderThanMs: number): Promise<string[]> {
  const { Volumes: volumes } = await docker.listVolumes({ filters: { label: [...labelFilters] } });
  const cutoff = Date.now() - olderThanMs;
  const removed: string[] = [];
  for (const volume of volumes ?? []) {
    const created = Date.parse((volume as { CreatedAt?: string }).CreatedAt ?? '');
    if (Number.isFinite(created) && created > cutoff) continue;
    try {
      await docker.getVolume(volume.Name).remove();
      removed.push(volume.Name);
    } catch (error) {
      // 409: a container still mounts it.
      if (statusCodeOf(error) !== 404 && statusCodeOf(error) !== 409) throw error;
    }
  }
  return removed;
}
