import { ApplicationFailure } from '@temporalio/common';
import { TASK_QUEUES, TracemendError, type StageActivities } from '@tracemend/contracts';
import { exampleEnvelopeRef, exampleRawAlertRef } from '@tracemend/contracts/examples';
import { createLogger } from '@tracemend/telemetry';
import { describe, expect, it } from 'vitest';
import { activitiesForQueue, toActivityFailure, wrapStageActivities } from '../src/stage-activities';

const logger = createLogger({ name: 'test', level: 'silent' });
const ingestInput = { incidentId: 'inc-1', alert: exampleRawAlertRef };

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('wrapStageActivities', () => {
  it('passes parsed input to the stage and returns its parsed output', async () => {
    const seen: unknown[] = [];
    const activities = wrapStageActivities(
      {
        ingest: (input) => {
          seen.push(input);
          return Promise.resolve(exampleEnvelopeRef);
        },
      },
      logger,
    );
    await expect(activities.ingest(ingestInput)).resolves.toEqual(exampleEnvelopeRef);
    expect(seen).toEqual([ingestInput]);
  });

  it('registers a stage that is not built as failing with STAGE_NOT_BUILT, non-retryable', async () => {
    const failure = await failureOf(wrapStageActivities({}, logger).reproduce({}));
    // Input is checked first: even an absent stage never sees an invalid input.
    expect(failure.type).toBe('INVALID_INPUT');
    const absent = await failureOf(wrapStageActivities({}, logger).ingest(ingestInput));
    expect(absent.type).toBe('STAGE_NOT_BUILT');
    expect(absent.nonRetryable).toBe(true);
    expect(absent.message).toContain('ingest stage is not built');
  });

  it('rejects an input that breaks its contract, naming the path, without calling the stage', async () => {
    let called = false;
    const activities = wrapStageActivities(
      {
        ingest: () => {
          called = true;
          return Promise.resolve(exampleEnvelopeRef);
        },
      },
      logger,
    );
    const failure = await failureOf(activities.ingest({ incidentId: 'inc-1', alert: { ...exampleRawAlertRef, sizeBytes: -1 } }));
    expect(failure.type).toBe('INVALID_INPUT');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^ingest input is invalid: alert\.sizeBytes/);
    expect(called).toBe(false);
  });

  it('rejects an output that breaks its contract', async () => {
    const activities = wrapStageActivities(
      { ingest: () => Promise.resolve({ ...exampleEnvelopeRef, fingerprint: 'NOT-HEX' } as never) },
      logger,
    );
    const failure = await failureOf(activities.ingest(ingestInput));
    expect(failure.type).toBe('INVALID_INPUT');
    expect(failure.message).toMatch(/^ingest output is invalid: fingerprint/);
  });

  it('maps a TracemendError to an ApplicationFailure typed by its code, retryable as the code table says', async () => {
    const stages: Partial<StageActivities> = {
      ingest: () => Promise.reject(new TracemendError('GITHUB_UNAVAILABLE', 'GitHub answered 503', { details: { status: 503 } })),
    };
    const failure = await failureOf(wrapStageActivities(stages, logger).ingest(ingestInput));
    expect(failure.type).toBe('GITHUB_UNAVAILABLE');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.details).toEqual([{ status: 503 }]);
  });

  it('leaves plain errors untouched so Temporal retries them', async () => {
    const plain = new Error('socket hang up');
    expect(toActivityFailure(plain)).toBe(plain);
    const activities = wrapStageActivities({ ingest: () => Promise.reject(plain) }, logger);
    await expect(activities.ingest(ingestInput)).rejects.toBe(plain);
  });
});

describe('activitiesForQueue', () => {
  it('splits the activities over the ingest, sandbox and llm queues as the contracts say', () => {
    const activities = wrapStageActivities({}, logger);
    expect(Object.keys(activitiesForQueue(activities, TASK_QUEUES.ingest)).sort()).toEqual(['gate', 'ingest', 'openPullRequest', 'triage']);
    expect(Object.keys(activitiesForQueue(activities, TASK_QUEUES.sandbox)).sort()).toEqual(['localize', 'minimize', 'reproduce', 'verify']);
    expect(Object.keys(activitiesForQueue(activities, TASK_QUEUES.llm))).toEqual(['repair']);
    expect(Object.keys(activitiesForQueue(activities, TASK_QUEUES.workflows))).toEqual([]);
  });
});
