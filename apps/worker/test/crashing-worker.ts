// A worker process whose ingest stage has the bug the crash guard exists for: it writes to a child's
// stdin with no error listener, and the child exits without reading, so the write fails with an
// uncaught EPIPE. The first attempt of every incident crashes that way; the retry succeeds.
import { spawn } from 'node:child_process';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createLogger, createTemporalLogger } from '@tracemend/telemetry';
import { createCrashGuard } from '../src/crash-guard';
import { bundleWorkflows, createWorkers, runWorkers } from '../src/workers';
import { exampleStages } from './example-stages';

const address = process.argv[2] ?? '127.0.0.1:7233';
const logger = createLogger({ name: 'crashing-worker', level: 'info' });
Runtime.install({ logger: createTemporalLogger(logger.child({ component: 'temporal' })) });
const guard = createCrashGuard(logger);
guard.install();

const attempts = new Map<string, number>();
const connection = await NativeConnection.connect({ address });
const workers = await createWorkers({
  connection,
  namespace: 'default',
  logger,
  crashGuard: guard,
  workflowBundle: await bundleWorkflows(logger),
  sandboxConcurrency: 2,
  llmActivitiesPerSecond: 50,
  stages: {
    ...exampleStages,
    ingest: (input) => {
      const attempt = (attempts.get(input.incidentId) ?? 0) + 1;
      attempts.set(input.incidentId, attempt);
      if (attempt > 1) return exampleStages.ingest(input);
      const child = spawn('sh', ['-c', 'exec 0<&-; sleep 0.2'], { stdio: ['pipe', 'ignore', 'ignore'] });
      // Far more than a pipe buffers, so the write is still under way when the reader is gone.
      child.stdin.write(Buffer.alloc(8 * 1024 * 1024, 120));
      // The stage waits for an answer that never comes, as a stage waiting on the dead child would.
      return new Promise(() => undefined);
    },
  },
});
process.stdout.write(`${JSON.stringify({ msg: 'crashing worker ready', pid: process.pid })}\n`);
await runWorkers(workers);
