// The HTTP side of bodies that are not plain JSON: OTLP protobuf and Sentry envelopes. Ingest's
// decoders name what is wrong; here those refusals become answers with the same codes and limits as
// JSON bodies, so a limit means the same whatever the encoding.
import { TracemendError } from '@tracemend/contracts';
import { ProtobufDecodeError, parseSentryEnvelope, sentryEventItem, type SentryEnvelope, type SentryEnvelopeItem } from '@tracemend/ingest';
import { checkBodyStructure, decodeUtf8, parseJsonBody, type BodyLimits } from './body';
import { HttpError } from './http';

/** The answer to a protobuf body ingest's decoder refused; other errors are passed through. */
export function protobufRefusal(error: unknown, format: string): unknown {
  if (!(error instanceof ProtobufDecodeError)) return error;
  const details = { problem: error.problem, offset: error.offset, path: error.path, ...(error.limit === undefined ? {} : { limit: error.limit }) };
  const message = `the ${format} body ${error.message.startsWith('the body ') ? error.message.slice('the body '.length) : `is not a valid OTLP protobuf export: ${error.message}`}`;
  switch (error.problem) {
    case 'too-many-attributes':
      return new HttpError(413, 'TOO_MANY_ATTRIBUTES', message, details);
    case 'too-deep':
      return new HttpError(422, 'PROTOBUF_TOO_DEEP', message, details);
    case 'forbidden-key':
      return new HttpError(422, 'FORBIDDEN_KEY', message, details);
    default:
      return new HttpError(400, 'INVALID_PROTOBUF', message, details);
  }
}

/** Re-labels a JSON refusal of the event item so its message says where the JSON was. */
function inEventItem(error: unknown, offset: number): never {
  if (error instanceof HttpError) throw new HttpError(error.status, error.code, `in the event item at byte ${offset} of the envelope: ${error.message}`, error.details, error.headers);
  throw error;
}

/**
 * Checks a Sentry envelope's framing (400 INVALID_SENTRY_ENVELOPE naming the byte and item) and its
 * event item, when it has one, like a JSON body (UTF-8, syntax, depth, keys). Returns the envelope.
 */
export function checkSentryEnvelope(bytes: Uint8Array, limits: BodyLimits): SentryEnvelope {
  let envelope: SentryEnvelope;
  let event: SentryEnvelopeItem | undefined;
  try {
    envelope = parseSentryEnvelope(bytes);
    if (envelope.items.some((item) => item.header.type === 'event')) event = sentryEventItem(envelope);
  } catch (error) {
    if (error instanceof TracemendError && error.code === 'INVALID_INPUT') {
      throw new HttpError(400, 'INVALID_SENTRY_ENVELOPE', `the body is not a valid Sentry envelope: ${error.message}`, error.details ?? {});
    }
    throw error;
  }
  if (event !== undefined) {
    try {
      checkBodyStructure(parseJsonBody(decodeUtf8(event.payload)), limits);
    } catch (error) {
      inEventItem(error, event.offset);
    }
  }
  return envelope;
}
