// The worker's real Temporal workers on the test run's dev server, with the stages a test provides.
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import {
  TASK_QUEUES,
  incidentWorkflowId,
  type IncidentOutcome,
  type RepairIncidentInput,
  type RepairPolicy,
  type StageActivities,
} from '@tracemend/contracts';
import { exampleRawAlertRef } from '@tracemend/contracts/examples';
import { REPAIR_INCIDENT_WORKFLOW } from '@tracemend/workflows/client';
import type {} from '@tracemend/testing/temporal-global-setup';
import { createTemporalLogger, type Logger } from '@tracemend/telemetry';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { inject } from 'vitest';
import { bundleWorkflows, createWorkers, runWorkers } from '../src/workers';

export { exampleStages } from './example-stages';

export interface RunningWorkers {
  /** A client on the same server, for starting and steering incidents. */
  readonly client: Client;
  /** Shuts the workers down and closes both connections. */
  stop(): Promise<void>;
}

/**
 * Bundles the workflows and runs a worker per task queue until `stop`, on the test run's dev server
 * unless a test names another.
 */
export async function startTestWorkers(stages: Partial<StageActivities>, logger: Logger, address = inject('temporalAddress')): Promise<RunningWorkers> {
  Runtime.install({ logger: createTemporalLogger(logger) });
  const clientConnection = await Connection.connect({ address });
  const workerConnection = await NativeConnection.connect({ address });
  const workers = await createWorkers({
    connection: workerConnection,
    namespace: 'default',
    stages,
    logger,
    workflowBundle: await bundleWorkflows(logger),
    sandboxConcurrency: 2,
    llmActivitiesPerSecond: 50,
  });
  const running = runWorkers(workers);
  return {
    client: new Client({ connection: clientConnection }),
    async stop() {
      for (const worker of workers) worker.shutdown();
      await running;
      await workerConnection.close();
      await clientConnection.close();
    },
  };
}

export type IncidentHandle = WorkflowHandle<(input: RepairIncidentInput) => Promise<IncidentOutcome>>;

/** Starts the incident workflow for an example alert, as the gateway would, with the given policy. */
export function startIncident(client: Client, incidentId: string, policy: Partial<RepairPolicy>, occurrences = 1): Promise<IncidentHandle> {
  const input: RepairIncidentInput = { schemaVersion: 1, incidentId, alert: exampleRawAlertRef, occurrences, policy };
  return client.workflow.start(REPAIR_INCIDENT_WORKFLOW, {
    taskQueue: TASK_QUEUES.workflows,
    workflowId: incidentWorkflowId(incidentId),
    args: [input],
  }) as Promise<IncidentHandle>;
}
