import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixtureAlertPaths, loadFixtureRepo, type FixtureServiceName } from '@tracemend/fixture-kit';
import { buildEnvelope, type OtlpTraces } from '@tracemend/ingest';
import { installDependencies } from '@tracemend/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitRegressionTest, type EmitTestInput } from './test-emitter';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-emitter-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SETUP: Record<FixtureServiceName, { runner: EmitTestInput['runner']; httpApp?: EmitTestInput['httpApp']; fix: [file: string, from: string, to: string] }> = {
  'users-api': {
    runner: 'vitest',
    httpApp: { module: 'src/app.ts', export: 'createApp' },
    fix: ['src/users.ts', 'preferences.marketing', '(preferences.marketing ??= [])'],
  },
  leaderboard: { runner: 'node:test', fix: ['src/leaderboard.ts', 'users\n', '(users ?? [])\n'] },
  'checkout-worker': { runner: 'vitest', fix: ['src/handler.ts', 'record.items.length === 0', '(record.items?.length ?? 0) === 0'] },
};

async function runTest(repo: string, command: string[]): Promise<{ ok: boolean; output: string }> {
  const [program, ...args] = command[0] === 'npx' ? ['node', join('node_modules', command[1] === 'vitest' ? 'vitest/vitest.mjs' : command[1] ?? ''), ...command.slice(2)] : command;
  try {
    const { stdout, stderr } = await run(program ?? 'node', args, { cwd: repo, env: { ...process.env, CI: '1', NODE_ENV: 'test' } });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}

describe('emitRegressionTest', () => {
  it.each(Object.keys(SETUP) as FixtureServiceName[])(
    '%s: the emitted test fails on the recorded commit and passes once the bug is fixed',
    async (service) => {
      const setup = SETUP[service];
      const traces = JSON.parse(await readFile(fixtureAlertPaths(service).traces, 'utf8')) as OtlpTraces;
      const envelope = buildEnvelope({ traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt: new Date().toISOString() }, body: traces } });
      const repo = await loadFixtureRepo(service, join(dir, service));
      const deps = await installDependencies({ repoDir: repo.dir, cacheRoot: join(tmpdir(), 'tracemend-test-deps') });
      await symlink(deps.depsDir, join(repo.dir, 'node_modules'));

      const test = emitRegressionTest({
        entry: envelope.entry,
        environment: envelope.environment,
        downstream: envelope.downstream,
        signature: { errorType: envelope.symptom.errorType, normalizedMessage: envelope.symptom.message, frames: [{ function: 'f', file: 'src/x.ts' }], hash: 'abcdef12' },
        fingerprint: envelope.identity.fingerprint,
        runner: setup.runner,
        ...(setup.httpApp ? { httpApp: setup.httpApp } : {}),
      });
      expect(test.path).toBe(`test/tracemend-${envelope.identity.fingerprint.slice(0, 8)}.test.ts`);
      await writeFile(join(repo.dir, test.path), test.content);

      const before = await runTest(repo.dir, test.command);
      expect(before.ok, before.output).toBe(false);
      expect(before.output).toContain(envelope.symptom.errorType === 'TypeError' && service !== 'users-api' ? 'TypeError' : '500');

      const [file, from, to] = setup.fix;
      const source = await readFile(join(repo.dir, file), 'utf8');
      expect(source).toContain(from);
      await writeFile(join(repo.dir, file), source.replace(from, to));
      const after = await runTest(repo.dir, test.command);
      expect(after.ok, after.output).toBe(true);

      const typecheck = await runTest(repo.dir, ['node', 'node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']);
      expect(typecheck.ok, typecheck.output).toBe(true);
    },
    180_000,
  );

  it('refuses runners it cannot write yet, naming them', () => {
    expect(() =>
      emitRegressionTest({
        entry: { kind: 'function', module: 'src/a.ts', export: 'a', args: [] },
        environment: { featureFlags: {}, env: {}, runtime: { name: 'node', version: '20' } },
        downstream: [],
        signature: { errorType: 'TypeError', normalizedMessage: 'x', frames: [], hash: 'abcdef12' },
        fingerprint: 'abcdef1234',
        runner: 'jest',
      }),
    ).toThrow(/emitting a jest test is not built yet/);
  });
});
