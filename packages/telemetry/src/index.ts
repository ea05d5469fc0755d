export {
  DEFAULT_REDACT_PATHS,
  REDACTED,
  bindIncidentContext,
  createLogger,
  createTemporalLogger,
} from './logger';
export type { IncidentContext, Logger, LoggerOptions } from './logger';
