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
  // The Temporal SDK logs activity task tokens: opaque capabilities that can complete the activity.
  'taskToken',
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
  /**
   * Checks every finished line before it is written. A line it blocks is replaced by an `error` line that
   * names the rule and the JSON path of each finding, never the value. The worker passes the privacy gate's
   * egress scanner here; telemetry only knows this hook, not the scanner.
   */
  readonly lineGuard?: LineGuard;
}

/** Why a line may not leave: the rule that fired (a detector name) and where in the line's JSON (`$.msg`). */
export interface LineBlock {
  readonly rule: string;
  readonly path: string;
}

/**
 * Decides about one serialized log line (a JSON object and its newline). Returns nothing, or an empty
 * list, when the line may be written as it is; otherwise what blocks it.
 */
export type LineGuard = (line: string) => readonly LineBlock[] | undefined;

/** Fields of a blocked line copied into its replacement (when no finding sits in them): they say where it came from. */
const CONTEXT_FIELDS = ['time', 'pid', 'name', 'incidentId', 'workflowId', 'fingerprint', 'stage', 'component', 'activity'] as const;

/** The message of the line that replaces a blocked one. */
export const BLOCKED_LINE_MESSAGE = 'log line blocked by the egress guard';

/**
 * Builds the replacement for a blocked line. It reads the blocked line only to copy the context fields
 * no finding touches and the original level; the rest of it is dropped.
 */
export function blockedLine(line: string, blocks: readonly LineBlock[]): string {
  let original: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) original = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: nothing to copy.
  }
  const touched = (field: string) => blocks.some((block) => block.path === '$' || block.path === `$.${field}` || block.path.startsWith(`$.${field}.`) || block.path.startsWith(`$.${field}[`));
  const replacement: Record<string, unknown> = { level: 'error' };
  for (const field of CONTEXT_FIELDS) {
    const value = original[field];
    if ((typeof value === 'string' || typeof value === 'number') && !touched(field)) replacement[field] = value;
  }
  const first = blocks[0];
  replacement.msg = BLOCKED_LINE_MESSAGE;
  replacement.rule = first?.rule ?? 'unknown';
  replacement.path = first?.path ?? '$';
  replacement.blocked = blocks.map((block) => ({ rule: block.rule, path: block.path }));
  if (typeof original.level === 'string' && !touched('level')) replacement.blockedLevel = original.level;
  return `${JSON.stringify(replacement)}\n`;
}

/** Runs the guard on one line; a guard that throws blocks the line (fail closed). */
function guardLine(guard: LineGuard, line: string): string {
  let blocks: readonly LineBlock[] | undefined;
  try {
    blocks = guard(line);
  } catch {
    blocks = [{ rule: 'guard-failed', path: '$' }];
  }
  return blocks === undefined || blocks.length === 0 ? line : blockedLine(line, blocks);
}

export type Logger = PinoLogger;

/** Creates the pino JSON logger every tracemend process uses, with path redaction built in. */
export function createLogger(options: LoggerOptions): Logger {
  const guard = options.lineGuard;
  const config = {
    name: options.name,
    level: options.level ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...DEFAULT_REDACT_PATHS, ...(options.redact ?? [])], censor: REDACTED },
    formatters: { level: (label: string) => ({ level: label }) },
    ...(guard ? { hooks: { streamWrite: (line: string) => guardLine(guard, line) } } : {}),
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
