import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Entry } from '@tracemend/contracts';
import { fixtureAlertPaths, fixtureServiceDir, loadFixtureRepo, type FixtureServiceName } from '@tracemend/fixture-kit';
import { buildEnvelope, type OtlpTraces } from '@tracemend/ingest';
import { entryHandlersOf, installDependencies, resolveEntry } from '@tracemend/sandbox';
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

      // The minimize stage hands the emitter the entry as replayed: completed by the catalog's handlers.
      const entry = resolveEntry(envelope.entry, entryHandlersOf(setup.httpApp ? { httpApp: setup.httpApp } : {}), { service, recordedAt: envelope.timing.recordedAt });
      const test = emitRegressionTest({
        entry,
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

  // A repository of handlers no fixture has: a callback-style Lambda handler, a kafkajs consumer and a
  // request listener whose factory takes the fakes its own tests build.
  const HANDLERS: Record<string, string> = {
    'src/handler.ts': `export function handler(event: { Records: Array<{ body: string }> }, context: { functionName: string }, callback: (error: Error | null, value?: unknown) => void): void {
  const order = JSON.parse(event.Records[0]?.body ?? '{}') as { lines?: unknown[] };
  setTimeout(() => (order.lines === undefined ? callback(new TypeError('order without lines in ' + context.functionName)) : callback(null, order.lines.length)), 1);
}
`,
    'src/consumer.ts': `export async function eachMessage({ message }: { topic: string; message: { key: Buffer | null; value: Buffer | null } }): Promise<number> {
  const order = JSON.parse(message.value?.toString() ?? '{}') as { lines: unknown[] };
  return order.lines.length;
}
`,
    'src/app.ts': `import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Deps {
  store: { get(id: string): { total: number } | undefined };
}

export function createListener(deps: Deps) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const order = deps.store.get(req.url?.split('/').at(-1) ?? '');
    try {
      res.end(String(order!.total));
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  };
}
`,
    'test/fakes.ts': `import type { Deps } from '../src/app.ts';

export async function buildDeps(): Promise<Deps[]> {
  return [{ store: { get: (id) => (id === '1' ? { total: 3 } : undefined) } }];
}
`,
  };
  const HANDLER_CASES: Array<{ name: string; entry: Entry; httpApp?: EmitTestInput['httpApp']; failure: string; fix: [file: string, from: string, to: string] }> = [
    {
      name: 'a callback-style Lambda handler, called with its SQS event and a context',
      entry: { kind: 'function', module: 'src/handler.ts', export: 'handler', args: [{ Records: [{ body: '{"id":"o-1"}' }] }, { functionName: 'orders-fn' }], trigger: 'pubsub', eventShape: 'sqs' },
      failure: 'order without lines in orders-fn',
      fix: ['src/handler.ts', "callback(new TypeError('order without lines in ' + context.functionName))", 'callback(null, 0)'],
    },
    {
      name: 'a kafkajs consumer, given the eachMessage payload',
      entry: { kind: 'message', module: 'src/consumer.ts', export: 'eachMessage', topic: 'orders', payload: { id: 'o-1' }, envelope: 'kafka', key: 'o-1' },
      failure: "Cannot read properties of undefined (reading 'length')",
      fix: ['src/consumer.ts', 'order.lines.length', '(order.lines ?? []).length'],
    },
    {
      name: 'an HTTP factory built with the arguments module of the catalog',
      entry: { kind: 'http', method: 'GET', route: '/orders/:id', path: '/orders/2', query: {}, headers: { accept: 'text/plain' } },
      httpApp: { module: 'src/app.ts', export: 'createListener', args: { module: 'test/fakes.ts', export: 'buildDeps' } },
      failure: 'answered 500',
      fix: ['src/app.ts', 'order!.total', 'order?.total ?? 0'],
    },
  ];

  it.each(HANDLER_CASES)(
    '$name: the emitted node:test test fails on the bug, passes after the fix and typechecks',
    async ({ name, entry, httpApp, failure, fix }) => {
      const leaderboard = fixtureServiceDir('leaderboard');
      const repo = join(dir, `handlers-${HANDLER_CASES.findIndex((item) => item.name === name)}`);
      await mkdir(join(repo, 'src'), { recursive: true });
      await mkdir(join(repo, 'test'), { recursive: true });
      for (const file of ['package.json', 'package-lock.json', 'tsconfig.json']) await copyFile(join(leaderboard, file), join(repo, file));
      for (const [path, content] of Object.entries(HANDLERS)) await writeFile(join(repo, path), content);
      const deps = await installDependencies({ repoDir: repo, cacheRoot: join(tmpdir(), 'tracemend-test-deps') });
      await symlink(deps.depsDir, join(repo, 'node_modules'));

      const test = emitRegressionTest({
        entry,
        environment: { featureFlags: {}, env: {}, runtime: { name: 'node', version: '20' } },
        downstream: [],
        signature: { errorType: 'TypeError', normalizedMessage: failure, frames: [{ function: 'f', file: 'src/x.ts' }], hash: 'abcdef12' },
        fingerprint: 'feedbeef00',
        runner: 'node:test',
        ...(httpApp ? { httpApp } : {}),
      });
      await writeFile(join(repo, test.path), test.content);
      const before = await runTest(repo, test.command);
      expect(before.ok, before.output).toBe(false);
      expect(before.output).toContain(failure);

      const [file, from, to] = fix;
      const source = await readFile(join(repo, file), 'utf8');
      expect(source).toContain(from);
      await writeFile(join(repo, file), source.replace(from, to));
      const after = await runTest(repo, test.command);
      expect(after.ok, after.output).toBe(true);
      const typecheck = await runTest(repo, ['node', 'node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']);
      expect(typecheck.ok, typecheck.output).toBe(true);
    },
    180_000,
  );
});
