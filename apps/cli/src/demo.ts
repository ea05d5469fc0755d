import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { IncidentOutcome } from '@tracemend/contracts';
import { LOCAL_TEMPORAL_ADDRESS } from '@tracemend/infra';
import { fixtureAlertPaths, fixtureCatalogYaml, fixtureServiceNames, loadFixtureRepo, type FixtureServiceName } from '@tracemend/fixture-kit';
import Docker from 'dockerode';
import { logOf, logSays, startBackground, stopBackground, waitFor } from './background';
import { doctorPassed, formatDoctor, runDoctor } from './doctor';
import { cliStateDir, type CliConfig } from './env';
import type { CliIo } from './io';
import { runCommand } from './local-stack';
import { startWorker } from './worker-process';

/** The Temporal UI page of one workflow. */
export function workflowUiUrl(config: CliConfig, workflowId: string): string {
  return `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

// Local-only credentials of the demo stack: the emulator and the gateway listen on loopback.
const DEMO_GITHUB_TOKEN = 'tracemend-demo-github-token';
// Word characters only, so it is also the public key of the Sentry DSN the demo's services could report with.
const DEMO_GATEWAY_TOKEN = 'tracemend_demo_gateway_token';
/** What the demo leaves running in the background, in the order `--stop` ends them. */
const DEMO_PROCESSES = ['gateway', 'worker', 'github-emulator'] as const;

async function postAlert(url: string, body: Buffer): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}/v1/alerts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEMO_GATEWAY_TOKEN}`, 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function step(io: CliIo, title: string): void {
  io.out(`\n== ${title}`);
}

function temporalDev(root: string, action: 'start' | 'stop') {
  return runCommand('bash', [join(root, 'infra', 'temporal-dev.sh'), action], { cwd: root, timeoutMs: 120_000 });
}

/**
 * Ends what the demo left running: the gateway, the worker and the GitHub emulator of this state
 * folder, and the local Temporal dev server (its history stays in the state folder for the next run).
 */
export async function stopDemo(config: CliConfig, root: string, io: CliIo): Promise<number> {
  const state = cliStateDir(config, root);
  for (const name of DEMO_PROCESSES) {
    io.out(`${name}: ${(await stopBackground(state, name)) ? 'stopped' : 'not running'}`);
  }
  if (config.temporalAddress !== LOCAL_TEMPORAL_ADDRESS) {
    io.out(`temporal: left alone, the demo did not start the server at ${config.temporalAddress}`);
    return 0;
  }
  const temporal = await temporalDev(root, 'stop');
  io.out((temporal.stdout + temporal.stderr).trim());
  if (!temporal.ok) io.err(`the Temporal dev server did not stop: ${temporal.error ?? 'see above'}`);
  return temporal.ok ? 0 : 1;
}

/**
 * The demo: brings up Temporal, the GitHub emulator with the three fixture repositories, the worker
 * and the gateway; sends the three recorded production alerts; prints each incident's outcome, its
 * stages, the pull request and the Temporal UI page.
 */
export async function runDemo(config: CliConfig, root: string, io: CliIo): Promise<number> {
  const state = cliStateDir(config, root);
  const demoDir = join(state, 'demo');
  await mkdir(demoDir, { recursive: true });

  step(io, 'Temporal dev server');
  if (config.temporalAddress === LOCAL_TEMPORAL_ADDRESS) {
    const temporal = await temporalDev(root, 'start');
    io.out((temporal.stdout + temporal.stderr).trim());
    if (!temporal.ok) {
      io.err(`the Temporal dev server did not start: ${temporal.error ?? 'see above'}`);
      return 1;
    }
  } else {
    // doctor below says whether it answers.
    io.out(`using the server at ${config.temporalAddress} (TRACEMEND_TEMPORAL_ADDRESS); the local dev server is not started`);
  }

  step(io, 'fixture repositories');
  const repoArgs: string[] = [];
  for (const name of fixtureServiceNames) {
    const dir = join(demoDir, 'repos', name);
    if (!existsSync(join(dir, '.git'))) {
      const repo = await loadFixtureRepo(name, dir);
      io.out(`${name}: created at ${repo.sha.slice(0, 12)}`);
    } else io.out(`${name}: present`);
    repoArgs.push('--repo', `acme/${name}=${dir}`);
  }

  step(io, 'GitHub emulator');
  const emulatorDir = join(root, 'fixtures', 'github-emulator');
  const emulator = await startBackground(state, {
    name: 'github-emulator',
    cwd: emulatorDir,
    entry: join(emulatorDir, 'src', 'main.ts'),
    args: ['--data-dir', join(demoDir, 'github'), '--port', String(config.demoPorts.github), '--token', DEMO_GITHUB_TOKEN, ...repoArgs],
  });
  // Once listening, the emulator prints one JSON line with its URLs and repositories.
  await waitFor(emulator, () => logSays(emulator, '{"url":'), 60_000);
  const announced = (await logOf(emulator)).split('\n').find((line) => line.startsWith('{"url":')) ?? '{}';
  const github = JSON.parse(announced) as { url: string; webUrl: string; repos: { fullName: string; bareDir: string }[] };
  io.out(`API ${github.url}, pages ${github.webUrl} (log ${emulator.log})`);

  step(io, 'service catalog');
  const catalog = join(demoDir, 'tracemend.config.yaml');
  const cloneUrls = Object.fromEntries(
    fixtureServiceNames.map((name) => {
      const repo = github.repos.find((r) => r.fullName === `acme/${name}`);
      if (repo === undefined) throw new Error(`the emulator did not create acme/${name}`);
      return [name, repo.bareDir];
    }),
  ) as Record<FixtureServiceName, string>;
  await writeFile(catalog, fixtureCatalogYaml(cloneUrls));
  io.out(catalog);

  step(io, 'worker');
  const worker = await startWorker(config, root, { TRACEMEND_CONFIG: catalog, TRACEMEND_GITHUB_API_URL: github.url, TRACEMEND_GITHUB_TOKEN: DEMO_GITHUB_TOKEN });
  io.out(`running (pid ${worker.pid}), log ${worker.log}`);

  step(io, 'gateway');
  const gatewayDir = join(root, 'apps', 'gateway');
  const gatewayUrl = `http://127.0.0.1:${config.demoPorts.gateway}`;
  const gateway = await startBackground(state, {
    name: 'gateway',
    cwd: gatewayDir,
    entry: join(gatewayDir, 'src', 'main.ts'),
    env: {
      TRACEMEND_GATEWAY_TOKEN: DEMO_GATEWAY_TOKEN,
      TRACEMEND_GATEWAY_PORT: String(config.demoPorts.gateway),
      TRACEMEND_TEMPORAL_ADDRESS: config.temporalAddress,
      TRACEMEND_TEMPORAL_NAMESPACE: config.temporalNamespace,
    },
  });
  await waitFor(gateway, async () => (await fetch(`${gatewayUrl}/healthz`)).ok, 60_000);
  io.out(`${gatewayUrl}/v1/alerts (pid ${gateway.pid}), log ${gateway.log}`);

  step(io, 'doctor');
  const results = await runDoctor({ config: { ...config, github: { apiUrl: github.url, token: DEMO_GITHUB_TOKEN } }, root, docker: new Docker() });
  io.out(formatDoctor(results));
  if (!doctorPassed(results)) {
    io.err('doctor found a required part missing; fix it and rerun');
    return 1;
  }

  step(io, 'incidents');
  const connection = await Connection.connect({ address: config.temporalAddress });
  try {
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const submitted: { service: FixtureServiceName; workflowId: string }[] = [];
    for (const service of fixtureServiceNames) {
      const paths = fixtureAlertPaths(service);
      const logs = await postAlert(gatewayUrl, await readFile(paths.logs));
      const traces = await postAlert(gatewayUrl, await readFile(paths.traces));
      if (logs.status !== 202 || traces.status !== 202) {
        io.err(`${service}: the gateway answered ${logs.status}/${traces.status}: ${JSON.stringify(traces.json)}`);
        return 1;
      }
      const workflowId = String(traces.json.workflowId);
      submitted.push({ service, workflowId });
      io.out(`${service}: alert accepted (${String(traces.json.status)}), incident ${workflowId}`);
    }
    let failures = 0;
    for (const { service, workflowId } of submitted) {
      const outcome = (await client.workflow.getHandle(workflowId).result()) as IncidentOutcome;
      if (outcome.outcome !== 'pr-opened') failures += 1;
      const total = Math.round((Date.parse(outcome.endedAt) - Date.parse(outcome.startedAt)) / 1000);
      io.out(`\n${service}: ${outcome.outcome} in ${total} s: ${outcome.reason}`);
      for (const stage of outcome.stages) {
        io.out(`  ${stage.stage.padEnd(12)} ${stage.status.padEnd(9)} ${String(Math.round(stage.durationMs ?? 0)).padStart(7)} ms  ${stage.summary}`);
      }
      if (outcome.pr) io.out(`  pull request: ${outcome.pr.url} (branch ${outcome.pr.branch})`);
      if (outcome.risk) io.out(`  risk: ${outcome.risk.score} (${outcome.risk.level})`);
      io.out(`  Temporal UI: ${workflowUiUrl(config, workflowId)}`);
    }
    io.out(`\nTemporal UI: ${config.temporalUiUrl} (filter by TracemendService, TracemendOutcome, ...); pull requests: ${github.webUrl}`);
    io.out('The stack keeps running so both can be read; `npx tracemend demo --stop` ends it.');
    return failures === 0 ? 0 : 1;
  } finally {
    await connection.close();
  }
}
