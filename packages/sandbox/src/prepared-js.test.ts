import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracemendError } from '@tracemend/contracts';
import { FIXTURE_CATALOG, type FixtureServiceName } from '@tracemend/fixture-kit';
import { fixtureEnvelope, prepareFixture, testDriver, testLogger, type PreparedRepo } from '../test/fixtures';
import { lineCoverageOf } from './coverage';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { PREPARED_JS_ROOT, prepareJsTree } from './prepared-js';
import { ResidentHarness, harnessLaunch, type ReplayResult } from './replay';
import { mismatchReason, observedSignature, replayJobFromEnvelope } from './reproduce';
import { failureSignature } from './signature';

const runId = `${process.pid}-${Date.now()}`;
const labels = { 'tracemend.incident': `test-prepared-${runId}` };
let root: string;
const fixtures = new Map<FixtureServiceName, Promise<PreparedRepo>>();

/** Each fixture checked out once per file. */
function fixture(service: FixtureServiceName): Promise<PreparedRepo> {
  let prepared = fixtures.get(service);
  if (prepared === undefined) {
    prepared = prepareFixture(service, root);
    fixtures.set(service, prepared);
  }
  return prepared;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-prepared-js-'));
});

afterAll(async () => {
  await testDriver.reapOrphans({ olderThanMs: 0, labels });
  await rm(root, { recursive: true, force: true });
});

async function writeRepo(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

describe('prepareJsTree', () => {
  it('compiles each TypeScript file beside a link to it, rewriting only the specifiers that name TypeScript', async () => {
    const repo = join(root, 'layout');
    await writeRepo(repo, {
      'package.json': JSON.stringify({ type: 'module' }),
      'src/main.ts': [
        "import { a } from './a.ts';",
        "import { b } from './b.js';",
        "import { c } from './c';",
        "import data from './data.json' with { type: 'json' };",
        "import { helper } from './helper.js';",
        "import express from 'express';",
        'export const all = (n: number): unknown[] => [a, b, c, data, helper, express, n];',
      ].join('\n'),
      'src/a.ts': 'export const a: string = "a";',
      'src/b.ts': 'export const b: string = "b";',
      'src/c/index.ts': 'export const c: string = "c";',
      'src/data.json': '{"d":1}',
      'src/helper.js': 'export const helper = 1;',
      'src/types.d.ts': 'export type T = string;',
      'legacy/package.json': JSON.stringify({ type: 'commonjs' }),
      'legacy/old.ts': "import { a } from '../src/a.ts'; export const old: string = a;",
      'assets/logo.txt': 'logo',
    });
    const tree = await prepareJsTree({ repoDir: repo });
    expect(tree).toMatchObject({ files: 5, built: true, mount: { source: tree.dir, target: PREPARED_JS_ROOT } });
    expect(tree.dir).toBe(join(root, `layout.prepared-js-${tree.digest.slice(0, 16)}`));

    const main = await readFile(join(tree.dir, 'src/main.ts.mjs'), 'utf8');
    expect(main).toContain('from "./a.ts.mjs"');
    expect(main).toContain('from "./b.ts.mjs"');
    expect(main).toContain('from "./c/index.ts.mjs"');
    expect(main).toContain('from "./data.json"');
    expect(main).toContain('from "./helper.js"');
    expect(main).toContain('from "express"');
    expect(main).not.toContain('number');
    expect(main).toMatch(/\/\/# sourceMappingURL=data:application\/json;base64,/);
    // The package is CommonJS below legacy/: compiled to .cjs, importing the ESM neighbour by its new name.
    const old = await readFile(join(tree.dir, 'legacy/old.ts.cjs'), 'utf8');
    expect(old).toContain('require("../src/a.ts.mjs")');
    // Everything else is a link into the checkout as the sandbox sees it.
    expect(await readlink(join(tree.dir, 'src/main.ts'))).toBe('/work/src/main.ts');
    expect(await readlink(join(tree.dir, 'src/data.json'))).toBe('/work/src/data.json');
    expect(await readlink(join(tree.dir, 'src/types.d.ts'))).toBe('/work/src/types.d.ts');
    expect(await readlink(join(tree.dir, 'assets'))).toBe('/work/assets');
    expect(await readlink(join(tree.dir, 'node_modules'))).toBe('/work/node_modules');

    // Same sources: the tree is reused; a changed source gets a tree of its own.
    expect(await prepareJsTree({ repoDir: repo })).toEqual({ ...tree, built: false });
    await writeFile(join(repo, 'src/a.ts'), 'export const a: string = "changed";');
    const changed = await prepareJsTree({ repoDir: repo });
    expect(changed.dir).not.toBe(tree.dir);
    expect(await readFile(join(changed.dir, 'src/a.ts.mjs'), 'utf8')).toContain('"changed"');
  });

  it('mirrors a link as a link and never reads through it, so a link out of the checkout leaks nothing', async () => {
    const repo = join(root, 'links');
    const outside = join(root, 'outside-secret.ts');
    await writeFile(outside, 'export const secret = "host-only-value";');
    await writeRepo(repo, { 'package.json': JSON.stringify({ type: 'module' }), 'src/index.ts': "export * from './secret.ts';" });
    await symlink(outside, join(repo, 'src/secret.ts'));
    const tree = await prepareJsTree({ repoDir: repo });
    expect(tree.files).toBe(1);
    expect(await readlink(join(tree.dir, 'src/secret.ts'))).toBe('/work/src/secret.ts');
    expect(await lstat(join(tree.dir, 'src/secret.ts.mjs')).catch(() => undefined)).toBeUndefined();
    expect(await readFile(join(tree.dir, 'src/index.ts.mjs'), 'utf8')).not.toContain('host-only-value');
  });

  it('names the file and line of a source that does not compile', async () => {
    const repo = join(root, 'broken');
    await writeRepo(repo, { 'package.json': '{}', 'src/ok.ts': 'export const ok = 1;', 'src/bad.ts': 'export const x = 1;\nexport const = ;\n' });
    const error = await prepareJsTree({ repoDir: repo }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TracemendError);
    expect((error as TracemendError).code).toBe('INVALID_INPUT');
    expect((error as TracemendError).message).toMatch(/^cannot compile src\/bad\.ts:2 to JavaScript/);
  });
});

describe('the resident harness on a prepared JavaScript tree', () => {
  beforeAll(async () => {
    await buildBaseImage();
  });

  async function judgeBoth(service: FixtureServiceName, coverage: boolean): Promise<{ tsx: ReplayResult; prepared: ReplayResult; expected: ReturnType<typeof failureSignature> }> {
    const checkout = await fixture(service);
    const envelope = await fixtureEnvelope(service);
    const httpApp = FIXTURE_CATALOG[service].httpApp;
    const job = replayJobFromEnvelope(envelope, { id: `${service}-candidate`, coverage, ...(httpApp ? { handlers: { httpApp } } : {}) });
    const preparedJs = await prepareJsTree({ repoDir: checkout.repoDir });
    const results: ReplayResult[] = [];
    for (const tree of [undefined, preparedJs]) {
      const harness = await ResidentHarness.start({ driver: testDriver, image: sandboxImageTag(), repoDir: checkout.repoDir, depsDir: checkout.depsDir, ...(tree ? { preparedJs: tree } : {}), labels, logger: testLogger });
      try {
        expect(harness.loader).toBe(tree ? 'prepared' : 'repository');
        results.push(await harness.judge(job));
      } finally {
        await harness.close();
      }
    }
    const [tsx, prepared] = results as [ReplayResult, ReplayResult];
    return { tsx, prepared, expected: failureSignature(envelope.symptom) };
  }

  it('replays the leaderboard alert with the same signature as tsx, and coverage maps to the .ts lines', async () => {
    const { tsx, prepared, expected } = await judgeBoth('leaderboard', true);
    expect(mismatchReason(prepared, expected)).toBeUndefined();
    expect(observedSignature(prepared)).toEqual(observedSignature(tsx));
    if (prepared.outcome === 'harness-error') throw new Error(prepared.message);
    expect(prepared.error?.frames[0]).toMatchObject({ function: 'topUsers', file: 'src/leaderboard.ts', line: 34, inApp: true });

    const script = prepared.coverage?.find((entry) => entry.file === 'src/leaderboard.ts');
    expect(script?.url).toBe(`file://${PREPARED_JS_ROOT}/src/leaderboard.ts.mjs`);
    expect(prepared.coverage?.every((entry) => !entry.file.includes('node_modules') && !entry.file.endsWith('.mjs'))).toBe(true);
    const converted = script === undefined ? undefined : await lineCoverageOf(script);
    expect(converted?.file).toBe('src/leaderboard.ts');
    const lines = converted?.lines;
    expect(lines?.get(34)).toBeGreaterThanOrEqual(1);
    expect(lines?.get(32)).toBeGreaterThanOrEqual(1);
    expect(lines?.get(30)).toBe(0);
    // The same lines ran, by the same counts, as under tsx.
    const tsxScript = tsx.outcome === 'harness-error' ? undefined : tsx.coverage?.find((entry) => entry.file === 'src/leaderboard.ts');
    const tsxLines = tsxScript === undefined ? undefined : (await lineCoverageOf(tsxScript))?.lines;
    const executed = (map: Map<number, number> | undefined): number[] => [...(map ?? [])].filter(([, count]) => count > 0).map(([line]) => line).sort((a, b) => a - b);
    expect(executed(lines)).toEqual(executed(tsxLines));
  });

  it('replays the users-api alert (express from the mounted dependencies, over HTTP) with the same signature', async () => {
    const { tsx, prepared, expected } = await judgeBoth('users-api', false);
    expect(mismatchReason(prepared, expected)).toBeUndefined();
    expect(observedSignature(prepared)).toEqual(observedSignature(tsx));
    expect(prepared.outcome === 'http' && prepared.httpStatus).toBe(tsx.outcome === 'http' && tsx.httpStatus);
  });

  it('runs the harness on plain node, with the tree mounted read-only', async () => {
    const checkout = await fixture('leaderboard');
    const preparedJs = await prepareJsTree({ repoDir: checkout.repoDir });
    const launch = await harnessLaunch({ depsDir: checkout.depsDir, preparedJs });
    expect(launch.command).toEqual(['node', '--enable-source-maps', '/harness/replay.mjs', `--prepared=${PREPARED_JS_ROOT}`]);
    expect(launch.readOnlyMounts).toContainEqual(preparedJs.mount);
  });
});
