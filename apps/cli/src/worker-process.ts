import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { TASK_QUEUES } from '@tracemend/contracts';
import { logSays, startBackground, waitFor, type BackgroundProcess } from './background';
import type { CliConfig } from './env';

/** How many workers poll the workflow task queue right now. */
export async function workflowPollers(config: CliConfig): Promise<number> {
  const connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: 5_000 });
  try {
    const queue = await connection.workflowService.describeTaskQueue({
      namespace: config.temporalNamespace,
      taskQueue: { name: TASK_QUEUES.workflows },
    });
    return queue.pollers?.length ?? 0;
  } finally {
    await connection.close();
  }
}

/** (Re)starts the worker in the background with `env` and waits until it polls the workflow queue. */
export async function startWorker(config: CliConfig, root: string, env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<BackgroundProcess> {
  const workerDir = join(root, 'apps', 'worker');
  const proc = await startBackground(root, {
    name: 'worker',
    cwd: workerDir,
    entry: join(workerDir, 'src', 'main.ts'),
    env: { TRACEMEND_TEMPORAL_ADDRESS: config.temporalAddress, TRACEMEND_TEMPORAL_NAMESPACE: config.temporalNamespace, ...env },
  });
  // Temporal lists a stopped worker's pollers for a while, so readiness is the new process's own log line.
  await waitFor(proc, () => logSays(proc, '"msg":"worker started"'), timeoutMs);
  return proc;
}
