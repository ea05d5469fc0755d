// Replay inputs read from the corpus's alerts: real services recorded under the stock OpenTelemetry SDK
// (fixtures/corpus), where what a replay needs sits where those services' own code put it.
import type { FailureEnvelope } from '@tracemend/contracts';
import { readIncidentAlert } from '@tracemend/corpus';
import { describe, expect, it } from 'vitest';
import { buildEnvelope } from './envelope';

const receivedAt = '2026-12-01T12:00:00.000Z';

async function envelopeOf(id: string): Promise<FailureEnvelope> {
  const alert = await readIncidentAlert(id);
  return buildEnvelope({
    traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: alert.traces },
    logs: [{ source: { alertId: 'b'.repeat(64), format: 'otlp-logs-json', receivedAt }, body: alert.logs }],
  });
}

describe('a queue-triggered Lambda whose event was not recorded but whose message was (payouts-amount-string)', () => {
  it('replays the message its SQS consumer span processed, with the id the failing log names', async () => {
    const envelope = await envelopeOf('payouts-amount-string');
    expect(envelope.entry).toMatchObject({
      kind: 'message',
      module: '',
      topic: 'payouts',
      system: 'aws_sqs',
      envelope: 'sqs-record',
      messageId: '3b1f0c2a-7d4e-4f5a-9c8b-1e2d3c4b5a69',
      payload: { payoutId: 'po_01JD8K2M', partnerId: 'harbour-kayaks', amount: '1840.00', currency: 'eur', period: '2026-11' },
    });
    const inputs = envelope.provenance.inputs ?? [];
    const payload = inputs.find((input) => input.path === 'entry.payload');
    expect(payload?.signal).toBe('log-record');
    expect(payload?.source).toMatch(/^message of log record/);
    expect(inputs.find((input) => input.path === 'entry.messageId')).toMatchObject({ signal: 'log-record' });
    expect(envelope.provenance.notes.some((note) => note.includes('invocation event') && note.includes('was not recorded; the message'))).toBe(true);
  });
});

describe('a downstream answer logged by the code that awaited it (shipping-quotes-single-rate)', () => {
  it('serves the body the carrier client logged on the client span\'s parent, naming the URL, not a guess', async () => {
    const envelope = await envelopeOf('shipping-quotes-single-rate');
    expect(envelope.downstream).toHaveLength(1);
    const [call] = envelope.downstream;
    expect(call).toMatchObject({ method: 'POST', url: 'http://rates.parcelnet.internal:8443/v2/rates', status: 200 });
    expect(call?.guessed).toBeUndefined();
    expect(call?.responseBody).toEqual({
      rateReply: {
        lane: { from: 'DE', to: 'IS' },
        rates: { serviceCode: 'INTL-ECO', serviceName: 'International Economy', totalCharge: { value: '38.40', currency: 'EUR' }, transitDays: 6 },
      },
    });
    const body = (envelope.provenance.inputs ?? []).find((input) => input.path === 'downstream[0].responseBody');
    expect(body?.signal).toBe('log-record');
    expect(body?.source).toContain('the span that made the call');
  });
});

describe('a feature-flagged path (notify-fanout-throttle-flag)', () => {
  it('reads the flag from its feature_flag.evaluation event and the SNS event from the handler\'s log', async () => {
    const envelope = await envelopeOf('notify-fanout-throttle-flag');
    expect(envelope.environment.featureFlags).toEqual({ 'notify.channel-throttle': true });
    expect(envelope.entry).toMatchObject({ kind: 'function', eventShape: 'sns', trigger: 'pubsub' });
  });
});
