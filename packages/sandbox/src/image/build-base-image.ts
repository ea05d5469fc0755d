import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { connectDocker } from '../engine';
import { TracemendError } from '@tracemend/contracts';
import { createTarStream, type RootfsEntry } from './tar';

const execFileAsync = promisify(execFile);

/** Bumped whenever the layout below changes, so an old image with the same host files is rebuilt. */
export const IMAGE_BUILDER_VERSION = '2';

export const SANDBOX_UID = 10001;
export const SANDBOX_GID = 10001;

export const LABEL_CONTENT_HASH = 'tracemend.content-hash';
export const LABEL_NODE_VERSION = 'tracemend.node-version';
export const LABEL_BUILDER_VERSION = 'tracemend.builder-version';

/** In-image path of the wall-clock backstop the Docker driver wraps every command with. */
export const IMAGE_TIMEOUT_BIN = '/usr/bin/timeout';

/** The tag of the sandbox base image for a Node version (default: the running one). */
export function sandboxImageTag(nodeVersion: string = process.versions.node): string {
  return `tracemend/sandbox-node:${nodeVersion.replace(/^v/, '')}`;
}

export interface BuildBaseImageOptions {
  readonly docker?: Docker;
  /** Image tag; defaults to `sandboxImageTag()`. */
  readonly tag?: string;
  /** Host Node binary copied into the image; defaults to the running one. */
  readonly nodeBinary?: string;
  readonly nodeVersion?: string;
}

export interface BuildBaseImageResult {
  readonly status: 'built' | 'skipped';
  readonly tag: string;
  readonly contentHash: string;
  readonly imageId: string;
  readonly sizeBytes: number;
  readonly durationMs: number;
}

/** Host binaries placed in the image, by in-image path. */
function hostBinaries(nodeBinary: string): { readonly imagePath: string; readonly hostPath: string }[] {
  return [
    { imagePath: '/usr/local/bin/node', hostPath: nodeBinary },
    { imagePath: '/bin/sh', hostPath: '/bin/sh' },
    { imagePath: '/usr/bin/env', hostPath: '/usr/bin/env' },
    { imagePath: IMAGE_TIMEOUT_BIN, hostPath: '/usr/bin/timeout' },
  ];
}

/** Absolute library paths `ldd` reports for a binary, the dynamic loader included. */
export async function sharedLibrariesOf(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('ldd', [binary]));
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? '';
    if (/not a dynamic executable|statically linked/.test(output)) return [];
    throw new TracemendError('INTERNAL', `ldd failed for ${binary}`, { cause: error });
  }
  const paths: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line.trim());
    if (match?.[1]) paths.push(match[1]);
    else if (/=>\s*not found/.test(line)) throw new TracemendError('INTERNAL', `ldd: missing library for ${binary}: ${line.trim()}`);
  }
  return paths;
}

/**
 * glibc companions that native addons of common dev tools load though Node itself does not
 * (rolldown, used by vitest 4, needs librt); taken from the folder that holds node's libc.
 */
export const ADDON_LIBRARIES = ['librt.so.1', 'libpthread.so.0', 'libdl.so.2', 'libm.so.6', 'libgcc_s.so.1', 'libstdc++.so.6', 'libutil.so.1'] as const;

function textFile(path: string, content: string, mode = 0o644): RootfsEntry {
  return { type: 'inline', path, mode, content: Buffer.from(content, 'utf8') };
}

/** The root filesystem of the image as an ordered list of entries (directories before their contents). */
export async function collectRootfs(nodeBinary: string): Promise<RootfsEntry[]> {
  const files = new Map<string, RootfsEntry>();
  const addHostFile = async (imagePath: string, hostPath: string, mode: number): Promise<void> => {
    if (files.has(imagePath)) return;
    const resolved = await realpath(hostPath);
    const info = await stat(resolved);
    files.set(imagePath, { type: 'file', path: imagePath, mode, source: resolved, size: info.size });
  };
  let libcDir: string | undefined;
  for (const { imagePath, hostPath } of hostBinaries(nodeBinary)) {
    await addHostFile(imagePath, hostPath, 0o755);
    for (const library of await sharedLibrariesOf(await realpath(hostPath))) {
      await addHostFile(library, library, 0o755);
      if (posix.basename(library) === 'libc.so.6') libcDir ??= posix.dirname(library);
    }
  }
  for (const name of libcDir === undefined ? [] : ADDON_LIBRARIES) {
    const path = posix.join(libcDir ?? '', name);
    if (await stat(path).then(() => true, () => false)) await addHostFile(path, path, 0o755);
  }
  files.set('/usr/bin/node', { type: 'symlink', path: '/usr/bin/node', target: '/usr/local/bin/node' });
  const etc = [
    textFile('/etc/passwd', `root:x:0:0:root:/root:/bin/sh\nsandbox:x:${SANDBOX_UID}:${SANDBOX_GID}:sandbox:/work:/bin/sh\n`),
    textFile('/etc/group', `root:x:0:\nsandbox:x:${SANDBOX_GID}:\n`),
    // Names resolve from files only: nothing in the sandbox ever asks a DNS server.
    textFile('/etc/nsswitch.conf', 'passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\n'),
  ];
  for (const entry of etc) files.set(entry.path, entry);

  const dirs = new Map<string, RootfsEntry>();
  const addDir = (path: string, mode = 0o755, owner?: number): void => {
    if (path === '/' || dirs.has(path)) return;
    addDir(posix.dirname(path));
    dirs.set(path, { type: 'dir', path, mode, ...(owner === undefined ? {} : { uid: owner, gid: owner }) });
  };
  addDir('/tmp', 0o1777);
  addDir('/work', 0o755, SANDBOX_UID);
  addDir('/deps', 0o755);
  addDir('/root', 0o700);
  for (const path of ['/proc', '/sys', '/dev', '/etc']) addDir(path);
  for (const path of files.keys()) addDir(posix.dirname(path));

  const sortedDirs = [...dirs.values()].sort((a, b) => a.path.localeCompare(b.path));
  const sortedFiles = [...files.values()].sort((a, b) => a.path.localeCompare(b.path));
  return [...sortedDirs, ...sortedFiles];
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** sha256 over the builder version and every entry's path, mode, owner and contents. */
export async function hashRootfs(entries: readonly RootfsEntry[], nodeVersion: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`tracemend-sandbox-image\nbuilder ${IMAGE_BUILDER_VERSION}\nnode ${nodeVersion}\n`);
  for (const entry of entries) {
    switch (entry.type) {
      case 'dir':
        hash.update(`dir ${entry.path} ${entry.mode.toString(8)} ${entry.uid ?? 0}:${entry.gid ?? 0}\n`);
        break;
      case 'symlink':
        hash.update(`symlink ${entry.path} ${entry.target}\n`);
        break;
      case 'inline':
        hash.update(`file ${entry.path} ${entry.mode.toString(8)} ${createHash('sha256').update(entry.content).digest('hex')}\n`);
        break;
      case 'file':
        hash.update(`file ${entry.path} ${entry.mode.toString(8)} ${await hashFile(entry.source)}\n`);
        break;
    }
  }
  return hash.digest('hex');
}

/** Fails with SANDBOX_UNAVAILABLE when the Docker engine does not answer. */
export async function assertDockerAvailable(docker: Docker, timeoutMs = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TracemendError('SANDBOX_UNAVAILABLE', `The Docker engine did not answer: ${reason}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

interface ImageInfo {
  readonly id: string;
  readonly labels: Record<string, string>;
  readonly size: number;
}

async function inspectImage(docker: Docker, tag: string): Promise<ImageInfo | undefined> {
  try {
    const info = await docker.getImage(tag).inspect();
    return { id: info.Id, labels: info.Config.Labels ?? {}, size: info.Size };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

async function importRootfs(docker: Docker, entries: readonly RootfsEntry[], tag: string, changes: string[]): Promise<void> {
  const separator = tag.lastIndexOf(':');
  const repo = separator > tag.lastIndexOf('/') ? tag.slice(0, separator) : tag;
  const version = separator > tag.lastIndexOf('/') ? tag.slice(separator + 1) : 'latest';
  const response = await docker.importImage(createTarStream(entries), {
    repo,
    tag: version,
    changes,
    message: 'tracemend sandbox base image (offline build)',
  } as object);
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(response, (error: Error | null, events: { error?: string; errorDetail?: { message?: string } }[]) => {
      const failed = events.find((event) => event.error ?? event.errorDetail);
      if (error) reject(error);
      else if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error ?? 'docker import failed'));
      else resolve();
    });
  });
}

/**
 * Builds the sandbox base image without a registry: the host's Node binary, its shared libraries,
 * a shell and a few tools, imported as one layer. Does nothing when an image with the same tag and
 * content hash exists.
 */
export async function buildBaseImage(options: BuildBaseImageOptions = {}): Promise<BuildBaseImageResult> {
  const started = Date.now();
  const docker = options.docker ?? connectDocker();
  const tag = options.tag ?? sandboxImageTag(options.nodeVersion);
  const nodeVersion = (options.nodeVersion ?? process.versions.node).replace(/^v/, '');
  await assertDockerAvailable(docker);

  const entries = await collectRootfs(options.nodeBinary ?? process.execPath);
  const contentHash = await hashRootfs(entries, nodeVersion);
  const existing = await inspectImage(docker, tag);
  if (existing?.labels[LABEL_CONTENT_HASH] === contentHash) {
    return { status: 'skipped', tag, contentHash, imageId: existing.id, sizeBytes: existing.size, durationMs: Date.now() - started };
  }

  const changes = [
    `USER ${SANDBOX_UID}:${SANDBOX_GID}`,
    'WORKDIR /work',
    'ENV PATH=/usr/local/bin:/usr/bin:/bin',
    'ENV NODE_ENV=production',
    'ENV HOME=/tmp',
    'CMD ["node"]',
    `LABEL ${LABEL_CONTENT_HASH}=${contentHash}`,
    `LABEL ${LABEL_NODE_VERSION}=${nodeVersion}`,
    `LABEL ${LABEL_BUILDER_VERSION}=${IMAGE_BUILDER_VERSION}`,
  ];
  try {
    await importRootfs(docker, entries, tag, changes);
  } catch (error) {
    throw new TracemendError('SANDBOX_UNAVAILABLE', `Importing the sandbox image ${tag} failed`, { cause: error });
  }
  const built = await inspectImage(docker, tag);
  if (built?.labels[LABEL_CONTENT_HASH] !== contentHash) {
    throw new TracemendError('INTERNAL', `The imported image ${tag} does not carry the expected content hash`);
  }
  if (existing && existing.id !== built.id) {
    // The replaced image is now untagged; it stays only if a container still uses it.
    await docker
      .getImage(existing.id)
      .remove()
      .catch(() => undefined);
  }
  return { status: 'built', tag, contentHash, imageId: built.id, sizeBytes: built.size, durationMs: Date.now() - started };
}
