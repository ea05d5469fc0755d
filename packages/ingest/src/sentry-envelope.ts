// Sentry envelopes (https://develop.sentry.dev/sdk/data-model/envelopes/), the body the Sentry SDKs
// POST to /api/<project>/envelope/: an envelope header line, then items, each an item header line and
// a payload that is either `length` bytes long or runs to the next newline. Payloads may be binary
// (attachments), so the framing is read on bytes; only headers and the event payload are decoded.
import { TracemendError } from '@tracemend/contracts';

/** Why an envelope was refused, for callers that map problems to answers. */
export type SentryEnvelopeProblem = 'header-json' | 'item-header-json' | 'item-type' | 'length' | 'too-many-items' | 'event-json' | 'no-event' | 'several-events';

export interface SentryEnvelopeItem {
  /** The item header; `type` is checked to be a non-empty string. */
  header: { type: string; length?: number } & Record<string, unknown>;
  payload: Uint8Array;
  /** Byte offset of the item header in the envelope, for error messages. */
  offset: number;
}

export interface SentryEnvelope {
  header: Record<string, unknown>;
  items: SentryEnvelopeItem[];
}

/** At most this many items are read; SDKs send one event plus a few attachments or client reports. */
export const MAX_SENTRY_ENVELOPE_ITEMS = 1_000;

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function envelopeError(problem: SentryEnvelopeProblem, message: string, offset: number, item?: number): TracemendError {
  const code = problem === 'no-event' ? 'NO_FAILURE_IN_ALERT' : 'INVALID_INPUT';
  return new TracemendError(code, message, { details: { problem, offset, ...(item === undefined ? {} : { item }) } });
}

/** The end of the line starting at `start` (the offset of its newline, or the end of the body). */
function lineEnd(bytes: Uint8Array, start: number): number {
  const at = bytes.indexOf(NEWLINE, start);
  return at === -1 ? bytes.length : at;
}

function jsonObjectLine(bytes: Uint8Array, start: number, end: number, problem: 'header-json' | 'item-header-json', what: string, item?: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes.subarray(start, end)));
  } catch (error) {
    throw envelopeError(problem, `the ${what} at byte ${start} is not valid JSON: ${String((error as Error).message).slice(0, 200)}`, start, item);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw envelopeError(problem, `the ${what} at byte ${start} is not a JSON object`, start, item);
  return value as Record<string, unknown>;
}

function itemHeader(bytes: Uint8Array, start: number, end: number, index: number): SentryEnvelopeItem['header'] {
  const header = jsonObjectLine(bytes, start, end, 'item-header-json', `header of item ${index}`, index);
  if (typeof header.type !== 'string' || header.type === '') throw envelopeError('item-type', `item ${index} (byte ${start}) has no "type" in its header`, start, index);
  const { length } = header;
  if (length !== undefined && (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0)) {
    throw envelopeError('length', `item ${index} (byte ${start}) declares length ${JSON.stringify(length).slice(0, 40)}; a length is a non-negative integer`, start, index);
  }
  return header as SentryEnvelopeItem['header'];
}

/**
 * Splits a Sentry envelope into its header and items. Throws INVALID_INPUT naming the byte offset and
 * item for a header that is not a JSON object, an item without a type, or a declared `length` the
 * body does not have (cut off, or followed by something other than a newline).
 */
export function parseSentryEnvelope(bytes: Uint8Array): SentryEnvelope {
  const headerEnd = lineEnd(bytes, 0);
  const header = jsonObjectLine(bytes, 0, headerEnd, 'header-json', 'envelope header');
  const items: SentryEnvelopeItem[] = [];
  let pos = headerEnd + 1;
  while (pos < bytes.length) {
    const offset = pos;
    const end = lineEnd(bytes, pos);
    // Blank lines between items and a trailing newline carry nothing.
    if (end === pos) {
      pos += 1;
      continue;
    }
    const index = items.length;
    if (index >= MAX_SENTRY_ENVELOPE_ITEMS) throw envelopeError('too-many-items', `the envelope has more than ${MAX_SENTRY_ENVELOPE_ITEMS} items`, offset, index);
    const itemHeaderValue = itemHeader(bytes, pos, end, index);
    const payloadStart = end + 1;
    let payloadEnd: number;
    if (itemHeaderValue.length !== undefined) {
      payloadEnd = payloadStart + itemHeaderValue.length;
      const available = Math.max(0, bytes.length - payloadStart);
      if (payloadEnd > bytes.length) {
        throw envelopeError('length', `item ${index} (${itemHeaderValue.type}, byte ${offset}) declares ${itemHeaderValue.length} payload bytes but only ${available} remain; was the envelope cut off?`, offset, index);
      }
      if (payloadEnd < bytes.length && bytes[payloadEnd] !== NEWLINE) {
        throw envelopeError('length', `item ${index} (${itemHeaderValue.type}, byte ${offset}) declares ${itemHeaderValue.length} payload bytes but its payload goes on past them (no newline at byte ${payloadEnd})`, offset, index);
      }
    } else {
      payloadEnd = payloadStart >= bytes.length ? bytes.length : lineEnd(bytes, payloadStart);
    }
    items.push({ header: itemHeaderValue, payload: bytes.subarray(Math.min(payloadStart, bytes.length), payloadEnd), offset });
    pos = payloadEnd + 1;
  }
  return { header, items };
}

/**
 * The `event` item of an envelope: the error event the Sentry event reader takes. Throws
 * NO_FAILURE_IN_ALERT when there is none (naming the item types present: a `transaction` or
 * `session` item alone reports no exception) and INVALID_INPUT for more than one.
 */
export function sentryEventItem(envelope: SentryEnvelope): SentryEnvelopeItem {
  const events = envelope.items.filter((item) => item.header.type === 'event');
  const [event, second] = events;
  if (event === undefined) {
    const types = [...new Set(envelope.items.map((item) => item.header.type))].slice(0, 20);
    throw envelopeError('no-event', `the Sentry envelope has no "event" item (it has ${types.length === 0 ? 'no items' : `items of type ${types.join(', ')}`}); only error events describe a failure`, 0);
  }
  if (second !== undefined) throw envelopeError('several-events', `the Sentry envelope has ${events.length} "event" items; an envelope carries at most one`, second.offset, envelope.items.indexOf(second));
  return event;
}

/** Parses the event item's payload as JSON (INVALID_INPUT naming the item's offset when it is not). */
export function sentryEventOfEnvelope(bytes: Uint8Array): unknown {
  const item = sentryEventItem(parseSentryEnvelope(bytes));
  try {
    return JSON.parse(utf8.decode(item.payload)) as unknown;
  } catch (error) {
    throw envelopeError('event-json', `the event item at byte ${item.offset} is not valid JSON: ${String((error as Error).message).slice(0, 200)}`, item.offset);
  }
}
