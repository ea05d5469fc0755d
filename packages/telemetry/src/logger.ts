import { pino, type DestinationStream, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';

/** Key paths whose values never reach a log line, whatever a caller passes in. */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  '*.authorization',
  '*.cookie',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.headers.authorization',
  '*.headers.cookie',
  'password',
  'secret',
  'token',
  'apiKey',
  'body',
  '*.body',
  'payload',
  '*.payload',
  'args',
  '*.args',
];

export const REDACTED = '[redacted]';

export interface LoggerOptions {
  /** Component name, bound on every line as `name`. */
  readonly name: string;
  readonly level?: LevelWithSilent;
  /** Extra key paths to censor (pino path syntax), on top of DEFAULT_REDACT_PATHS. */
  readonly redact?: readonly string[];
  /** Where lines go; stdout when omitted. */
  readonly destination?: DestinationStream;
}

export type Logger = PinoLogger;

/** Creates the pino JSON logger every tracemend process uses, with path redaction built in. */
export function createLogger(options: LoggerOptions): Logger {
  const config = {
    name: options.name,
    level: options.level ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...DEFAULT_REDACT_PATHS, ...(options.redact ?? [])], censor: REDACTED },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** The context bound on every line written about one incident. */
export interface IncidentContext {
  readonly incidentId: string;
  readonly workflowId?: string;
  readonly fingerprint?: string;
  readonly stage?: string;
}

/** Returns a child logger with the incident's ids bound; absent fields are left out, not logged as undefined. */
export function bindIncidentContext(logger: Logger, context: IncidentContext): Logger {
  const bindings: Record<string, string> = { incidentId: context.incidentId };
  if (context.workflowId !== undefined) bindings.workflowId = context.workflowId;
  if (context.fingerprint !== undefined) bindings.fingerprint = context.fingerprint;
  if (context.stage !== undefined) bindings.stage = context.stage;
  return logger.child(bindings);
}

const TEMPORAL_TO_PINO: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Adapts a pino logger to the Temporal SDK's Logger, so the runtime, workers and workflow logs land in one stream. */
export function createTemporalLogger(logger: Logger): TemporalLogger {
  const temporal = logger.child({ component: 'temporal' });
  const write = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    temporal[TEMPORAL_TO_PINO[level]](meta ?? {}, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
