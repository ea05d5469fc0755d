export {
  BLOCKED_LINE_MESSAGE,
  DEFAULT_REDACT_PATHS,
  REDACTED,
  bindIncidentContext,
  blockedLine,
  createLogger,
  createTemporalLogger,
} from './logger';
export type { IncidentContext, LineBlock, LineGuard, Logger, LoggerOptions } from './logger';
