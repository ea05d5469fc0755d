import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { STAGE_ACTIVITIES } from './activities';
import { activitiesCases } from './activities.cases';
import { runContractCases } from './contract-cases';
import { TASK_QUEUES } from './incident';

runContractCases(activitiesCases);

describe('STAGE_ACTIVITIES', () => {
  it('names one activity per stage that runs as an activity, in pipeline order', () => {
    expect(Object.keys(STAGE_ACTIVITIES)).toEqual(['ingest', 'gate', 'triage', 'reproduce', 'minimize', 'localize', 'repair', 'verify', 'openPullRequest']);
  });

  it.each(Object.entries(STAGE_ACTIVITIES))('%s: zod contracts on both sides and a known task queue', (_name, activity) => {
    expect(activity.input).toBeInstanceOf(z.ZodObject);
    expect(activity.input.shape).toHaveProperty('incidentId');
    expect(activity.output).toBeInstanceOf(z.ZodObject);
    expect(activity.output.shape.schemaVersion.safeParse(1).success).toBe(true);
    expect(Object.values(TASK_QUEUES)).toContain(activity.taskQueue);
    expect(activity.taskQueue).not.toBe(TASK_QUEUES.workflows);
  });

  it('runs the Docker stages on the sandbox queue and repair on the LLM queue', () => {
    expect(STAGE_ACTIVITIES.reproduce.taskQueue).toBe('sandbox');
    expect(STAGE_ACTIVITIES.minimize.taskQueue).toBe('sandbox');
    expect(STAGE_ACTIVITIES.verify.taskQueue).toBe('sandbox');
    expect(STAGE_ACTIVITIES.repair.taskQueue).toBe('llm');
  });
});
