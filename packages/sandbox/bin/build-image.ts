// Builds (or confirms) the sandbox base image and prints one line; exit 1 when it cannot.
// `--node <version or range> --cache-dir <dir>` builds the image of another Node version from its binary
// published on the npm registry, cached in <dir> (the worker's `<state dir>/workspace/node`), so a worker
// that later runs without a registry finds it.
import { parseArgs } from 'node:util';
import semver from 'semver';
import { TracemendError } from '@tracemend/contracts';
import { buildBaseImage, ensureNodeImage, nodeRangeOf, publishedNodeVersions, type BuildBaseImageResult } from '../src/index';

async function build(): Promise<BuildBaseImageResult> {
  const { values } = parseArgs({ options: { node: { type: 'string' }, 'cache-dir': { type: 'string' } } });
  if (values.node === undefined) return buildBaseImage();
  const cacheDir = values['cache-dir'];
  if (cacheDir === undefined) throw new TracemendError('INVALID_INPUT', '--node needs --cache-dir <dir>: the worker keeps Node binaries in <state dir>/workspace/node');
  const range = nodeRangeOf('.nvmrc', values.node);
  const { versions } = await publishedNodeVersions({ cacheDir, refresh: true });
  const version = semver.maxSatisfying(versions, range);
  if (version === null) throw new TracemendError('INVALID_INPUT', `no Node binary matching ${values.node} is published on the npm registry`);
  return ensureNodeImage({ cacheDir, version });
}

try {
  const result = await build();
  const hash12 = result.contentHash.slice(0, 12);
  if (result.status === 'built') {
    const seconds = (result.durationMs / 1000).toFixed(1);
    process.stdout.write(`[done] sandbox image: built ${result.tag} (${hash12}) in ${seconds} s\n`);
  } else {
    process.stdout.write(`[skip] sandbox image: ${result.tag} (${hash12}) present\n`);
  }
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof TracemendError && error.code === 'SANDBOX_UNAVAILABLE' ? ' (is dockerd running? try `docker info`)' : '';
  process.stderr.write(`[fail] sandbox image: ${message}${hint}\n`);
  process.exitCode = 1;
}
