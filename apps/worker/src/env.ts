// The worker's configuration: the only module of this app that reads process.env.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { findWorkspaceRoot, LOCAL_TEMPORAL_ADDRESS, stateDir } from '@tracemend/infra';
import { z } from 'zod';

const WorkerEnv = z.object({
  TRACEMEND_TEMPORAL_ADDRESS: z.string().min(1).default(LOCAL_TEMPORAL_ADDRESS),
  TRACEMEND_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TRACEMEND_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Sandbox activities at once on this host; each holds a container, so it defaults to the core count. */
  TRACEMEND_SANDBOX_CONCURRENCY: z.coerce.number().int().positive().max(256).default(availableParallelism()),
  /** Warm sandbox containers kept per (repository, commit); 0 (the default) turns the warm pool off. */
  TRACEMEND_SANDBOX_WARM_POOL: z.coerce.number().int().min(0).max(16).default(0),
  /** Replays per reproduction; their matching share is the reproduction rate (default 5). */
  TRACEMEND_REPRODUCTION_RUNS: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').optional(),
  /** Matching share a reproduction needs, above 0 and at most 1 (default 0.8: 4 of 5 runs). */
  TRACEMEND_REPRODUCTION_THRESHOLD: z.coerce.number().gt(0, 'must be above 0').max(1, 'must be at most 1').optional(),
  /** LLM activities started per second across all workers of the queue (provider rate limits). */
  TRACEMEND_LLM_ACTIVITIES_PER_SECOND: z.coerce.number().positive().max(1_000).default(2),
  /** A prebuilt workflow bundle (see `pnpm build`); the worker bundles at start-up when unset. */
  TRACEMEND_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** Local state: evidence store, privacy audit log, token key, checkouts, dependency cache. */
  TRACEMEND_STATE_DIR: z.string().min(1).optional(),
  /** The service catalog (`tracemend.config.yaml`). */
  TRACEMEND_CONFIG: z.string().min(1).optional(),
  /** The tokenization key (at least 32 bytes) and its id; unset = a key generated once under the state folder. */
  TRACEMEND_TOKEN_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  TRACEMEND_TOKEN_KEY_ID: z.string().min(1).max(64).optional(),
  /** The operator's token-vault key (at least 32 bytes); unset = no token → value mapping is kept anywhere. */
  TRACEMEND_VAULT_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  TRACEMEND_EVIDENCE_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  /** The sandbox image; default tracemend/sandbox-node:<this Node version>, built offline by the bootstrap. */
  TRACEMEND_SANDBOX_IMAGE: z.string().min(1).optional(),
  /** The GitHub API the PR bot writes to (a GitHub Enterprise base URL, api.github.com or the emulator). */
  TRACEMEND_GITHUB_API_URL: z.string().url().optional(),
  TRACEMEND_GITHUB_TOKEN: z.string().min(1).optional(),
});

export interface WorkerConfig {
  temporalAddress: string;
  namespace: string;
  logLevel: z.infer<typeof WorkerEnv>['TRACEMEND_LOG_LEVEL'];
  sandboxConcurrency: number;
  /** Warm containers per (repository, commit); 0 = off. The pool's total bound is this times the sandbox concurrency. */
  sandboxWarmPool: number;
  llmActivitiesPerSecond: number;
  /** Replays per reproduction; undefined = the sandbox's default (5). */
  reproductionRuns: number | undefined;
  /** Matching share a reproduction needs; undefined = the sandbox's default (0.8). */
  reproductionThreshold: number | undefined;
  workflowBundlePath: string | undefined;
  stateDir: string;
  catalogFile: string;
  tokenKey: { id: string; secret: string } | undefined;
  vaultKey: string | undefined;
  /** The key raw alerts and envelopes are sealed under in the evidence store; undefined = the local key beside it. */
  evidenceKey: string | undefined;
  sandboxImage: string | undefined;
  github: { apiUrl: string; token: string | undefined } | undefined;
}

/** Reads and validates the worker's environment; a bad value fails with the variable's name. */
export function loadWorkerConfig(source: Record<string, string | undefined> = process.env): WorkerConfig {
  const parsed = WorkerEnv.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`worker environment is invalid: ${problems}`);
  }
  const env = parsed.data;
  if (env.TRACEMEND_TOKEN_KEY_ID !== undefined && env.TRACEMEND_TOKEN_KEY === undefined) {
    throw new Error('worker environment is invalid: TRACEMEND_TOKEN_KEY_ID is set without TRACEMEND_TOKEN_KEY');
  }
  return {
    temporalAddress: env.TRACEMEND_TEMPORAL_ADDRESS,
    namespace: env.TRACEMEND_TEMPORAL_NAMESPACE,
    logLevel: env.TRACEMEND_LOG_LEVEL,
    sandboxConcurrency: env.TRACEMEND_SANDBOX_CONCURRENCY,
    sandboxWarmPool: env.TRACEMEND_SANDBOX_WARM_POOL,
    llmActivitiesPerSecond: env.TRACEMEND_LLM_ACTIVITIES_PER_SECOND,
    reproductionRuns: env.TRACEMEND_REPRODUCTION_RUNS,
    reproductionThreshold: env.TRACEMEND_REPRODUCTION_THRESHOLD,
    workflowBundlePath: env.TRACEMEND_WORKFLOW_BUNDLE,
    stateDir: env.TRACEMEND_STATE_DIR ?? stateDir(),
    catalogFile: env.TRACEMEND_CONFIG ?? join(findWorkspaceRoot(), 'tracemend.config.yaml'),
    tokenKey: env.TRACEMEND_TOKEN_KEY ? { id: env.TRACEMEND_TOKEN_KEY_ID ?? 'env', secret: env.TRACEMEND_TOKEN_KEY } : undefined,
    vaultKey: env.TRACEMEND_VAULT_KEY,
    evidenceKey: env.TRACEMEND_EVIDENCE_KEY,
    sandboxImage: env.TRACEMEND_SANDBOX_IMAGE,
    github: env.TRACEMEND_GITHUB_API_URL ? { apiUrl: env.TRACEMEND_GITHUB_API_URL, token: env.TRACEMEND_GITHUB_TOKEN } : undefined,
  };
}
