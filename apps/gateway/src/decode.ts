// Reading the bodies that are not plain JSON: OTLP protobuf and Sentry envelopes. Their decoders in
// ingest name what is wrong; here those refusals become answers with the same codes and limits as
// JSON bodies, so a limit means the same whatever the encoding.
import { TracemendError } from '@tracemend/contracts';
import { ProtobufDecodeError, isTraceExport, parseAlert, parseSentryEnvelope, sentryEventItem, type OtlpLogs, type OtlpTraces } from '@tracemend/ingest';
import { checkBodyStructure, decodeUtf8, parseJsonBody, type BodyLimits } from './body';
import { HttpError } from './http';
import type { ProtobufFormat } from './formats';

/** Decodes an OTLP protobuf export within the body limits (depth and attributes counted as for OTLP/JSON). */
export function decodeProtobufBody(bytes: Uint8Array, format: ProtobufFormat, limits: BodyLimits): { format: 'otlp-traces-protobuf'; body: OtlpTraces } | { format: 'otlp-logs-protobuf'; body: OtlpLogs } {
  try {
    const alert = parseAlert(bytes, format, { maxDepth: limits.maxDepth, maxAttributes: limits.maxAttributes });
    if (isTraceExport(alert)) return { format: 'otlp-traces-protobuf', body: alert.body };
    if (alert.format === 'otlp-logs-protobuf') return { format: alert.format, body: alert.body };
    throw new Error(`parseAlert answered ${alert.format} for ${format}`);
  } catch (error) {
    if (!(error instanceof ProtobufDecodeError)) throw error;
    const details = { problem: error.problem, offset: error.offset, path: error.path, ...(error.limit === undefined ? {} : { limit: error.limit }) };
    const message = `the ${format} body ${error.message.startsWith('the body ') ? error.message.slice('the body '.length) : `is not a valid OTLP protobuf export: ${error.message}`}`;
    switch (error.problem) {
      case 'too-many-attributes':
        throw new HttpError(413, 'TOO_MANY_ATTRIBUTES', message, details);
      case 'too-deep':
        throw new HttpError(422, 'PROTOBUF_TOO_DEEP', message, details);
      case 'forbidden-key':
        throw new HttpError(422, 'FORBIDDEN_KEY', message, details);
      default:
        throw new HttpError(400, 'INVALID_PROTOBUF', message, details);
    }
  }
}

/** Re-labels a JSON refusal of the event item so its message says where the JSON was. */
function inEventItem(error: unknown, offset: number): never {
  if (error instanceof HttpError) throw new HttpError(error.status, error.code, `in the event item at byte ${offset} of the envelope: ${error.message}`, error.details, error.headers);
  throw error;
}

/**
 * The event of a Sentry envelope, parsed and checked like a JSON body (UTF-8, syntax, depth, keys).
 * A malformed envelope is 400 INVALID_SENTRY_ENVELOPE naming the byte and item; an envelope
 * without an event item is 422 NO_FAILURE_IN_ALERT naming the item types it has.
 */
export function sentryEnvelopeEvent(bytes: Uint8Array, limits: BodyLimits): unknown {
  let payload: Uint8Array;
  let offset: number;
  try {
    const item = sentryEventItem(parseSentryEnvelope(bytes));
    payload = item.payload;
    offset = item.offset;
  } catch (error) {
    if (error instanceof TracemendError && error.code === 'INVALID_INPUT') {
      throw new HttpError(400, 'INVALID_SENTRY_ENVELOPE', `the body is not a valid Sentry envelope: ${error.message}`, error.details ?? {});
    }
    throw error;
  }
  try {
    const value = parseJsonBody(decodeUtf8(payload));
    checkBodyStructure(value, limits);
    return value;
  } catch (error) {
    return inEventItem(error, offset);
  }
}
