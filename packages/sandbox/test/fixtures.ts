import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FailureEnvelope } from '@tracemend/contracts';
import { fixtureAlertPaths, loadFixtureRepo, type FixtureServiceName } from '@tracemend/fixture-kit';
import { buildEnvelope, type OtlpLogs, type OtlpTraces } from '@tracemend/ingest';
import { createLogger } from '@tracemend/telemetry';
import { installDependencies } from '../src/dependencies';
import { DockerSandboxDriver } from '../src/docker-driver';

const execFileAsync = promisify(execFile);

/** Shared by every test file and run: installs are keyed by lockfile hash, so a warm cache is a no-op. */
export const TEST_DEPS_CACHE = join(tmpdir(), 'tracemend-sandbox-test-deps');

export const testLogger = createLogger({ name: 'sandbox-test', level: 'silent' });
export const testDriver = new DockerSandboxDriver({ logger: testLogger });

export interface PreparedRepo {
  readonly repoDir: string;
  readonly depsDir: string;
  readonly sha: string;
}

/** Hands a checkout to the sandbox user, which needs to read it and may write to it. */
export async function handToSandboxUser(dir: string): Promise<void> {
  await execFileAsync('chown', ['-R', '10001:10001', dir]);
}

/** A fixture service as a git checkout under `root`, with its dependencies installed in the shared cache. */
export async function prepareFixture(name: FixtureServiceName, root: string): Promise<PreparedRepo> {
  const repo = await loadFixtureRepo(name, join(root, name));
  const { depsDir } = await installDependencies({ repoDir: repo.dir, cacheRoot: TEST_DEPS_CACHE });
  await handToSandboxUser(repo.dir);
  return { repoDir: repo.dir, depsDir, sha: repo.sha };
}

/** The FailureEnvelope ingest builds from a fixture's committed alert (ungated). */
export async function fixtureEnvelope(name: FixtureServiceName): Promise<FailureEnvelope> {
  const paths = fixtureAlertPaths(name);
  const traces = JSON.parse(await readFile(paths.traces, 'utf8')) as OtlpTraces;
  const logs = JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs;
  const receivedAt = '2026-11-20T12:00:00.000Z';
  return buildEnvelope({
    traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: traces },
    logs: [{ source: { alertId: 'b'.repeat(64), format: 'otlp-logs-json', receivedAt }, body: logs }],
  });
}
