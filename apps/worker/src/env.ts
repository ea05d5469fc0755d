// The worker's configuration: the only module of this app that reads process.env.
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const WorkerEnv = z.object({
  TRACEMEND_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TRACEMEND_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TRACEMEND_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Sandbox activities at once on this host; each holds a container, so it defaults to the core count. */
  TRACEMEND_SANDBOX_CONCURRENCY: z.coerce.number().int().positive().max(256).default(availableParallelism()),
  /** LLM activities started per second across all workers of the queue (provider rate limits). */
  TRACEMEND_LLM_ACTIVITIES_PER_SECOND: z.coerce.number().positive().max(1_000).default(2),
  /** A prebuilt workflow bundle (see `pnpm build`); the worker bundles at start-up when unset. */
  TRACEMEND_WORKFLOW_BUNDLE: z.string().min(1).optional(),
});

export interface WorkerConfig {
  temporalAddress: string;
  namespace: string;
  logLevel: z.infer<typeof WorkerEnv>['TRACEMEND_LOG_LEVEL'];
  sandboxConcurrency: number;
  llmActivitiesPerSecond: number;
  workflowBundlePath: string | undefined;
}

/** Reads and validates the worker's environment; a bad value fails with the variable's name. */
export function loadWorkerConfig(source: Record<string, string | undefined> = process.env): WorkerConfig {
  const parsed = WorkerEnv.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`worker environment is invalid: ${problems}`);
  }
  const env = parsed.data;
  return {
    temporalAddress: env.TRACEMEND_TEMPORAL_ADDRESS,
    namespace: env.TRACEMEND_TEMPORAL_NAMESPACE,
    logLevel: env.TRACEMEND_LOG_LEVEL,
    sandboxConcurrency: env.TRACEMEND_SANDBOX_CONCURRENCY,
    llmActivitiesPerSecond: env.TRACEMEND_LLM_ACTIVITIES_PER_SECOND,
    workflowBundlePath: env.TRACEMEND_WORKFLOW_BUNDLE,
  };
}
