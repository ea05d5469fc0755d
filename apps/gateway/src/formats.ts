// Which alert format a request carries: an explicit `?format=` or the body's shape.
import { detectOtlpJson, isAlertmanagerWebhook, isSentryEvent } from '@tracemend/ingest';
import { HttpError } from './http';

/** The formats `POST /v1/alerts` accepts today. */
export const ACCEPTED_FORMATS = ['otlp-traces-json', 'otlp-logs-json', 'alertmanager', 'sentry-event'] as const;
export type AcceptedFormat = (typeof ACCEPTED_FORMATS)[number];

/** Formats of the contracts that a later version reads; naming one gets a clear "not yet". */
const LATER_FORMATS = ['otlp-traces-protobuf', 'otlp-logs-protobuf', 'sentry-envelope', 'log-lines'] as const;

const SHAPES = 'OTLP/JSON traces {"resourceSpans": [...]}, OTLP/JSON logs {"resourceLogs": [...]}, an Alertmanager webhook {"version": "4", "alerts": [...]} or a Sentry event {"exception": {"values": [...]}}';

/** The format named by `?format=`, or undefined when the query names none. */
export function explicitFormat(query: URLSearchParams): AcceptedFormat | undefined {
  const format = query.get('format');
  if (format === null || format === '') return undefined;
  if ((ACCEPTED_FORMATS as readonly string[]).includes(format)) return format as AcceptedFormat;
  if ((LATER_FORMATS as readonly string[]).includes(format)) {
    throw new HttpError(415, 'UNSUPPORTED_ALERT_FORMAT', `format ${format} is not supported yet; accepted formats: ${ACCEPTED_FORMATS.join(', ')}`);
  }
  throw new HttpError(400, 'INVALID_QUERY', `unknown format ${JSON.stringify(format.slice(0, 64))}; accepted formats: ${ACCEPTED_FORMATS.join(', ')}`);
}

/** The format of a parsed JSON body, by its shape; 422 naming the accepted shapes when none fits. */
export function detectFormat(value: unknown): AcceptedFormat {
  const otlp = detectOtlpJson(value);
  if (otlp) return otlp;
  if (isAlertmanagerWebhook(value)) return 'alertmanager';
  if (isSentryEvent(value)) return 'sentry-event';
  throw new HttpError(422, 'UNSUPPORTED_ALERT_FORMAT', `the body is not an alert format tracemend reads; send ${SHAPES}, or name the format with ?format= (${ACCEPTED_FORMATS.join(', ')})`, {
    acceptedFormats: ACCEPTED_FORMATS,
  });
}
