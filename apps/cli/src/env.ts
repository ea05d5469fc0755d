import { LOCAL_TEMPORAL_ADDRESS, stateDir } from '@tracemend/infra';
import { z } from 'zod';

const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.string().url().optional())
  .optional();
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const port = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback);

const CliEnv = z.object({
  TRACEMEND_TEMPORAL_ADDRESS: z.string().trim().min(1).default(LOCAL_TEMPORAL_ADDRESS),
  TRACEMEND_TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TRACEMEND_TEMPORAL_UI_URL: z.string().trim().url().default('http://127.0.0.1:8233'),
  TRACEMEND_SANDBOX_IMAGE: optionalText,
  TRACEMEND_GITHUB_API_URL: optionalUrl,
  TRACEMEND_GITHUB_TOKEN: optionalText,
  TRACEMEND_LLM_PROVIDER: z.enum(['openai-compatible', 'anthropic']).optional(),
  TRACEMEND_LLM_BASE_URL: optionalUrl,
  TRACEMEND_LLM_API_KEY: optionalText,
  DOCKER_HOST: optionalText,
  TRACEMEND_STATE_DIR: optionalText,
  TRACEMEND_VAULT_KEY: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  TRACEMEND_EVIDENCE_KEY: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  TRACEMEND_DEMO_GATEWAY_PORT: port(8787),
  TRACEMEND_DEMO_GITHUB_PORT: port(8790),
});

/** Everything the CLI reads from the environment, validated once. */
export interface CliConfig {
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string;
  /** The sandbox image to check; default `tracemend/sandbox-node:<this Node version>`. */
  sandboxImage: string;
  /** A real GitHub (or GitHub Enterprise) API; absent means the bundled emulator. */
  github?: { apiUrl: string; token?: string };
  /** An LLM provider; absent means repair uses templates only. */
  llm?: { provider: 'openai-compatible' | 'anthropic'; baseUrl?: string; apiKey?: string };
  dockerHost?: string;
  /** The state folder (evidence, audit log, token vault); absent means `<workspace>/.tracemend`. */
  stateDir?: string;
  /** The operator's token-vault key; only `tracemend vault` reads it. */
  vaultKey?: string;
  /** The key the evidence store seals raw alerts under (the worker's too); absent = the local key beside the store. */
  evidenceKey?: string;
  /** The loopback ports `tracemend demo` gives the gateway and the GitHub emulator. */
  demoPorts: { gateway: number; github: number };
}

/** The default sandbox image tag: the base image is built from the host's own Node runtime. */
export function defaultSandboxImage(nodeVersion: string = process.versions.node): string {
  return `tracemend/sandbox-node:${nodeVersion}`;
}

/** Reads and validates the CLI's environment; a bad value names the variable. */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const parsed = CliEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  const e = parsed.data;
  if (e.TRACEMEND_LLM_PROVIDER === undefined && (e.TRACEMEND_LLM_BASE_URL ?? e.TRACEMEND_LLM_API_KEY) !== undefined) {
    throw new Error('invalid environment: TRACEMEND_LLM_PROVIDER is required when TRACEMEND_LLM_BASE_URL or TRACEMEND_LLM_API_KEY is set');
  }
  return {
    temporalAddress: e.TRACEMEND_TEMPORAL_ADDRESS,
    temporalNamespace: e.TRACEMEND_TEMPORAL_NAMESPACE,
    temporalUiUrl: e.TRACEMEND_TEMPORAL_UI_URL.replace(/\/+$/, ''),
    sandboxImage: e.TRACEMEND_SANDBOX_IMAGE ?? defaultSandboxImage(),
    ...(e.TRACEMEND_GITHUB_API_URL
      ? { github: { apiUrl: e.TRACEMEND_GITHUB_API_URL, ...(e.TRACEMEND_GITHUB_TOKEN ? { token: e.TRACEMEND_GITHUB_TOKEN } : {}) } }
      : {}),
    ...(e.TRACEMEND_LLM_PROVIDER
      ? {
          llm: {
            provider: e.TRACEMEND_LLM_PROVIDER,
            ...(e.TRACEMEND_LLM_BASE_URL ? { baseUrl: e.TRACEMEND_LLM_BASE_URL } : {}),
            ...(e.TRACEMEND_LLM_API_KEY ? { apiKey: e.TRACEMEND_LLM_API_KEY } : {}),
          },
        }
      : {}),
    ...(e.DOCKER_HOST ? { dockerHost: e.DOCKER_HOST } : {}),
    ...(e.TRACEMEND_STATE_DIR ? { stateDir: e.TRACEMEND_STATE_DIR } : {}),
    ...(e.TRACEMEND_VAULT_KEY ? { vaultKey: e.TRACEMEND_VAULT_KEY } : {}),
    ...(e.TRACEMEND_EVIDENCE_KEY ? { evidenceKey: e.TRACEMEND_EVIDENCE_KEY } : {}),
    demoPorts: { gateway: e.TRACEMEND_DEMO_GATEWAY_PORT, github: e.TRACEMEND_DEMO_GITHUB_PORT },
  };
}

/**
 * The state folder everything the CLI writes or starts shares (evidence, audit log, vault, background
 * processes' pid files and logs): `TRACEMEND_STATE_DIR`, else `<workspace>/.tracemend`. The worker
 * reads the same variable, so a worker the CLI starts finds the alerts the CLI stored.
 */
export function cliStateDir(config: Pick<CliConfig, 'stateDir'>, root: string): string {
  return config.stateDir ?? stateDir(root);
}
