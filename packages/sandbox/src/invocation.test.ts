import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TracemendError, type Entry, type FunctionEntry, type MessageEntry } from '@tracemend/contracts';
import { adaptEvent, eventPayload, invocationOf, lambdaContextFields, resolveEntry } from './invocation';

const at = { service: 'orders', recordedAt: '2026-11-20T10:42:17.503Z' };
const order = { orderId: 'o-1', lines: [{ sku: 'DESK-19', qty: 2 }] };

function faas(overrides: Partial<FunctionEntry> = {}): FunctionEntry {
  return { kind: 'function', module: '', export: 'handler', args: [order, { awsRequestId: 'req-7', functionName: 'orders-worker' }], trigger: 'pubsub', ...overrides };
}

function consumer(overrides: Partial<MessageEntry> = {}): MessageEntry {
  return { kind: 'message', module: '', export: 'handler', topic: 'orders', payload: order, messageId: 'm-1', key: 'o-1', headers: { tenant: 't1' }, ...overrides };
}

function errorOf(run: () => unknown): TracemendError {
  try {
    run();
  } catch (error) {
    if (error instanceof TracemendError) return error;
    throw error;
  }
  throw new Error('expected a TracemendError');
}

describe('resolveEntry', () => {
  it('names the catalog field when neither the entry nor the catalog names the handler', () => {
    const fn = errorOf(() => resolveEntry(faas(), {}, at));
    expect(fn.code).toBe('INVALID_INPUT');
    expect(fn.message).toContain('services.orders.functionHandler');
    expect(errorOf(() => resolveEntry(consumer(), {}, at)).message).toContain('services.orders.messageHandler');
    const http: Entry = { kind: 'http', method: 'GET', route: '/a', path: '/a', query: {}, headers: {} };
    expect(errorOf(() => resolveEntry(http, {}, at)).message).toContain('services.orders.httpApp');
  });

  it("fills the catalog's handler and wraps a raw payload in the SQS event the catalog says the handler expects", () => {
    const resolved = resolveEntry(faas({ eventShape: 'raw' }), { functionHandler: { module: 'src/worker.ts', export: 'handler', event: 'sqs' } }, at);
    if (resolved.kind !== 'function') throw new Error('expected a function entry');
    expect(resolved).toMatchObject({ module: 'src/worker.ts', export: 'handler', eventShape: 'sqs' });
    const event = resolved.args[0] as { Records: Array<Record<string, unknown>> };
    expect(event.Records).toHaveLength(1);
    expect(event.Records[0]).toMatchObject({ eventSource: 'aws:sqs', body: JSON.stringify(order), md5OfBody: createHash('md5').update(JSON.stringify(order)).digest('hex') });
    // The recorded context argument is kept as it was.
    expect(resolved.args[1]).toEqual({ awsRequestId: 'req-7', functionName: 'orders-worker' });
  });

  it('keeps the recorded event when the catalog leaves the shape to the trace, and keeps an entry that names its module', () => {
    const recorded = faas({ eventShape: 'sns' });
    const resolved = resolveEntry(recorded, { functionHandler: { module: 'src/h.ts', export: 'run', event: 'auto' } }, at);
    expect(resolved).toEqual({ ...recorded, module: 'src/h.ts', export: 'run' });
    const named = faas({ module: 'src/own.ts' });
    expect(resolveEntry(named, { functionHandler: { module: 'src/h.ts', export: 'run', event: 'sqs' } }, at)).toBe(named);
  });

  it('takes the envelope from the catalog, else the recorded one, else the payload as is', () => {
    const handler = { module: 'src/consumer.ts', export: 'onMessage' };
    expect(resolveEntry(consumer({ envelope: 'sqs-record' }), { messageHandler: { ...handler, envelope: 'kafka' } }, at)).toMatchObject({ ...handler, envelope: 'kafka' });
    expect(resolveEntry(consumer({ envelope: 'sqs-record' }), { messageHandler: { ...handler, envelope: 'auto' } }, at)).toMatchObject({ envelope: 'sqs-record' });
    expect(resolveEntry(consumer(), { messageHandler: { ...handler, envelope: 'auto' } }, at)).toMatchObject({ envelope: 'payload' });
    // A handler that recorded its own input (module named, no envelope) received the payload itself.
    expect(resolveEntry(consumer({ module: 'src/own.ts' }), { messageHandler: { ...handler, envelope: 'kafka' } }, at)).toMatchObject({ module: 'src/own.ts', envelope: 'payload' });
  });

  it('delivers a queue message to a Lambda the catalog names by functionHandler, inside the event of its queue', () => {
    const sqs = resolveEntry(consumer({ system: 'aws_sqs', envelope: 'sqs-record' }), { functionHandler: { module: 'src/lambda.js', export: 'handler', event: 'auto' } }, at);
    expect(sqs).toMatchObject({ kind: 'function', module: 'src/lambda.js', export: 'handler', trigger: 'pubsub', eventShape: 'sqs' });
    const records = ((sqs as FunctionEntry).args[0] as { Records: Array<Record<string, unknown>> }).Records;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ eventSource: 'aws:sqs', messageId: 'm-1', body: JSON.stringify(order) });
    expect(invocationOf(sqs as FunctionEntry).style).toBe('lambda');
    const sns = resolveEntry(consumer({ system: 'aws_sns', envelope: 'sns' }), { functionHandler: { module: 'src/lambda.js', export: 'handler', event: 'auto' } }, at);
    expect(((sns as FunctionEntry).args[0] as { Records: Array<{ Sns: { Message: string } }> }).Records[0]?.Sns.Message).toBe(JSON.stringify(order));
    // With neither handler the error still names the message handler the catalog lacks.
    expect(errorOf(() => resolveEntry(consumer(), {}, at)).details).toMatchObject({ field: 'messageHandler' });
  });

  it('gives a queue-triggered invocation to a message handler that takes the whole batch', () => {
    const batch = { Records: [{ eventSource: 'aws:sqs', messageId: 'm-1', body: JSON.stringify(order) }] };
    const resolved = resolveEntry(faas({ args: [batch, {}], eventShape: 'sqs' }), { messageHandler: { module: 'src/consumer.js', export: 'handler', envelope: 'sqs-batch' } }, at);
    expect(resolved).toMatchObject({ kind: 'function', module: 'src/consumer.js', export: 'handler', args: [batch, {}] });
    // A handler of single records cannot take the batch: the catalog must name the function handler.
    expect(errorOf(() => resolveEntry(faas({ args: [batch, {}], eventShape: 'sqs' }), { messageHandler: { module: 'src/consumer.js', export: 'handler', envelope: 'sqs-record' } }, at)).details).toMatchObject({ field: 'functionHandler' });
  });

  it('resolves an entry once: resolving a resolved entry again changes nothing', () => {
    // The minimizer and fault localization replay the minimal entry, which the minimize stage resolved already.
    const handlers = { messageHandler: { module: 'src/consumer.ts', export: 'onMessage', envelope: 'kafka' as const } };
    const once = resolveEntry(consumer({ envelope: 'kafka' }), handlers, at);
    expect(once).toMatchObject({ module: 'src/consumer.ts', envelope: 'kafka' });
    expect(resolveEntry(once, handlers, at)).toEqual(once);
    const lambda = resolveEntry(faas({ eventShape: 'sns' }), { functionHandler: { module: 'src/h.ts', export: 'run', event: 'sqs' } }, at);
    expect(resolveEntry(lambda, { functionHandler: { module: 'src/h.ts', export: 'run', event: 'sqs' } }, at)).toEqual(lambda);
  });
});

describe('event shapes', () => {
  it('unwraps every recognised shape to the same payload it wraps', () => {
    for (const shape of ['sqs', 'sns', 'eventbridge', 'scheduled', 'api-gateway-v1', 'api-gateway-v2', 'raw'] as const) {
      const wrapped = adaptEvent(order, 'raw', shape, at);
      expect(eventPayload(wrapped, shape), shape).toEqual(order);
    }
  });

  it('moves a payload from one shape to another and stamps a scheduled event with the recorded time', () => {
    const sns = adaptEvent(order, 'raw', 'sns', at);
    const sqs = adaptEvent(sns, 'sns', 'sqs', at) as { Records: Array<{ body: string }> };
    expect(JSON.parse(sqs.Records[0]?.body ?? '')).toEqual(order);
    expect(adaptEvent(undefined, 'raw', 'scheduled', at)).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-11-20T10:42:17Z', detail: {} });
    const base64 = { body: Buffer.from(JSON.stringify(order)).toString('base64'), isBase64Encoded: true };
    expect(eventPayload(base64, 'api-gateway-v2')).toEqual(order);
  });
});

describe('invocationOf', () => {
  it('calls a FaaS handler with its event and a Lambda context built from the recorded one', () => {
    const entry = faas({ module: 'src/worker.ts' });
    expect(invocationOf(entry)).toEqual({ style: 'lambda', event: order, context: lambdaContextFields(entry) });
    expect(lambdaContextFields(entry)).toMatchObject({
      awsRequestId: 'req-7',
      functionName: 'orders-worker',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:orders-worker',
      memoryLimitInMB: '128',
      logGroupName: '/aws/lambda/orders-worker',
      remainingTimeMs: 30_000,
    });
    // A plain function entry (no trigger, no event shape) keeps its argument list.
    expect(invocationOf({ kind: 'function', module: 'src/a.ts', export: 'f', args: [1, 2] })).toEqual({ style: 'call', args: [1, 2] });
  });

  it('delivers a message in each envelope', () => {
    const base = consumer({ module: 'src/consumer.ts' });
    expect(invocationOf({ ...base, envelope: 'payload' })).toEqual({ style: 'call', args: [order] });
    const batch = invocationOf({ ...base, envelope: 'sqs-batch' });
    expect(batch).toMatchObject({ style: 'call', args: [{ Records: [{ messageId: 'm-1', body: JSON.stringify(order), eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:orders' }] }] });
    const record = invocationOf({ ...base, envelope: 'sqs-record' });
    expect(record).toMatchObject({ style: 'call', args: [{ messageId: 'm-1', messageAttributes: { tenant: { stringValue: 't1', dataType: 'String' } } }] });
    expect(invocationOf({ ...base, envelope: 'sns' })).toMatchObject({ style: 'call', args: [{ Records: [{ Sns: { MessageId: 'm-1', Message: JSON.stringify(order), TopicArn: 'arn:aws:sns:us-east-1:000000000000:orders' } }] }] });
    expect(invocationOf({ ...base, envelope: 'kafka' })).toEqual({
      style: 'kafka',
      payload: { topic: 'orders', partition: 0, message: { key: 'o-1', value: JSON.stringify(order), headers: { tenant: 't1' }, offset: '0', timestamp: '0', attributes: 0 } },
    });
  });
});
