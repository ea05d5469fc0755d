// repairIncident on a real Temporal dev server, with the stages replaced by small in-test
// implementations handed to the same createWorkers factory the worker process uses.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { WorkflowFailedError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import {
  TASK_QUEUES,
  TracemendError,
  incidentWorkflowId,
  type IncidentOutcome,
  type IncidentStatus,
  type RepairPolicy,
  type StageActivities,
  type StageActivityName,
} from '@tracemend/contracts';
import {
  exampleEnvelopeRef,
  exampleGatedEnvelope,
  examplePullRequestRecord,
  exampleRawAlertRef,
  exampleReproduction,
  exampleVerification,
} from '@tracemend/contracts/examples';
import { createLogger } from '@tracemend/telemetry';
import {
  REPAIR_INCIDENT_WORKFLOW,
  approveSignal,
  approveUpdate,
  occurrenceSignal,
  rejectUpdate,
  statusQuery,
} from '@tracemend/workflows/client';
import { eventually } from '@tracemend/testing';
import { exampleStages, startIncident, startTestWorkers, type RunningWorkers } from './running-workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {} from '@tracemend/testing/temporal-global-setup';

const logger = createLogger({ name: 'workflow-test', level: 'warn' });

/** What every stage returns when a test does not say otherwise: a clean run to a pull request. */
const happy = exampleStages;

/** Per-incident overrides: each test owns its incident id, so tests share one set of workers. */
const overrides = new Map<string, Partial<StageActivities>>();
const calls = new Map<string, StageActivityName[]>();

function dispatch<K extends StageActivityName>(name: K): StageActivities[K] {
  const run = (input: { incidentId: string }) => {
    calls.set(input.incidentId, [...(calls.get(input.incidentId) ?? []), name]);
    const implementation = (overrides.get(input.incidentId)?.[name] ?? happy[name]) as (input: unknown) => Promise<unknown>;
    return implementation(input);
  };
  return run as unknown as StageActivities[K];
}

const stages = Object.fromEntries((Object.keys(happy) as StageActivityName[]).map((name) => [name, dispatch(name)])) as StageActivities;

let client: Client;
let running: RunningWorkers | undefined;

beforeAll(async () => {
  running = await startTestWorkers(stages, logger);
  client = running.client;
});

afterAll(async () => {
  await running?.stop();
});

function newIncident(): string {
  return randomUUID().replace(/-/g, '');
}

function start(incidentId: string, policy: Partial<RepairPolicy> = { review: 'never' }, occurrences = 1) {
  return startIncident(client, incidentId, policy, occurrences);
}

async function waitingForReview(handle: WorkflowHandle): Promise<IncidentStatus> {
  return eventually(async () => {
    const status = await handle.query(statusQuery);
    return status.review?.state === 'waiting' ? status : undefined;
  }, 'the review gate');
}

describe('repairIncident', () => {
  it('runs every stage in order to pr-opened and records the pull request', async () => {
    const incidentId = newIncident();
    const handle = await start(incidentId);
    const outcome = await handle.result();

    expect(outcome.outcome).toBe('pr-opened');
    expect(outcome.pr).toEqual({ url: examplePullRequestRecord.url, number: 1, branch: examplePullRequestRecord.branch });
    expect(outcome.risk?.score).toBe(exampleVerification.risk?.score);
    expect(outcome.fingerprint).toBe(exampleEnvelopeRef.fingerprint);
    expect(outcome.stages.map((s) => [s.stage, s.status])).toEqual([
      ['ingest', 'succeeded'],
      ['privacy-gate', 'succeeded'],
      ['triage', 'succeeded'],
      ['reproduce', 'succeeded'],
      ['minimize', 'succeeded'],
      ['localize', 'succeeded'],
      ['repair', 'succeeded'],
      ['verify', 'succeeded'],
      ['review', 'skipped'],
      ['pr', 'succeeded'],
    ]);
    expect(calls.get(incidentId)).toEqual(['ingest', 'gate', 'triage', 'reproduce', 'minimize', 'localize', 'repair', 'verify', 'openPullRequest']);

    const description = await handle.describe();
    expect(description.searchAttributes).toMatchObject({
      TracemendService: ['users-api'],
      TracemendErrorType: ['TypeError'],
      TracemendStage: ['done'],
      TracemendOutcome: ['pr-opened'],
      TracemendRisk: [exampleVerification.risk?.score],
    });
    const status = await handle.query(statusQuery);
    expect(status.stage).toBe('done');
    expect(status.outcome?.outcome).toBe('pr-opened');

    // What the Temporal UI shows: the current details (a row per stage) and a summary on every activity.
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    for (const stage of ['ingest', 'privacy-gate', 'triage', 'reproduce', 'minimize', 'localize', 'repair', 'verify', 'pr']) {
      expect(metadata.currentDetails).toMatch(new RegExp(`\\| ${stage} \\| succeeded \\| \\d+ ms \\| \\S`));
    }
    expect(metadata.currentDetails).toContain('| review | skipped |');
    const history = await handle.fetchHistory();
    const summaries = (history.events ?? [])
      .filter((event) => event.activityTaskScheduledEventAttributes)
      .map((event) => {
        const data = event.userMetadata?.summary?.data;
        return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as string) : '';
      });
    expect(summaries).toHaveLength(9);
    for (const summary of summaries) expect(summary.length).toBeGreaterThan(5);
  });

  const failures: [StageActivityName, TracemendError, IncidentOutcome['outcome'], string][] = [
    ['ingest', new TracemendError('NO_FAILURE_IN_ALERT', 'the alert holds no failed span'), 'failed', 'ingest'],
    ['gate', new TracemendError('DATA_CONTRACT_MISSING', 'no data contract for users-api'), 'blocked-by-privacy', 'privacy-gate'],
    ['triage', new TracemendError('SERVICE_NOT_IN_CATALOG', 'users-api is not in the catalog'), 'failed', 'triage'],
    ['triage', new TracemendError('UNSUPPORTED_REPOSITORY', 'the tests of acme/users-api run with ava; set test.runner'), 'unsupported-repository', 'triage'],
    ['reproduce', new TracemendError('NOT_REPRODUCIBLE', 'signature matched in 0/5 runs'), 'not-reproducible', 'reproduce'],
    ['minimize', new TracemendError('MINIMIZATION_FAILED', 'the full input no longer fails'), 'failed', 'minimize'],
    ['localize', new TracemendError('NO_SUSPECTS', 'no line covered only by failing runs'), 'no-verified-fix', 'localize'],
    ['repair', new TracemendError('NO_CANDIDATES', 'no template applies'), 'no-verified-fix', 'repair'],
    ['verify', new TracemendError('VERIFICATION_FAILED', 'typecheck failed'), 'no-verified-fix', 'verify'],
    ['openPullRequest', new TracemendError('GITHUB_REJECTED', 'GitHub answered 422'), 'failed', 'pr'],
  ];
  it.each(failures)('ends in its own outcome when %s fails for good (%s)', async (name, error, expected, stage) => {
    const incidentId = newIncident();
    overrides.set(incidentId, { [name]: () => Promise.reject(error) });
    const outcome = await (await start(incidentId)).result();

    expect(outcome.outcome).toBe(expected);
    expect(outcome.reason).toContain(error.message);
    const failed = outcome.stages.filter((s) => s.status === 'failed');
    expect(failed.map((s) => [s.stage, s.errorCode])).toEqual([[stage, error.code]]);
    // A non-retryable failure is attempted once.
    expect(calls.get(incidentId)?.filter((call) => call === name)).toHaveLength(1);
    expect(calls.get(incidentId)).not.toContain('openPullRequest' === name ? 'none' : 'openPullRequest');
  });

  it('ends not-reproducible when the replay does not match, without minimizing', async () => {
    const incidentId = newIncident();
    overrides.set(incidentId, {
      reproduce: () => Promise.resolve({ ...exampleReproduction, reproduced: false, matchingRuns: 0, rate: 0, reason: 'observed RangeError instead' }),
    });
    const outcome = await (await start(incidentId)).result();
    expect(outcome.outcome).toBe('not-reproducible');
    expect(outcome.reason).toContain('observed RangeError instead');
    expect(calls.get(incidentId)).not.toContain('minimize');
  });

  it('names the inputs recorded cut short when the replay does not match, whichever way reproduce says so', async () => {
    const note = 'http.request.body.content was cut short when recorded; raise the capture option maxBytes';
    const { envelope } = exampleGatedEnvelope;
    const inputs = [{ path: 'entry.body', signal: 'span-attribute' as const, source: 'attribute http.request.body.content on span 1a2b', truncated: { marker: 'http.request.body.truncated', recordedBytes: 16_384, sizeBytes: 40_210 }, note }];
    const gate = () => Promise.resolve({ ...exampleGatedEnvelope, envelope: { ...envelope, provenance: { ...envelope.provenance, inputs } } });
    const mismatch = newIncident();
    overrides.set(mismatch, { gate, reproduce: () => Promise.resolve({ ...exampleReproduction, reproduced: false, matchingRuns: 0, rate: 0, reason: 'observed SyntaxError instead' }) });
    const refused = newIncident();
    overrides.set(refused, { gate, reproduce: () => Promise.reject(new TracemendError('NOT_REPRODUCIBLE', 'signature matched in 0/5 runs')) });
    for (const incidentId of [mismatch, refused]) {
      const outcome = await (await start(incidentId)).result();
      expect(outcome.outcome).toBe('not-reproducible');
      expect(outcome.reason).toContain('the replay input entry.body was recorded cut short (http.request.body.truncated, 16384 of 40210 bytes kept)');
      expect(outcome.reason).toContain(note);
    }
    // Inputs recorded whole add nothing.
    const whole = newIncident();
    overrides.set(whole, { reproduce: () => Promise.resolve({ ...exampleReproduction, reproduced: false, matchingRuns: 0, rate: 0, reason: 'observed RangeError instead' }) });
    expect((await (await start(whole)).result()).reason).not.toContain('cut short');
  });

  it('fails a run whose input does not parse with INVALID_INPUT naming the path, before any stage', async () => {
    const incidentId = newIncident();
    const input = { schemaVersion: 1, incidentId, alert: { ...exampleRawAlertRef, sizeBytes: -1 }, occurrences: 1 };
    const handle = await client.workflow.start(REPAIR_INCIDENT_WORKFLOW, { taskQueue: TASK_QUEUES.workflows, workflowId: incidentWorkflowId(incidentId), args: [input] });
    const failure = await handle.result().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('INVALID_INPUT');
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    expect((cause as ApplicationFailure).message).toContain('alert.sizeBytes');
    expect(calls.get(incidentId)).toBeUndefined();
  });

  it('retries a transient activity error and carries on', async () => {
    const incidentId = newIncident();
    let attempts = 0;
    overrides.set(incidentId, {
      reproduce: (input) => {
        attempts += 1;
        return attempts < 3 ? Promise.reject(new Error('docker engine busy')) : happy.reproduce(input);
      },
    });
    const outcome = await (await start(incidentId)).result();
    expect(attempts).toBe(3);
    expect(outcome.outcome).toBe('pr-opened');
  });

  it('ends failed, not silently, when a transient error outlasts the retry budget', async () => {
    const incidentId = newIncident();
    overrides.set(incidentId, { triage: () => Promise.reject(new Error('catalog store unreachable')) });
    const outcome = await (await start(incidentId)).result();
    expect(outcome.outcome).toBe('failed');
    expect(outcome.reason).toContain('catalog store unreachable');
    expect(calls.get(incidentId)?.filter((call) => call === 'triage')).toHaveLength(3);
  });

  it('waits at the review gate and opens the pull request once approved through the update', async () => {
    const incidentId = newIncident();
    const handle = await start(incidentId, { review: 'always' });
    const status = await waitingForReview(handle);
    expect(status.stage).toBe('review');
    expect(calls.get(incidentId)).not.toContain('openPullRequest');

    const review = await handle.executeUpdate(approveUpdate, { args: [{ reviewer: 'ana', comment: 'looks right' }] });
    expect(review).toMatchObject({ state: 'approved', reviewer: 'ana', note: 'looks right' });
    const outcome = await handle.result();
    expect(outcome.outcome).toBe('pr-opened');
    expect(outcome.review?.state).toBe('approved');
  });

  it('ends rejected-by-operator when rejected through the update', async () => {
    const incidentId = newIncident();
    const handle = await start(incidentId, { review: 'always' });
    await waitingForReview(handle);
    const review = await handle.executeUpdate(rejectUpdate, { args: [{ reviewer: 'ana', reason: 'touches the billing path' }] });
    expect(review.state).toBe('rejected');
    const outcome = await handle.result();
    expect(outcome.outcome).toBe('rejected-by-operator');
    expect(outcome.reason).toContain('touches the billing path');
    expect(calls.get(incidentId)).not.toContain('openPullRequest');
  });

  it('refuses an invalid decision in the update validator and keeps waiting; the signal path still decides', async () => {
    const incidentId = newIncident();
    const handle = await start(incidentId, { review: 'always' });
    await waitingForReview(handle);

    const refused = await handle.executeUpdate(rejectUpdate, { args: [{ reviewer: 'ana', reason: '  ' }] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toContain('a rejection needs a reason');
    expect((await handle.query(statusQuery)).review?.state).toBe('waiting');

    await handle.signal(approveSignal, { reviewer: 'ben' });
    const outcome = await handle.result();
    expect(outcome.outcome).toBe('pr-opened');
    expect(outcome.review).toMatchObject({ state: 'approved', reviewer: 'ben' });

    if (process.env.TRACEMEND_RECORD_HISTORY) {
      // Regenerates the history the replay test in packages/workflows replays.
      const history = await handle.fetchHistory();
      await writeFile(process.env.TRACEMEND_RECORD_HISTORY, historyToJSON(history));
    }
  });

  it('refuses a decision when the incident is not waiting for review', async () => {
    const incidentId = newIncident();
    const handle = await start(incidentId);
    await handle.result();
    const refused = await handle.executeUpdate(approveUpdate, { args: [{ reviewer: 'ana' }] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
  });

  it('ends review-expired when nobody decides in time', async () => {
    const incidentId = newIncident();
    const outcome = await (await start(incidentId, { review: 'always', reviewTimeoutSeconds: 2 })).result();
    expect(outcome.outcome).toBe('review-expired');
    expect(outcome.review?.state).toBe('expired');
    expect(outcome.reason).toContain('within 2 s');
  });

  it('counts duplicate alerts: three occurrence signals on top of the first alert give 4', async () => {
    const incidentId = newIncident();
    const handle = await start(incidentId, { review: 'always' });
    await waitingForReview(handle);
    for (let i = 0; i < 3; i++) {
      await handle.signal(occurrenceSignal, { alertId: `a1b2c3d${i}`, receivedAt: new Date().toISOString() });
    }
    const status = await eventually(async () => {
      const current = await handle.query(statusQuery);
      return current.occurrences === 4 ? current : undefined;
    }, 'four occurrences');
    expect(status.occurrences).toBe(4);
    await handle.executeUpdate(rejectUpdate, { args: [{ reviewer: 'ana', reason: 'test done' }] });
    expect((await handle.result()).occurrences).toBe(4);
  });

  it('is found by client.workflow.list through its service and stage search attributes', async () => {
    const incidentId = newIncident();
    const service = `list-probe-${incidentId.slice(0, 8)}`;
    overrides.set(incidentId, { ingest: () => Promise.resolve({ ...exampleEnvelopeRef, service }) });
    const handle = await start(incidentId, { review: 'always' });
    await waitingForReview(handle);

    const list = async (query: string) => {
      const ids: string[] = [];
      for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
      return ids;
    };
    const byService = await eventually(async () => {
      const ids = await list(`TracemendService = '${service}'`);
      return ids.length > 0 ? ids : undefined;
    }, 'the incident by service');
    expect(byService).toEqual([handle.workflowId]);
    const byStage = await eventually(async () => {
      const ids = await list(`TracemendStage = 'review' AND TracemendService = '${service}'`);
      return ids.length > 0 ? ids : undefined;
    }, 'the incident by stage');
    expect(byStage).toEqual([handle.workflowId]);
    expect(await list(`TracemendStage = 'pr' AND TracemendService = '${service}'`)).toEqual([]);

    await handle.executeUpdate(rejectUpdate, { args: [{ reviewer: 'ana', reason: 'test done' }] });
    await handle.result();
  });
});
