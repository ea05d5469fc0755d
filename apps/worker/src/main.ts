// The worker process: the composition root that builds real clients and runs a worker per task queue.
import { existsSync } from 'node:fs';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { DockerSandboxDriver } from '@tracemend/sandbox';
import { createLogger, createTemporalLogger } from '@tracemend/telemetry';
import { DEFAULT_BUNDLE_PATH } from './bundle-workflows';
import { loadWorkerConfig } from './env';
import { reapSandboxOrphans } from './reap-orphans';
import { buildStages } from './stages';
import { bundleWorkflows, createWorkers, runWorkers } from './workers';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const logger = createLogger({ name: 'worker', level: config.logLevel });
  Runtime.install({ logger: createTemporalLogger(logger) });

  const bundlePath = config.workflowBundlePath ?? (existsSync(DEFAULT_BUNDLE_PATH) ? DEFAULT_BUNDLE_PATH : undefined);
  const workflowBundle = bundlePath ? { codePath: bundlePath } : await bundleWorkflows(logger);
  await reapSandboxOrphans(new DockerSandboxDriver({ logger: logger.child({ component: 'sandbox' }) }), logger);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const workers = await createWorkers({
    connection,
    namespace: config.namespace,
    stages: await buildStages(config, logger),
    logger,
    workflowBundle,
    sandboxConcurrency: config.sandboxConcurrency,
    llmActivitiesPerSecond: config.llmActivitiesPerSecond,
  });
  logger.info({ address: config.temporalAddress, namespace: config.namespace, queues: workers.length, bundle: bundlePath ?? 'bundled at start-up' }, 'worker started');
  try {
    await runWorkers(workers);
  } finally {
    await connection.close();
  }
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(`tracemend worker failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
