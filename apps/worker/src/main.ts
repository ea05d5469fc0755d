// The worker process: the composition root that builds real clients and runs a worker per task queue.
import { existsSync } from 'node:fs';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { findWorkspaceRoot } from '@tracemend/infra';
import { DockerSandboxDriver } from '@tracemend/sandbox';
import { createRawValueRegistry, rawValueHasher } from '@tracemend/privacy-gate';
import { createTemporalLogger } from '@tracemend/telemetry';
import { DEFAULT_BUNDLE_PATH } from './bundle-workflows';
import { loadWorkerConfig } from './env';
import { createWorkerLogger, workerOperationalValues } from './egress';
import { reapSandboxOrphans, startPeriodicReaping } from './reap-orphans';
import { createCrashGuard } from './crash-guard';
import { buildStages, createWarmPool } from './stages';
import { workerTokenKey } from './token-key';
import { bundleWorkflows, createWorkers, runWorkers } from './workers';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  // Raw-value hashes of the incidents in flight: every log line is checked against them (see egress.ts).
  const rawValues = createRawValueRegistry({ hashOf: rawValueHasher(await workerTokenKey(config)) });
  const logger = createWorkerLogger({ level: config.logLevel, rawValues, operationalValues: workerOperationalValues({ ...config, installRoot: findWorkspaceRoot() }) });
  Runtime.install({ logger: createTemporalLogger(logger) });
  // One activity's escaped error must not end the process and every other activity with it.
  const crashGuard = createCrashGuard(logger);
  const uninstallCrashGuard = crashGuard.install();

  const bundlePath = config.workflowBundlePath ?? (existsSync(DEFAULT_BUNDLE_PATH) ? DEFAULT_BUNDLE_PATH : undefined);
  const workflowBundle = bundlePath ? { codePath: bundlePath } : await bundleWorkflows(logger);
  const reaper = new DockerSandboxDriver({ logger: logger.child({ component: 'sandbox' }) });
  await reapSandboxOrphans(reaper, logger);
  const stopReaping = startPeriodicReaping(reaper, logger);
  const warmPool = createWarmPool(config, logger);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const workers = await createWorkers({
    connection,
    namespace: config.namespace,
    stages: await buildStages(config, logger, rawValues, warmPool ? { warmPool } : {}),
    logger,
    workflowBundle,
    sandboxConcurrency: config.sandboxConcurrency,
    llmActivitiesPerSecond: config.llmActivitiesPerSecond,
    crashGuard,
  });
  logger.info({ address: config.temporalAddress, namespace: config.namespace, queues: workers.length, bundle: bundlePath ?? 'bundled at start-up' }, 'worker started');
  try {
    await runWorkers(workers);
  } finally {
    await stopReaping();
    await warmPool?.drain();
    await connection.close();
    uninstallCrashGuard();
  }
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(`tracemend worker failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
