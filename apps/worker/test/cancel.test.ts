// Cancelling an incident on a real Temporal dev server: the sandbox container of the running stage is
// killed and removed within 2 seconds over real Docker, and the incident still ends in a recorded outcome.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { GatedEnvelope, RepairPolicy, ReproduceInput, StageActivities } from '@tracemend/contracts';
import { exampleGatedEnvelope, exampleReproduction } from '@tracemend/contracts/examples';
import { DockerSandboxDriver, SANDBOX_GID, SANDBOX_UID, buildBaseImage, createSandboxActivities, sandboxImageTag, type StageCallContext } from '@tracemend/sandbox';
import { createLogger } from '@tracemend/telemetry';
import { eventually } from '@tracemend/testing';
import type {} from '@tracemend/testing/temporal-global-setup';
import { statusQuery } from '@tracemend/workflows/client';
import { exampleStages, startIncident, startTestWorkers, type RunningWorkers } from './running-workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const logger = createLogger({ name: 'cancel-test', level: 'warn' });

/** A repository whose exported function never returns: the replay job hangs until something kills it. */
const HANG_SOURCE = `export async function hang(): Promise<never> {
  await new Promise((resolve) => setTimeout(resolve, 600_000));
  throw new Error('unreachable');
}
`;

/** The gated envelope of an incident whose replay runs `hang`. */
const hangingGated: GatedEnvelope = {
  ...exampleGatedEnvelope,
  envelope: { ...exampleGatedEnvelope.envelope, entry: { kind: 'function', module: 'src/hang.ts', export: 'hang', args: [] } },
};

/** Incidents whose reproduce stage runs the hanging replay in a real container. */
const hanging = new Set<string>();
let root: string;
let client: Client;
let running: RunningWorkers | undefined;

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-cancel-'));
  const repoDir = join(root, 'repo');
  const depsDir = join(root, 'deps');
  await mkdir(join(repoDir, 'src'), { recursive: true });
  await mkdir(join(repoDir, 'node_modules'));
  await mkdir(depsDir);
  await writeFile(join(repoDir, 'src', 'hang.ts'), HANG_SOURCE);
  for (const path of [repoDir, join(repoDir, 'src'), join(repoDir, 'src', 'hang.ts'), join(repoDir, 'node_modules')]) await chown(path, SANDBOX_UID, SANDBOX_GID);

  const sandbox = createSandboxActivities({
    driver: new DockerSandboxDriver({ logger }),
    image: sandboxImageTag(),
    workspace: { prepare: () => Promise.resolve({ repoDir, depsDir }) },
    logger,
  });
  const stages: StageActivities = {
    ...exampleStages,
    gate: () => Promise.resolve(hangingGated),
    // Incidents in `hanging` replay for real in the sandbox; the others get the example reproduction.
    reproduce: (input: ReproduceInput, context?: StageCallContext) => (hanging.has(input.incidentId) ? sandbox.reproduce(input, context) : Promise.resolve(exampleReproduction)),
  };

  running = await startTestWorkers(stages, logger);
  client = running.client;
});

afterAll(async () => {
  await running?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

function start(incidentId: string, policy: Partial<RepairPolicy>) {
  return startIncident(client, incidentId, policy);
}

/** Ids of the incident's sandbox containers, running or not. */
async function incidentContainers(incidentId: string, state: 'running' | 'all'): Promise<string[]> {
  const args = ['ps', ...(state === 'all' ? ['-a'] : []), '--filter', `label=tracemend.incident=${incidentId}`, '--format', '{{.ID}}'];
  const { stdout } = await exec('docker', args);
  return stdout.split('\n').filter((id) => id !== '');
}

describe('cancelling an incident', () => {
  it('kills the running sandbox container within 2 seconds and ends rejected-by-operator', async () => {
    const incidentId = randomUUID().replace(/-/g, '');
    hanging.add(incidentId);
    const handle = await start(incidentId, { review: 'never' });
    await eventually(async () => ((await incidentContainers(incidentId, 'running')).length > 0 ? true : undefined), 'the sandbox container to run', 60_000);
    // Let the harness take the job that hangs, so the cancel interrupts a replay in progress.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await incidentContainers(incidentId, 'running')).toHaveLength(1);

    const cancelledAt = performance.now();
    await handle.cancel();
    let goneAfterMs: number | undefined;
    while (performance.now() - cancelledAt < 10_000) {
      if ((await incidentContainers(incidentId, 'all')).length === 0) {
        goneAfterMs = performance.now() - cancelledAt;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    logger.warn({ goneAfterMs: goneAfterMs === undefined ? undefined : Math.round(goneAfterMs) }, 'time from the cancel request to the container being removed');
    expect(goneAfterMs).toBeDefined();
    expect(goneAfterMs).toBeLessThan(2_000);

    const outcome = await handle.result();
    expect(outcome.outcome).toBe('rejected-by-operator');
    expect(outcome.reason).toMatch(/^cancelled by an operator during the reproduce stage/);
    expect(outcome.stages.map((s) => [s.stage, s.status])).toEqual([
      ['ingest', 'succeeded'],
      ['privacy-gate', 'succeeded'],
      ['triage', 'succeeded'],
      ['reproduce', 'failed'],
    ]);
    expect(outcome.stages.at(-1)?.summary).toBe('cancelled by an operator');
    // The status query shows the same ending: nothing was dropped silently.
    expect((await handle.query(statusQuery)).outcome?.outcome).toBe('rejected-by-operator');
  });

  it('ends an incident cancelled while it waits for review rejected-by-operator, with the review closed', async () => {
    const incidentId = randomUUID().replace(/-/g, '');
    const handle = await start(incidentId, { review: 'always' });
    await eventually(async () => ((await handle.query(statusQuery)).review?.state === 'waiting' ? true : undefined), 'the review gate');
    await handle.cancel();
    const outcome = await handle.result();
    expect(outcome.outcome).toBe('rejected-by-operator');
    expect(outcome.reason).toMatch(/^cancelled by an operator during the review stage/);
    expect(outcome.review).toMatchObject({ state: 'rejected', note: 'the workflow was cancelled' });
    expect(outcome.stages.at(-1)).toMatchObject({ stage: 'review', status: 'failed', summary: 'cancelled by an operator' });
  });
});
