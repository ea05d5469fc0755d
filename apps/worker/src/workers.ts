// One worker per task queue: workflows, `ingest`, `sandbox` (bounded by cores) and `llm` (rate-limited).
import { createRequire } from 'node:module';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { TASK_QUEUES, type StageActivities, type TaskQueue } from '@tracemend/contracts';
import { createTemporalLogger, type Logger } from '@tracemend/telemetry';
import type { CrashGuard } from './crash-guard';
import { HEARTBEAT_THROTTLE_MS, activitiesForQueue, wrapStageActivities } from './stage-activities';

export interface CreateWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  /** The stage implementations; stages left out fail with STAGE_NOT_BUILT. */
  stages: Partial<StageActivities>;
  logger: Logger;
  /** The workflow code, bundled once (see `bundleWorkflows`). */
  workflowBundle: WorkflowBundleOption;
  sandboxConcurrency: number;
  llmActivitiesPerSecond: number;
  /** Which queues this process serves; all of them by default (one machine). */
  queues?: readonly TaskQueue[];
  /** Fails only the activity an escaped error belongs to (installed by the process, see main.ts). */
  crashGuard?: CrashGuard;
}

/** The module that exports every workflow: the bundler's single entry. */
export function workflowsPath(): string {
  return createRequire(import.meta.url).resolve('@tracemend/workflows');
}

/** Bundles the workflow code once, for every workflow worker this process starts. */
export async function bundleWorkflows(logger: Logger): Promise<{ code: string }> {
  return bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: createTemporalLogger(logger) });
}

/** Creates the workers of the given queues, sharing one connection and one workflow bundle. */
export async function createWorkers(options: CreateWorkersOptions): Promise<Worker[]> {
  const activities = wrapStageActivities(options.stages, options.logger, options.crashGuard);
  const queues = options.queues ?? Object.values(TASK_QUEUES);
  const common = { connection: options.connection, namespace: options.namespace };
  return Promise.all(
    queues.map((taskQueue) => {
      switch (taskQueue) {
        case TASK_QUEUES.workflows:
          return Worker.create({ ...common, taskQueue, workflowBundle: options.workflowBundle });
        case TASK_QUEUES.sandbox:
          return Worker.create({
            ...common,
            taskQueue,
            activities: activitiesForQueue(activities, taskQueue),
            maxConcurrentActivityTaskExecutions: options.sandboxConcurrency,
            // Cancellation rides on heartbeat answers: forward them often so a cancel kills containers fast.
            maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE_MS,
          });
        case TASK_QUEUES.llm:
          return Worker.create({
            ...common,
            taskQueue,
            activities: activitiesForQueue(activities, taskQueue),
            maxTaskQueueActivitiesPerSecond: options.llmActivitiesPerSecond,
          });
        case TASK_QUEUES.ingest:
          return Worker.create({ ...common, taskQueue, activities: activitiesForQueue(activities, taskQueue) });
      }
    }),
  );
}

/** Runs workers until all of them stop (shutdown or a fatal error, which stops the others too). */
export async function runWorkers(workers: readonly Worker[]): Promise<void> {
  try {
    await Promise.all(workers.map((worker) => worker.run()));
  } catch (error) {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    throw error;
  }
}
