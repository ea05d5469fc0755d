import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogService, GatedEnvelope } from '@tracemend/contracts';
import { exampleGatedEnvelope } from '@tracemend/contracts/examples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitRepositories, parseRemoteTags, type GitRepositories } from './git';
import { initRepository, type TestRepository } from './testing/git-repo';
import { createTriageActivities, loadServiceCatalog, resolveTarget } from './triage';
import { candidateTags, createVersionResolver, resolveVersion } from './version';

let dir: string;
let repo: TestRepository;
let git: GitRepositories;
const commits: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-catalog-'));
  repo = initRepository(join(dir, 'users-api'));
  commits.first = await repo.commit({ 'src/app.ts': 'export const a = 1;\n' }, 'first');
  repo.git('tag', 'v1.4.2');
  commits.second = await repo.commit({ 'src/users.ts': 'export const b = 2;\n' }, 'second');
  repo.git('tag', '-a', 'users-api@2.0.0', '-m', 'release 2.0.0');
  commits.third = await repo.commit({ 'src/orders.ts': 'export const c = 3;\n' }, 'third');
  repo.git('tag', '-a', 'release-3.0.0', '-m', 'release 3.0.0');
  git = createGitRepositories({ cacheDir: join(dir, 'git-cache') });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function catalogText(extra = ''): string {
  return `version: 1
services:
  users-api:
    repository: { owner: acme, name: users-api, cloneUrl: "${repo.dir}" }
    test: { runner: vitest, command: [npx, vitest, run] }
    dataContract: contracts/users-api.yaml
    httpApp: { module: src/app.ts, export: createApp, args: { module: test/fakes.ts, export: makeDeps } }
    deployRoot: /var/task/
${extra}`;
}

async function catalogFile(text: string, name = 'tracemend.config.yaml'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

function entry(version?: CatalogService['version']): CatalogService {
  return {
    repository: { owner: 'acme', name: 'users-api', cloneUrl: repo.dir },
    baseBranch: 'main',
    test: { runner: 'vitest', command: ['npx', 'vitest', 'run'] },
    dataContract: 'c.yaml',
    ...(version ? { version } : {}),
  };
}

function gatedWith(identity: Partial<GatedEnvelope['envelope']['identity']>): GatedEnvelope {
  return { ...exampleGatedEnvelope, envelope: { ...exampleGatedEnvelope.envelope, identity: { ...exampleGatedEnvelope.envelope.identity, ...identity } } };
}

describe('version → commit against a real git repository', () => {
  it('reads lightweight and annotated tags, peeling annotated ones to their commit', async () => {
    const tags = await git.listTags(repo.dir);
    expect(Object.fromEntries(tags.map((tag) => [tag.name, tag.commit]))).toEqual({
      'v1.4.2': commits.first,
      'users-api@2.0.0': commits.second,
      'release-3.0.0': commits.third,
    });
    // The annotated tag's own object is not the commit; ls-remote's ^{} line is.
    expect(repo.git('rev-parse', 'users-api@2.0.0')).not.toBe(commits.second);
    expect(parseRemoteTags(`${'a'.repeat(40)}\trefs/tags/x\n${'b'.repeat(40)}\trefs/tags/x^{}\n`)).toEqual([{ name: 'x', commit: 'b'.repeat(40) }]);
  });

  it('resolves a full SHA, a short SHA, a vcs revision, the catalog map and tags in their order', async () => {
    const reported = (version: string, revision?: string) => ({ service: 'users-api', version, ...(revision ? { revision } : {}) });
    expect(await resolveVersion(git, reported(commits.first!), entry())).toEqual({ sha: commits.first, resolvedFrom: { version: commits.first, how: 'sha' } });
    expect(await resolveVersion(git, reported(commits.second!.slice(0, 9)), entry())).toEqual({
      sha: commits.second,
      resolvedFrom: { version: commits.second!.slice(0, 9), how: 'short-sha', ref: commits.second!.slice(0, 9) },
    });
    expect(await resolveVersion(git, reported('1.4.2', commits.third!.slice(0, 8)), entry())).toMatchObject({ sha: commits.third, resolvedFrom: { how: 'vcs-attribute' } });
    expect(await resolveVersion(git, reported('1.4.2', commits.third), entry())).toMatchObject({ sha: commits.third, resolvedFrom: { how: 'vcs-attribute', ref: commits.third } });
    expect(await resolveVersion(git, reported('1.4.2'), entry({ commits: { '1.4.2': commits.second! } }))).toEqual({
      sha: commits.second,
      resolvedFrom: { version: '1.4.2', how: 'catalog-map', ref: '1.4.2' },
    });
    expect(await resolveVersion(git, reported('1.4.2'), entry())).toEqual({ sha: commits.first, resolvedFrom: { version: '1.4.2', how: 'tag', ref: 'refs/tags/v1.4.2' } });
    expect(await resolveVersion(git, reported('2.0.0'), entry())).toMatchObject({ sha: commits.second, resolvedFrom: { ref: 'refs/tags/users-api@2.0.0' } });
    expect(await resolveVersion(git, reported('3.0.0'), entry({ tagPattern: 'release-{version}' }))).toMatchObject({
      sha: commits.third,
      resolvedFrom: { how: 'tag', ref: 'refs/tags/release-3.0.0' },
    });
    expect(candidateTags('svc', 'v2.1.0', '{service}/{version}')).toEqual(['svc/v2.1.0', 'v2.1.0', '2.1.0', 'svc@v2.1.0', 'svc-v2.1.0']);
  });

  it('fails naming the version, every ref tried and the catalog setting that fixes it', async () => {
    const error = await resolveVersion(git, { service: 'users-api', version: '3.0.0' }, entry()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    const message = (error as Error).message;
    expect(message).toContain('service.version "3.0.0" of users-api names no commit');
    for (const ref of ['refs/tags/3.0.0', 'refs/tags/v3.0.0', 'refs/tags/users-api@3.0.0', 'refs/tags/users-api-v3.0.0']) expect(message).toContain(ref);
    expect(message).toContain("the catalog's version.commits (not set)");
    expect(message).toContain('services.users-api.version.tagPattern');
    expect(message).toContain('services.users-api.version.commits');
    const short = await resolveVersion(git, { service: 'users-api', version: 'deadbeef' }, entry()).catch((caught: unknown) => caught);
    expect((short as Error).message).toMatch(/a short SHA deadbeef \(no such commit\)/);
  });

  it('finds a commit made after the mirror was cloned, fetching once', async () => {
    const resolver = createVersionResolver(git);
    await resolver.resolve({ service: 'users-api', version: commits.first!.slice(0, 10) }, entry());
    const later = await repo.commit({ 'src/later.ts': 'export {};\n' }, 'later');
    expect((await resolver.resolve({ service: 'users-api', version: later.slice(0, 10) }, entry())).sha).toBe(later);
    expect(await resolver.listFiles(entry(), later)).toEqual(['src/app.ts', 'src/later.ts', 'src/orders.ts', 'src/users.ts']);
    expect(await resolver.listFiles(entry(), commits.first!)).toEqual(['src/app.ts']);
  });
});

describe('triage', () => {
  it('resolves a gated envelope to its repository, commit, test command, contract and entry settings', async () => {
    const file = await catalogFile(catalogText());
    const resolver = createVersionResolver(git);
    const { triage } = createTriageActivities({ catalogFile: file, resolver });
    const target = await triage({ incidentId: 'i', gated: gatedWith({ version: '2.0.0' }) });
    expect(target).toEqual({
      schemaVersion: 1,
      service: 'users-api',
      repository: { owner: 'acme', name: 'users-api', cloneUrl: repo.dir },
      baseBranch: 'main',
      sha: commits.second,
      test: { runner: 'vitest', command: ['npx', 'vitest', 'run'] },
      dataContract: join(dir, 'contracts/users-api.yaml'),
      httpApp: { module: 'src/app.ts', export: 'createApp', args: { module: 'test/fakes.ts', export: 'makeDeps' } },
      deployRoot: '/var/task/',
      resolvedFrom: { version: '2.0.0', how: 'tag', ref: 'refs/tags/users-api@2.0.0' },
    });
    // The commit a vcs.* attribute named wins over the version.
    expect((await triage({ incidentId: 'i', gated: gatedWith({ version: '2.0.0', revision: commits.third!.slice(0, 12) }) })).resolvedFrom).toMatchObject({ how: 'vcs-attribute' });
    // The catalog is read per call: a tag pattern added now applies to the next incident.
    await expect(triage({ incidentId: 'i', gated: gatedWith({ version: '3.0.0' }) })).rejects.toThrow(/tagPattern/);
    await catalogFile(catalogText('    version: { tagPattern: "release-{version}" }\n    functionHandler: { module: src/lambda.ts, export: handler }\n'));
    const next = await triage({ incidentId: 'i', gated: gatedWith({ version: '3.0.0' }) });
    expect(next).toMatchObject({ sha: commits.third, functionHandler: { module: 'src/lambda.ts', export: 'handler', event: 'auto' }, resolvedFrom: { ref: 'refs/tags/release-3.0.0' } });
  });

  it('names the unknown service, a commit that is not a full SHA and the bad catalog field', async () => {
    const loaded = await loadServiceCatalog(await catalogFile(catalogText()));
    const test = { runner: 'vitest', command: ['npx', 'vitest', 'run'] } as const;
    expect(() => resolveTarget(loaded, 'billing', 'a'.repeat(40), { ...test, command: [...test.command] })).toThrow(/service billing is not in the catalog .* \(known: users-api\)/);
    expect(() => resolveTarget(loaded, 'users-api', '1.4.2', { ...test, command: [...test.command] })).toThrow(/"1.4.2", not a full commit SHA/);
    await expect(loadServiceCatalog(await catalogFile(catalogText().replace('runner: vitest', 'runner: jasmine'), 'bad.yaml'))).rejects.toThrow(
      /services\.users-api\.test\.runner/,
    );
    await expect(loadServiceCatalog(await catalogFile('version: 1\nservices: [', 'broken.yaml'))).rejects.toThrow(/not valid YAML/);
    await expect(loadServiceCatalog(join(dir, 'absent.yaml'))).rejects.toThrow(/cannot read the service catalog/);
  });
});

describe('triage reads how the tests run when the catalog leaves it out', () => {
  function catalogWithout(test: string): string {
    return `version: 1
services:
  users-api:
    repository: { owner: acme, name: users-api, cloneUrl: "${repo.dir}" }
${test}    dataContract: contracts/users-api.yaml
`;
  }

  async function triageAt(sha: string, test = '') {
    const { triage } = createTriageActivities({ catalogFile: await catalogFile(catalogWithout(test), 'detect.yaml'), resolver: createVersionResolver(git) });
    return triage({ incidentId: 'i', gated: gatedWith({ version: sha }) });
  }

  it('reads the runner from the test script and runs the suite with npm test when the script needs no shell', async () => {
    const sha = await repo.commit({ 'package.json': JSON.stringify({ scripts: { test: 'mocha --recursive test' }, devDependencies: { mocha: '10.8.2' } }) }, 'mocha');
    expect((await triageAt(sha)).test).toEqual({
      runner: 'mocha',
      command: ['npm', 'test'],
      detectedFrom: 'package.json scripts.test runs "mocha --recursive test"; suite: npm test',
    });
  });

  it("runs the runner's own command when the test script uses shell syntax, and reads a config file at that commit", async () => {
    const shell = await repo.commit({ 'package.json': JSON.stringify({ scripts: { test: 'tsc --noEmit && vitest run' } }) }, 'vitest behind tsc');
    expect((await triageAt(shell)).test).toMatchObject({ runner: 'vitest', command: ['npx', 'vitest', 'run'] });
    const config = await repo.commit({ 'package.json': JSON.stringify({ scripts: { test: 'make test' } }), 'jest.config.js': 'module.exports = {};\n' }, 'jest config');
    expect((await triageAt(config)).test).toEqual({ runner: 'jest', command: ['npx', 'jest'], detectedFrom: 'jest.config.js in the repository root; suite: npx jest' });
    // The catalog's parts win; a command alone names its runner.
    expect((await triageAt(config, '    test: { command: [npx, mocha, --exit] }\n')).test).toMatchObject({ runner: 'mocha', command: ['npx', 'mocha', '--exit'] });
    expect((await triageAt(config, '    test: { runner: node:test }\n')).test).toMatchObject({ runner: 'node:test', command: ['node', '--test'] });
  });

  it('ends unsupported-repository, saying what to set, when no runner is found', async () => {
    repo.git('rm', '--quiet', 'jest.config.js');
    const none = await repo.commit({ 'package.json': JSON.stringify({ scripts: { start: 'node server.js' } }) }, 'no tests');
    const error = await triageAt(none).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_REPOSITORY' });
    expect((error as Error).message).toMatch(/no test runner found in acme\/users-api@[0-9a-f]{12}: .*set test\.runner .* in the catalog \(services\.users-api\.test\)/);
    // ava is driven like the others.
    const ava = await repo.commit({ 'package.json': JSON.stringify({ scripts: { test: 'ava --verbose' } }) }, 'ava');
    expect((await triageAt(ava)).test).toEqual({ runner: 'ava', command: ['npm', 'test'], detectedFrom: 'package.json scripts.test runs "ava --verbose"; suite: npm test' });
  });
});
