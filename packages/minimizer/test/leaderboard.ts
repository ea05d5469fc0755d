import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GatedEnvelope, parseContract, RepoTarget, type FailureEnvelope } from '@tracemend/contracts';
import { FIXTURE_CATALOG, fixtureAlertPaths, loadFixtureRepo } from '@tracemend/fixture-kit';
import { buildEnvelope, type OtlpLogs, type OtlpTraces } from '@tracemend/ingest';
import { connectDocker, createWorkspace, DockerSandboxDriver, harnessStarter, sandboxImageTag, type Workspace } from '@tracemend/sandbox';
import { createLogger, type Logger } from '@tracemend/telemetry';

/** The leaderboard fixture as the sandbox stages meet it in the worker: a repository, its target and a workspace. */
export interface LeaderboardSetup {
  readonly target: RepoTarget;
  readonly envelope: FailureEnvelope;
  readonly workspace: Workspace;
  readonly driver: DockerSandboxDriver;
  readonly image: string;
  readonly logger: Logger;
  /** Starts a resident harness labelled with the incident, as the worker does. */
  readonly startHarness: ReturnType<typeof harnessStarter>;
}

/**
 * The leaderboard fixture committed as a git repository under `root`, checked out and installed by a
 * real workspace (cloned from the local repository as from any remote), with the envelope ingest
 * builds from the fixture's recorded trace and log exports.
 */
export async function leaderboardSetup(root: string): Promise<LeaderboardSetup> {
  const logger = createLogger({ name: 'minimizer-test', level: 'silent' });
  const repo = await loadFixtureRepo('leaderboard', join(root, 'origin'));
  const catalog = FIXTURE_CATALOG.leaderboard;
  const target = parseContract(
    RepoTarget,
    {
      schemaVersion: 1,
      service: 'leaderboard',
      repository: { owner: 'acme', name: 'leaderboard', cloneUrl: repo.dir },
      baseBranch: 'main',
      sha: repo.sha,
      test: { runner: catalog.runner, command: catalog.command },
      dataContract: 'contracts/leaderboard.yaml',
    },
    'RepoTarget',
  );
  const driver = new DockerSandboxDriver({ logger });
  const image = sandboxImageTag();
  return {
    target,
    envelope: await recordedEnvelope(),
    workspace: createWorkspace({ root: join(root, 'workspace'), logger }),
    driver,
    image,
    logger,
    startHarness: harnessStarter({ driver, image, logger }),
  };
}

/** The FailureEnvelope ingest builds from the leaderboard's committed alert. */
async function recordedEnvelope(): Promise<FailureEnvelope> {
  const paths = fixtureAlertPaths('leaderboard');
  const receivedAt = '2026-11-20T12:00:00.000Z';
  return buildEnvelope({
    traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: JSON.parse(await readFile(paths.traces, 'utf8')) as OtlpTraces },
    logs: [{ source: { alertId: 'b'.repeat(64), format: 'otlp-logs-json', receivedAt }, body: JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs }],
  });
}

/**
 * `envelope` as the privacy gate releases it. The leaderboard's entry holds no personal data (its
 * failing snapshot is null), so the gate passes the entry, flags and env through unchanged; the
 * stages under test read nothing else.
 */
export function released(envelope: FailureEnvelope): GatedEnvelope {
  return parseContract(
    GatedEnvelope,
    {
      schemaVersion: 1,
      envelope,
      privacy: {
        contract: { id: 'leaderboard', version: 1 },
        decisions: [],
        droppedUnknown: [],
        detectorHits: [],
        tokenKeyId: 'k-test',
        audit: { auditId: 'privacy', sequence: 1, recordHash: 'ab12cd34ef56ab12cd34ef56ab12cd34' },
      },
    },
    'GatedEnvelope',
  );
}

/** What one incident's sandbox containers were, seen from the Docker engine. */
export interface ContainerCount {
  /** Containers the engine created with the incident's label between `since` and now. */
  created: string[];
  /** Distinct containers with the label seen running while the work went on. */
  seenRunning: string[];
  /** Containers with the label still present now. */
  remaining: string[];
}

/**
 * Runs `work` while watching the Docker engine for containers labelled `tracemend.incident=<id>`:
 * polls the running ones during the work, then reads the engine's `create` events of the interval.
 */
export async function countContainers<T>(incidentId: string, work: () => Promise<T>): Promise<{ result: T; containers: ContainerCount }> {
  const docker = connectDocker();
  const label = `tracemend.incident=${incidentId}`;
  const since = Math.floor(Date.now() / 1000) - 1;
  const seen = new Set<string>();
  let watching = true;
  const poll = (async () => {
    while (watching) {
      for (const info of await docker.listContainers({ all: true, filters: { label: [label] } })) seen.add(info.Id);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  let result: T;
  try {
    result = await work();
  } finally {
    watching = false;
    await poll;
  }
  const until = Math.floor(Date.now() / 1000) + 1;
  const stream = await docker.getEvents({ since, until, filters: { type: ['container'], event: ['create'], label: [label] } });
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer | string>) text += chunk.toString();
  const created = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { id?: string; Actor?: { ID?: string } }).Actor?.ID ?? '');
  const remaining = (await docker.listContainers({ all: true, filters: { label: [label] } })).map((info) => info.Id);
  return { result, containers: { created, seenRunning: [...seen], remaining } };
}
