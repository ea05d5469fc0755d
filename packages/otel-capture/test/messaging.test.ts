import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import type { SQSRecord } from 'aws-lambda';
import type { EachMessagePayload, KafkaMessage } from 'kafkajs';
import { beforeEach, describe, expect, it } from 'vitest';
import { captureKafkajs, withKafkaMessage, withSqsRecord } from '../src/index';
import { startTracing } from './tracing';

const tracing = startTracing();
const tracer = tracing.provider.getTracer('test');
beforeEach(() => tracing.exporter.reset());

function kafkaMessage(value: Buffer | null): KafkaMessage {
  return { key: Buffer.from('order-9'), value, timestamp: '1796601600000', attributes: 0, offset: '17', headers: {} };
}

describe('kafkajs', () => {
  it('captureKafkajs fits the instrumentation config and records the message value on the consumer span', () => {
    const hooks = captureKafkajs();
    // Type-checks against the instrumentation's own config type.
    new KafkaJsInstrumentation({ ...hooks, enabled: false }).disable();
    const span = tracer.startSpan('process orders', { kind: SpanKind.CONSUMER });
    const value = Buffer.from('{"sku":"A1","qty":0,"session_id":"s"}');
    hooks.consumerHook(span, { topic: 'orders', message: kafkaMessage(value) });
    span.end();
    const [ended] = tracing.exporter.getFinishedSpans();
    expect(ended?.attributes['messaging.message.body']).toBe('{"sku":"A1","qty":0,"session_id":"[REDACTED]"}');
    expect(ended?.attributes['messaging.message.body.size']).toBe(value.length);
  });

  it('does not record binary values, which are not UTF-8 text', () => {
    const span = tracer.startSpan('process orders', { kind: SpanKind.CONSUMER });
    captureKafkajs().consumerHook(span, { topic: 'orders', message: kafkaMessage(Buffer.from([0xff, 0xfe, 0x00, 0x01])) });
    span.end();
    const [ended] = tracing.exporter.getFinishedSpans();
    expect(ended?.attributes['messaging.message.body']).toBeUndefined();
    expect(ended?.attributes['messaging.message.body.size']).toBe(4);
  });

  it('withKafkaMessage records the value on the active span and passes the payload through', async () => {
    const seen: string[] = [];
    const eachMessage = withKafkaMessage(({ message }: EachMessagePayload) => {
      seen.push(String(message.value));
      return Promise.resolve();
    });
    const payload = { topic: 'orders', partition: 0, message: kafkaMessage(Buffer.from('plain text event')) } as EachMessagePayload;
    await tracer.startActiveSpan('orders process', { kind: SpanKind.CONSUMER }, async (span) => {
      await eachMessage(payload);
      span.end();
    });
    expect(seen).toEqual(['plain text event']);
    expect(tracing.exporter.getFinishedSpans()[0]?.attributes['messaging.message.body']).toBe('plain text event');
  });
});

describe('withSqsRecord', () => {
  const record: SQSRecord = {
    messageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
    receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
    body: JSON.stringify({ orderId: 'o-1', items: [] }),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1796601600000', SenderId: 'AID', ApproximateFirstReceiveTimestamp: '1796601600000' },
    messageAttributes: {},
    md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:orders-queue',
    awsRegion: 'eu-west-1',
  };

  it('runs the processor inside a CONSUMER process span with the standard messaging attributes and the body', async () => {
    const result = await tracer.startActiveSpan('orders-lambda', { kind: SpanKind.SERVER }, async (parent) => {
      const r = await withSqsRecord(record, (r) => (JSON.parse(r.body ?? '') as { orderId: string }).orderId, { tracer });
      parent.end();
      return r;
    });
    expect(result).toBe('o-1');
    const spans = tracing.exporter.getFinishedSpans();
    const process = spans.find((s) => s.kind === SpanKind.CONSUMER);
    const parent = spans.find((s) => s.kind === SpanKind.SERVER);
    expect(process?.name).toBe('process orders-queue');
    expect(process?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(process?.attributes).toMatchObject({
      'messaging.system': 'aws_sqs',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'orders-queue',
      'messaging.message.id': '059f36b4-87a3-44ab-83d2-661975830a7d',
      'messaging.message.body': '{"orderId":"o-1","items":[]}',
    });
  });

  it('records the exception of a failing processor on the span and rethrows it', async () => {
    const sdkMessage = { MessageId: 'm-2', Body: '{"orderId":null}' };
    await expect(
      withSqsRecord(sdkMessage, (r) => (JSON.parse(r.Body ?? '') as { orderId: string }).orderId.toUpperCase(), { tracer, queueName: 'orders-queue' }),
    ).rejects.toThrow(TypeError);
    const [span] = tracing.exporter.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
    expect(span?.attributes['messaging.message.body']).toBe('{"orderId":null}');
    expect(span?.attributes['messaging.message.id']).toBe('m-2');
  });
});
