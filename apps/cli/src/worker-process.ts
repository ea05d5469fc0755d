import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { TASK_QUEUES } from '@tracemend/contracts';
import { logSays, startBackground, waitFor, type BackgroundProcess } from './background';
import { cliStateDir, type CliConfig } from './env';

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
  const proc = await startBackground(cliStateDir(config, root), {
    name: 'worker',
    cwd: workerDir,
    entry: join(workerDir, 'src', 'main.ts'),
    env: { TRACEMEND_TEMPORAL_ADDRESS: config.temporalAddress, TRACEMEND_TEMPORAL_NAMESPACE: config.temporalNamespace, ...env },
  });
  // Temporal lists a stopped worker's pollers for a while, so readiness is the new process's own log line.
  await waitFor(proc, () => logSays(proc, '"msg":"worker started"'), timeoutMs);
  return proc;
}

/**
 * Reuses the background worker when it runs with the same settings (`env`), else (re)starts it:
 * a worker reads its catalog and GitHub target once, at start-up.
 */
export async function ensureWorker(config: CliConfig, root: string, env: Record<string, string>): Promise<{ started: boolean; proc?: BackgroundProcess }> {
  const state = cliStateDir(config, root);
  const settings = join(state, 'run', 'worker.json');
  const wanted = JSON.stringify(env);
  const pidFile = join(state, 'run', 'worker.pid');
  if (existsSync(settings) && existsSync(pidFile) && readFileSync(settings, 'utf8') === wanted) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      process.kill(pid, 0);
      return { started: false };
    } catch {
      // Not running any more: start a new one below.
    }
  }
  const proc = await startWorker(config, root, env);
  writeFileSync(settings, wanted);
  return { started: true, proc };
}
