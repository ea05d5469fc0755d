// The worker's real Temporal workers on the test run's dev server, with the stages a test provides.
import { Client, Connection } from '@temporalio/client';
import type { StageActivities } from '@tracemend/contracts';
import type {} from '@tracemend/testing/temporal-global-setup';
import { createTemporalLogger, type Logger } from '@tracemend/telemetry';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { inject } from 'vitest';
import { bundleWorkflows, createWorkers, runWorkers } from '../src/workers';

export interface RunningWorkers {
  /** A client on the same server, for starting and steering incidents. */
  readonly client: Client;
  /** Shuts the workers down and closes both connections. */
  stop(): Promise<void>;
}

/** Bundles the workflows and runs a worker per task queue until `stop`. */
export async function startTestWorkers(stages: Partial<StageActivities>, logger: Logger): Promise<RunningWorkers> {
  Runtime.install({ logger: createTemporalLogger(logger) });
  const address = inject('temporalAddress');
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
