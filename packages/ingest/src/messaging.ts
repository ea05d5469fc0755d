// A queue consumer's message as a message entry: topic, system, key, id and headers from the
// `messaging.*` attributes, the payload from where instrumentation or the consumer recorded it.
import { LIMITS, type MessageEntry } from '@tracemend/contracts';
import type { IndexedSpan } from './causal';
import { fieldAt, fromAttributes, fromEvents, fromRecords, missingNote, pick, text, type Found, type InputTrail, type JoinedRecord } from './inputs';
import { spanKindName, type JsonValue } from './otlp';

type Envelope = NonNullable<MessageEntry['envelope']>;

/** True for a span that processes or receives a message (CONSUMER, or `messaging.*` with such an operation). */
export function isConsumerSpan(item: IndexedSpan): boolean {
  if (spanKindName(item.span.kind) === 'consumer') return true;
  const operation = text(item.attributes['messaging.operation.type']) ?? text(item.attributes['messaging.operation']);
  return item.attributes['messaging.system'] !== undefined && (operation === 'process' || operation === 'receive' || operation === 'deliver');
}

const ENVELOPES: Record<string, Envelope> = { aws_sqs: 'sqs-record', aws_sns: 'sns', kafka: 'kafka' };

const PAYLOAD_ATTRIBUTES = ['messaging.message.body', 'messaging.message.payload'] as const;
const PAYLOAD_RECORD_FIELDS = ['messaging.message.body', 'payload', 'message'] as const;
const MESSAGE_ID_FIELDS = ['messaging.message.id', 'messageId', 'message_id'] as const;
const HEADER_PREFIXES = ['messaging.message.header.', 'messaging.kafka.message.header.'] as const;

function headersOf(value: JsonValue | undefined): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value).slice(0, LIMITS.records).map(([key, item]) => [key.slice(0, LIMITS.shortText), (typeof item === 'string' ? item : JSON.stringify(item)).slice(0, LIMITS.text)] as const);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/**
 * The message entry of a consumer span. `legacy` is a `tracemend.input` event's attributes, one source
 * among the others. The handler is left for the catalog's `messageHandler` unless that event names it.
 */
export function messageEntry(consumer: IndexedSpan | undefined, own: readonly IndexedSpan[], records: readonly JoinedRecord[], legacy: { found: Found[]; attributes: Record<string, JsonValue> }, trail: InputTrail): MessageEntry {
  const a = consumer?.attributes ?? {};
  const spanIds = new Set((consumer ? [consumer, ...own] : own).map((item) => item.id));
  const payloadRecords = fromRecords(records, spanIds, PAYLOAD_RECORD_FIELDS);
  const found = pick(trail, 'entry.payload', [
    ...fromAttributes(consumer, PAYLOAD_ATTRIBUTES),
    ...fromEvents(consumer ? [consumer] : [], ['messaging.message'], ['messaging.message.body', 'body']),
    ...payloadRecords,
    ...legacy.found,
  ]);
  if (found === undefined) {
    trail.notes.push(
      missingNote(
        `entry.payload (the message of ${consumer ? `span ${consumer.id}` : 'the consumer'})`,
        [
          `attributes ${PAYLOAD_ATTRIBUTES.join(', ')} on the consumer span`,
          'span events messaging.message (attribute messaging.message.body, else body)',
          `log records of that span with ${PAYLOAD_RECORD_FIELDS.join(', ')}`,
          'tracemend.input events (tracemend.input.payload)',
        ],
        'The replay delivers an empty message',
      ),
    );
  }
  const topic = text(a['messaging.destination.name']) ?? text(legacy.attributes['tracemend.input.topic']);
  if (topic !== undefined) trail.inputs.push({ path: 'entry.topic', signal: a['messaging.destination.name'] !== undefined ? 'span-attribute' : 'span-event', source: a['messaging.destination.name'] !== undefined ? `attribute messaging.destination.name on span ${consumer?.id ?? ''}` : 'event tracemend.input (tracemend.input.topic)' });
  const system = text(a['messaging.system']);
  const key = text(a['messaging.kafka.message.key']) ?? text(a['messaging.rabbitmq.destination.routing_key']);
  // The record that carried the payload often names the message beside it.
  const messageId = text(a['messaging.message.id']) ?? (found?.record ? MESSAGE_ID_FIELDS.map((field) => text(fieldAt(found.record?.fields ?? {}, field))).find((id) => id !== undefined) : undefined);
  let headers: Record<string, string> | undefined;
  for (const prefix of HEADER_PREFIXES) {
    const fromSpan = Object.fromEntries(Object.entries(a).flatMap(([name, value]) => (name.startsWith(prefix) && text(value) !== undefined ? [[name.slice(prefix.length), text(value) as string]] : [])));
    if (Object.keys(fromSpan).length > 0) {
      headers = headersOf(fromSpan);
      trail.inputs.push({ path: 'entry.headers', signal: 'span-attribute', source: `attributes ${prefix}* on span ${consumer?.id ?? ''}` });
      break;
    }
  }
  if (headers === undefined && found?.record) {
    // The record that carried the payload often carries the message headers beside it.
    headers = headersOf(fieldAt(found.record.fields, 'headers'));
    if (headers) trail.inputs.push({ path: 'entry.headers', signal: found.record.signal, source: `headers of ${found.record.label}` });
  }
  for (const [path, attribute, value] of [
    ['entry.system', 'messaging.system', system],
    ['entry.key', key === text(a['messaging.kafka.message.key']) ? 'messaging.kafka.message.key' : 'messaging.rabbitmq.destination.routing_key', key],
  ] as const) {
    if (value !== undefined) trail.inputs.push({ path, signal: 'span-attribute', source: `attribute ${attribute} on span ${consumer?.id ?? ''}` });
  }
  if (messageId !== undefined) {
    const onSpan = text(a['messaging.message.id']) !== undefined;
    trail.inputs.push({ path: 'entry.messageId', signal: onSpan || !found?.record ? 'span-attribute' : found.record.signal, source: onSpan || !found?.record ? `attribute messaging.message.id on span ${consumer?.id ?? ''}` : `message id of ${found.record.label}` });
  }
  // A handler that named itself in a tracemend.input event recorded the payload as it received it.
  const namedHandler = text(legacy.attributes['tracemend.input.module']) !== undefined;
  const envelope = namedHandler ? 'payload' : system === undefined ? undefined : (ENVELOPES[system] ?? 'payload');
  return {
    kind: 'message',
    module: text(legacy.attributes['tracemend.input.module']) ?? '',
    export: text(legacy.attributes['tracemend.input.export']) ?? 'handler',
    topic: (topic ?? 'unknown').slice(0, LIMITS.shortText),
    payload: found?.value ?? null,
    ...(system ? { system: system.slice(0, 64) } : {}),
    ...(envelope ? { envelope } : {}),
    ...(key ? { key: key.slice(0, LIMITS.text) } : {}),
    ...(messageId ? { messageId: messageId.slice(0, LIMITS.shortText) } : {}),
    ...(headers ? { headers } : {}),
  };
}
