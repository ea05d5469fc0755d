import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { TASK_QUEUES } from '@tracemend/contracts';
import type { CliConfig } from './env';
import { stateDir } from '@tracemend/infra';

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

/**
 * Starts the worker in the background unless one already polls: its log goes to
 * .tracemend/logs/worker.log and its pid to .tracemend/run/worker.pid.
 */
export async function ensureWorker(config: CliConfig, root: string, timeoutMs = 120_000): Promise<{ started: boolean; pid?: number; log: string }> {
  const log = join(stateDir(root), 'logs', 'worker.log');
  if ((await workflowPollers(config)) > 0) return { started: false, log };
  mkdirSync(join(stateDir(root), 'logs'), { recursive: true });
  mkdirSync(join(stateDir(root), 'run'), { recursive: true });
  const output = openSync(log, 'a');
  const workerDir = join(root, 'apps', 'worker');
  const child = spawn(process.execPath, ['--import', 'tsx', join(workerDir, 'src', 'main.ts')], {
    cwd: workerDir,
    detached: true,
    stdio: ['ignore', output, output],
    env: { ...process.env, TRACEMEND_TEMPORAL_ADDRESS: config.temporalAddress, TRACEMEND_TEMPORAL_NAMESPACE: config.temporalNamespace },
  });
  child.unref();
  if (child.pid !== undefined) writeFileSync(join(stateDir(root), 'run', 'worker.pid'), `${child.pid}\n`);
  const deadline = Date.now() + timeoutMs;
  while ((await workflowPollers(config)) === 0) {
    if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}; see ${log}`);
    if (Date.now() > deadline) throw new Error(`the worker did not start polling within ${timeoutMs} ms; see ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { started: true, ...(child.pid === undefined ? {} : { pid: child.pid }), log };
}
