import { TracemendError } from '@tracemend/contracts';
import { ORDERS_APP_ROOT, SENTRY_CAPTURE_TRACE, captureOrdersSentryEnvelope, type CapturedSentryEnvelope } from '@tracemend/fixture-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildEnvelopeFromSentryEvent } from './sentry';
import { parseSentryEnvelope, sentryEventItem, sentryEventOfEnvelope, type SentryEnvelopeProblem } from './sentry-envelope';

const ATTACHMENT = new Uint8Array([0x00, 0x0a, 0xff, 0x0a, 0x7b, 0x0a]);
let plain: CapturedSentryEnvelope;
let withAttachment: CapturedSentryEnvelope;

beforeAll(async () => {
  plain = await captureOrdersSentryEnvelope();
  withAttachment = await captureOrdersSentryEnvelope({ attachment: { filename: 'cart.bin', data: ATTACHMENT } });
});

function refusal(read: () => unknown): TracemendError {
  try {
    read();
  } catch (error) {
    if (error instanceof TracemendError) return error;
    throw error;
  }
  throw new Error('the envelope was accepted; expected a TracemendError');
}

function expectProblem(read: () => unknown, problem: SentryEnvelopeProblem, message: string | RegExp): TracemendError {
  const error = refusal(read);
  expect(error.details?.problem).toBe(problem);
  expect(error.message).toMatch(message);
  return error;
}

const source = { alertId: 'f'.repeat(64), format: 'sentry-envelope' as const, receivedAt: '2026-12-04T12:00:00.000Z' };
const lines = (...parts: string[]) => Buffer.from(parts.join('\n'));

describe('Sentry envelopes from the Sentry client', () => {
  it('reads the envelope the client sent and its event item', () => {
    expect(plain.path).toMatch(/^\/api\/4507\/envelope\/\?/);
    const envelope = parseSentryEnvelope(plain.envelope);
    expect(envelope.header).toMatchObject({ event_id: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown, trace: { trace_id: SENTRY_CAPTURE_TRACE.traceId } });
    expect(envelope.items.map((item) => item.header.type)).toEqual(['event']);
  });

  it('frames a binary attachment by its length, newlines and all, and still finds the event', () => {
    const envelope = parseSentryEnvelope(withAttachment.envelope);
    expect(envelope.items.map((item) => item.header.type)).toEqual(['event', 'attachment']);
    const attachment = envelope.items[1];
    expect(attachment?.header).toMatchObject({ length: ATTACHMENT.length, filename: 'cart.bin' });
    expect(Buffer.from(attachment?.payload ?? []).equals(Buffer.from(ATTACHMENT))).toBe(true);
    expect(sentryEventItem(envelope).header.type).toBe('event');
  });

  it('builds the same FailureEnvelope as the Sentry event it carries', () => {
    const event = sentryEventOfEnvelope(withAttachment.envelope);
    const fromEnvelope = buildEnvelopeFromSentryEvent(event, source, [ORDERS_APP_ROOT]);
    const fromEvent = buildEnvelopeFromSentryEvent(JSON.parse(Buffer.from(sentryEventItem(parseSentryEnvelope(withAttachment.envelope)).payload).toString('utf8')), { ...source, format: 'sentry-event' }, [ORDERS_APP_ROOT]);
    expect(fromEnvelope).toEqual({ ...fromEvent, provenance: { ...fromEvent.provenance, sources: [{ ...source, items: 1 }] } });
    expect(fromEnvelope.identity).toMatchObject({ service: 'orders-api', version: '1.4.2', environment: 'production', traceId: SENTRY_CAPTURE_TRACE.traceId });
    expect(fromEnvelope.symptom.errorType).toBe('TypeError');
    expect(fromEnvelope.symptom.frames.filter((frame) => frame.inApp).map((frame) => `${frame.function}@${frame.file}`)).toContain('orderTotal@app/orders.ts');
    expect(fromEnvelope.entry).toMatchObject({ kind: 'http', method: 'POST', path: '/v1/orders' });
  });

  it('refuses every cut of the attachment envelope inside the attachment as a length mismatch', () => {
    const bytes = withAttachment.envelope;
    for (let cut = bytes.length - ATTACHMENT.length; cut < bytes.length; cut += 1) {
      expectProblem(() => parseSentryEnvelope(bytes.subarray(0, cut)), 'length', /declares 6 payload bytes but only \d remain; was the envelope cut off\?/);
    }
  });
});

describe('parseSentryEnvelope', () => {
  it('accepts an implicit-length item at the end without a newline, blank lines and a trailing newline', () => {
    const envelope = parseSentryEnvelope(lines('{}', '{"type":"session"}', '{"sid":"1"}', '', '{"type":"event","length":2}', '{}', ''));
    expect(envelope.items.map((item) => [item.header.type, Buffer.from(item.payload).toString()])).toEqual([
      ['session', '{"sid":"1"}'],
      ['event', '{}'],
    ]);
    expect(parseSentryEnvelope(lines('{"event_id":"x"}', '{"type":"event"}', '{"a":1}')).items[0]?.payload.length).toBe(7);
  });

  it('refuses an envelope header that is not a JSON object', () => {
    expectProblem(() => parseSentryEnvelope(lines('{"event_id":', '{"type":"event"}', '{}')), 'header-json', /^the envelope header at byte 0 is not valid JSON: /);
    expectProblem(() => parseSentryEnvelope(lines('[1]', '{"type":"event"}', '{}')), 'header-json', 'the envelope header at byte 0 is not a JSON object');
    expectProblem(() => parseSentryEnvelope(Buffer.from([0x7b, 0xff, 0x7d])), 'header-json', /not valid JSON/);
  });

  it('refuses an item header that is not JSON, has no type or a bad length', () => {
    expectProblem(() => parseSentryEnvelope(lines('{}', 'type=event', '{}')), 'item-header-json', /^the header of item 0 at byte 3 is not valid JSON/);
    expectProblem(() => parseSentryEnvelope(lines('{}', '{"length":2}', '{}')), 'item-type', 'item 0 (byte 3) has no "type" in its header');
    expectProblem(() => parseSentryEnvelope(lines('{}', '{"type":"event","length":-1}', '{}')), 'length', /declares length -1/);
  });

  it('refuses a payload longer than its declared length', () => {
    expectProblem(() => parseSentryEnvelope(lines('{}', '{"type":"event","length":2}', '{"a":1}')), 'length', 'item 0 (event, byte 3) declares 2 payload bytes but its payload goes on past them (no newline at byte 33)');
  });

  it('stops at the item limit', () => {
    const many = Buffer.concat([Buffer.from('{}\n'), Buffer.from('{"type":"client_report"}\n{}\n'.repeat(1_001))]);
    expectProblem(() => parseSentryEnvelope(many), 'too-many-items', 'the envelope has more than 1000 items');
  });
});

describe('sentryEventOfEnvelope', () => {
  it('names the item types when there is no event item', () => {
    const error = expectProblem(() => sentryEventOfEnvelope(lines('{}', '{"type":"transaction"}', '{}', '{"type":"session"}', '{}')), 'no-event', 'the Sentry envelope has no "event" item (it has items of type transaction, session); only error events describe a failure');
    expect(error.code).toBe('NO_FAILURE_IN_ALERT');
    expectProblem(() => sentryEventOfEnvelope(lines('{}')), 'no-event', /it has no items/);
  });

  it('refuses two event items and an event payload that is not JSON', () => {
    expectProblem(() => sentryEventOfEnvelope(lines('{}', '{"type":"event"}', '{}', '{"type":"event"}', '{}')), 'several-events', 'the Sentry envelope has 2 "event" items; an envelope carries at most one');
    const error = expectProblem(() => sentryEventOfEnvelope(lines('{}', '{"type":"event"}', '{"exception":')), 'event-json', /^the event item at byte 3 is not valid JSON/);
    expect(error.code).toBe('INVALID_INPUT');
  });
});
