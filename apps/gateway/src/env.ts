// The gateway's configuration: the only module of this app that reads process.env.
import { join } from 'node:path';
import { LOCAL_TEMPORAL_ADDRESS, stateDir } from '@tracemend/infra';
import { z } from 'zod';
import { DEFAULT_MAX_BODY_BYTES } from './gateway';

const GatewayEnv = z.object({
  TRACEMEND_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  /** Loopback by default: exposing the gateway is a deliberate choice. */
  TRACEMEND_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  TRACEMEND_GATEWAY_TOKEN: z
    .string({ error: 'is required: set a secret of at least 16 characters that alert senders send as "Authorization: Bearer <token>"' })
    .min(16, 'must be at least 16 characters'),
  /** The public key of the Sentry DSN SDKs report with; Sentry SDKs refuse a key that is not word characters. */
  TRACEMEND_GATEWAY_SENTRY_KEY: z
    .string()
    .regex(/^\w{16,}$/, 'must be at least 16 letters, digits or underscores: Sentry SDKs refuse any other DSN public key ("Invalid Sentry Dsn")')
    .optional(),
  TRACEMEND_GATEWAY_MAX_BODY_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
  /** Where raw alerts are stored; the worker's ingest must read the same folder. */
  TRACEMEND_EVIDENCE_DIR: z.string().min(1).optional(),
  /** The state folder the worker and the CLI share; the evidence store is its `evidence` folder. */
  TRACEMEND_STATE_DIR: z.string().min(1).optional(),
  TRACEMEND_TEMPORAL_ADDRESS: z.string().min(1).default(LOCAL_TEMPORAL_ADDRESS),
  TRACEMEND_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TRACEMEND_EVIDENCE_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  TRACEMEND_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface GatewayConfig {
  port: number;
  host: string;
  token: string;
  /** The Sentry DSN public key, when one is set apart from the token. */
  sentryKey?: string;
  maxBodyBytes: number;
  evidenceDir: string;
  /** The key raw alerts are sealed under in the evidence store (the worker's too); absent = the local key beside it. */
  evidenceKey?: string;
  temporalAddress: string;
  namespace: string;
  logLevel: z.infer<typeof GatewayEnv>['TRACEMEND_LOG_LEVEL'];
}

/** Reads and validates the gateway's environment; a missing token or bad value fails with the variable's name. */
export function loadGatewayConfig(source: Record<string, string | undefined> = process.env, root?: string): GatewayConfig {
  const parsed = GatewayEnv.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ');
    throw new Error(`gateway environment is invalid: ${problems}`);
  }
  const env = parsed.data;
  return {
    port: env.TRACEMEND_GATEWAY_PORT,
    host: env.TRACEMEND_GATEWAY_HOST,
    token: env.TRACEMEND_GATEWAY_TOKEN,
    ...(env.TRACEMEND_GATEWAY_SENTRY_KEY ? { sentryKey: env.TRACEMEND_GATEWAY_SENTRY_KEY } : {}),
    maxBodyBytes: env.TRACEMEND_GATEWAY_MAX_BODY_BYTES,
    evidenceDir: env.TRACEMEND_EVIDENCE_DIR ?? join(env.TRACEMEND_STATE_DIR ?? stateDir(root), 'evidence'),
    ...(env.TRACEMEND_EVIDENCE_KEY ? { evidenceKey: env.TRACEMEND_EVIDENCE_KEY } : {}),
    temporalAddress: env.TRACEMEND_TEMPORAL_ADDRESS,
    namespace: env.TRACEMEND_TEMPORAL_NAMESPACE,
    logLevel: env.TRACEMEND_LOG_LEVEL,
  };
}
