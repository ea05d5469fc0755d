// The whole pipeline in one process, over real parts: for the end-to-end tests and the benchmark.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { fixtureCatalogYaml, fixtureServiceNames, loadFixtureRepo, type FixtureServiceName } from '@tracemend/fixture-kit';
import { createGateway, type Gateway } from '@tracemend/gateway';
import { startGitHubEmulator, type GitHubEmulator } from '@tracemend/github-emulator';
import { createEvidenceStore } from '@tracemend/ingest';
import { createLogger, createTemporalLogger } from '@tracemend/telemetry';
import { buildStages, bundleWorkflows, createWorkers, loadWorkerConfig, runWorkers } from '@tracemend/worker';

export interface Stack {
  dir: string;
  stateDir: string;
  client: Client;
  emulator: GitHubEmulator;
  gatewayUrl: string;
  token: string;
  githubToken: string;
  repos: FixtureGitHub['repos'];
  /** Every log line the worker, the stages and the gateway wrote. */
  logs: string[];
  close(): Promise<void>;
}

/** The GitHub emulator serving the fixture repositories as acme/<service>, and a catalog pointing at them. */
export interface FixtureGitHub {
  emulator: GitHubEmulator;
  githubToken: string;
  /** Each fixture's working copy (under `<dir>/repos`) and its recorded commit. */
  repos: Record<FixtureServiceName, { dir: string; sha: string }>;
  /** `<dir>/tracemend.config.yaml`: the fixture catalog with the emulator's repositories as clone URLs. */
  catalogFile: string;
}

/**
 * Starts the GitHub emulator under `dir` with the fixture repositories and writes their catalog: the
 * GitHub side of the stack, shared by this stack and by tests that bring their own worker.
 */
export async function startFixtureGitHub(dir: string, githubToken = 'e2e-github-token'): Promise<FixtureGitHub> {
  const emulator = await startGitHubEmulator({ dataDir: join(dir, 'github'), token: githubToken });
  const repos = {} as FixtureGitHub['repos'];
  const cloneUrls = {} as Record<FixtureServiceName, string>;
  for (const name of fixtureServiceNames) {
    const repo = await loadFixtureRepo(name, join(dir, 'repos', name));
    const created = await emulator.createRepository('acme', name, { fromDir: repo.dir });
    repos[name] = { dir: repo.dir, sha: repo.sha };
    cloneUrls[name] = created.bareDir;
  }
  const catalogFile = join(dir, 'tracemend.config.yaml');
  await writeFile(catalogFile, fixtureCatalogYaml(cloneUrls));
  return { emulator, githubToken, repos, catalogFile };
}

/** The GitHub side a stack runs against: an emulator holding the repositories and the catalog naming them. */
export interface GitHubSide {
  emulator: GitHubEmulator;
  githubToken: string;
  catalogFile: string;
}

/** A running pipeline over any set of repositories: {@link Stack} without the fixture repositories. */
export type PipelineStack = Omit<Stack, 'repos'>;

/** The whole pipeline over the fixture repositories (see {@link startPipeline}). */
export async function startStack(temporalAddress: string): Promise<Stack> {
  let repos: FixtureGitHub['repos'] | undefined;
  const stack = await startPipeline(temporalAddress, async (dir) => {
    const side = await startFixtureGitHub(dir);
    repos = side.repos;
    return side;
  });
  if (!repos) throw new Error('startStack: the fixture repositories were not created');
  return { ...stack, repos };
}

/**
 * Starts the worker (every stage), the gateway on loopback and the GitHub side `github(dir)` builds
 * under the stack's temporary directory, against the Temporal server at `temporalAddress`.
 */
export async function startPipeline(temporalAddress: string, github: (dir: string) => Promise<GitHubSide>): Promise<PipelineStack> {
  const dir = await mkdtemp(join(tmpdir(), 'tracemend-e2e-'));
  const stateDir = join(dir, 'state');
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ name: 'e2e', level: 'info', destination: sink });
  Runtime.install({ logger: createTemporalLogger(logger) });

  const { emulator, githubToken, catalogFile } = await github(dir);

  const config = { ...loadWorkerConfig({}), stateDir, catalogFile, github: { apiUrl: emulator.url, token: githubToken } };
  const workerConnection = await NativeConnection.connect({ address: temporalAddress });
  const workers: Worker[] = await createWorkers({
    connection: workerConnection,
    namespace: 'default',
    stages: await buildStages(config, logger),
    logger,
    workflowBundle: await bundleWorkflows(logger),
    sandboxConcurrency: 2,
    llmActivitiesPerSecond: 10,
  });
  const running = runWorkers(workers);

  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection });
  const token = 'e2e-gateway-token-0123456789';
  const gateway: Gateway = createGateway({ store: createEvidenceStore(join(stateDir, 'evidence')), client, namespace: 'default', token, logger });
  await gateway.listen(0);

  return {
    dir,
    stateDir,
    client,
    emulator,
    gatewayUrl: gateway.url,
    token,
    githubToken,
    logs,
    async close() {
      await gateway.close();
      for (const worker of workers) worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
      await emulator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Posts one alert body to the gateway. */
export async function postAlert(stack: Pick<Stack, 'gatewayUrl' | 'token'>, body: Uint8Array): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${stack.gatewayUrl}/v1/alerts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}
