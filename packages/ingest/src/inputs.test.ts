import { readFile } from 'node:fs/promises';
import type { FailureEnvelope } from '@tracemend/contracts';
import { recordingPaths, type RecordingName } from '@tracemend/fixture-kit';
import { describe, expect, it } from 'vitest';
import { inferredResponseBody } from './downstream';
import { buildEnvelope } from './envelope';
import { eventShapeOf } from './faas';
import type { OtlpLogs, OtlpSpan, OtlpTraces } from './otlp';

const receivedAt = '2026-11-20T12:00:00.000Z';

async function recording(name: RecordingName): Promise<{ traces: OtlpTraces; logs: OtlpLogs }> {
  const paths = recordingPaths(name);
  return { traces: JSON.parse(await readFile(paths.traces, 'utf8')) as OtlpTraces, logs: JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs };
}

function build(traces: OtlpTraces, logs?: OtlpLogs): FailureEnvelope {
  return buildEnvelope({
    traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: traces },
    ...(logs ? { logs: [{ source: { alertId: 'b'.repeat(64), format: 'otlp-logs-json', receivedAt }, body: logs }] } : {}),
  });
}

async function envelopeOf(name: RecordingName, options: { logs?: boolean } = {}): Promise<FailureEnvelope> {
  const { traces, logs } = await recording(name);
  return build(traces, options.logs === false ? undefined : logs);
}

function spanId(envelope: FailureEnvelope, predicate: (span: FailureEnvelope['spans'][number]) => boolean): string {
  const span = envelope.spans.find(predicate);
  if (span === undefined) throw new Error('expected the span in the excerpt');
  return span.spanId;
}

function spansOf(traces: OtlpTraces): OtlpSpan[] {
  return (traces.resourceSpans ?? []).flatMap((resource) => (resource.scopeSpans ?? []).flatMap((scope) => scope.spans ?? []));
}

const CHECKOUT_BODY = {
  customer: 'cus_9Kd3PqR7',
  items: [
    { sku: 'LAMP-7', quantity: 1 },
    { sku: 'DESK-19', quantity: 2 },
  ],
};

describe('HTTP request bodies where stock instrumentation records them', () => {
  it('http.request.body.content set at the end of the request: the exact entry, calls and provenance', async () => {
    const envelope = await envelopeOf('shop-attribute');
    const server = spanId(envelope, (span) => span.kind === 'server');
    expect(envelope.entry).toEqual({
      kind: 'http',
      method: 'POST',
      route: '/v1/carts/c_5521/checkout',
      path: '/v1/carts/c_5521/checkout',
      query: { currency: 'EUR' },
      headers: { 'content-type': 'application/json', 'x-request-id': '7f3e2a10-4b5c-4d6e-8f90-a1b2c3d4e5f6' },
      body: CHECKOUT_BODY,
    });
    expect(envelope.downstream.map(({ durationMs: _durationMs, ...call }) => call)).toEqual([
      {
        method: 'GET',
        urlTemplate: '/v1/stock/LAMP-7',
        url: 'http://inventory.internal:8080/v1/stock/LAMP-7',
        status: 200,
        responseHeaders: { 'content-type': 'application/json' },
        responseBody: { sku: 'LAMP-7', available: 12 },
      },
      {
        method: 'GET',
        urlTemplate: '/v1/stock/DESK-19',
        url: 'http://inventory.internal:8080/v1/stock/DESK-19',
        status: 200,
        responseHeaders: { 'content-type': 'application/json' },
        responseBody: { sku: 'DESK-19', available: 12 },
      },
      // fetch (undici) records no body: the replay answers one inferred from the status.
      { method: 'GET', urlTemplate: '/v1/prices', url: 'http://pricing.internal:8080/v1/prices?currency=EUR', status: 200, responseHeaders: {}, responseBody: {}, guessed: true },
    ]);
    const [stock1, stock2, prices] = ['/v1/stock/LAMP-7', '/v1/stock/DESK-19', '/v1/prices'].map((path) =>
      spanId(envelope, (span) => span.kind === 'client' && String(span.attributes['url.full']).includes(path)),
    );
    expect(envelope.provenance.inputs).toEqual([
      { path: 'entry.method', signal: 'span-attribute', source: `attribute http.request.method on span ${server}` },
      { path: 'entry.path', signal: 'span-attribute', source: `attribute url.path on span ${server}` },
      { path: 'entry.route', signal: 'inferred', source: 'no http.route was recorded; the path stands in', guessed: true },
      { path: 'entry.body', signal: 'span-attribute', source: `attribute http.request.body.content on span ${server} ("POST")` },
      { path: 'entry.query', signal: 'span-attribute', source: `attribute url.query on span ${server}` },
      { path: 'entry.headers', signal: 'span-attribute', source: `attributes http.request.header.* on span ${server}` },
      { path: 'downstream[0].responseBody', signal: 'span-event', source: `event http.response.body (http.response.body.content) on span ${stock1} ("GET")` },
      { path: 'downstream[1].responseBody', signal: 'span-event', source: `event http.response.body (http.response.body.content) on span ${stock2} ("GET")` },
      { path: 'downstream[2].responseBody', signal: 'inferred', source: `inferred from status 200: no body was recorded on span ${prices}`, guessed: true },
    ]);
    expect(envelope.provenance.notes).toEqual([
      'no response body was recorded for GET http://pricing.internal:8080/v1/prices?currency=EUR (looked for attributes http.response.body.content, http.response.body, span events http.response.body and tracemend.response, log records of the span, or of the span that made the call naming its URL, with http.response.body, res.body, response.body); the replay answers {} inferred from status 200 (guessed)',
    ]);
  });

  it.each([
    ['shop-sentry', 'span-attribute', 'attribute http.request.body.data on span'],
    ['shop-event', 'span-event', 'event http.request.body (http.request.body.content) on span'],
    ['shop-pino', 'log-record', 'req.body of log record 1 of span'],
    ['shop-winston', 'log-record', 'request.body of log record 1 of span'],
  ] as const)('%s: the body and where it came from', async (name, signal, source) => {
    const envelope = await envelopeOf(name);
    const server = spanId(envelope, (span) => span.kind === 'server');
    expect(envelope.entry).toMatchObject({ kind: 'http', method: 'POST', body: CHECKOUT_BODY });
    expect(envelope.provenance.inputs?.find((input) => input.path === 'entry.body')).toEqual({ path: 'entry.body', signal, source: expect.stringContaining(`${source} ${server}`) as string });
  });

  it('a POST whose body no signal carried: the envelope is built and a note lists what was looked for and where', async () => {
    const envelope = await envelopeOf('shop-pino', { logs: false });
    const server = spanId(envelope, (span) => span.kind === 'server');
    expect(envelope.entry.kind).toBe('http');
    expect(envelope.entry).not.toHaveProperty('body');
    expect(envelope.provenance.inputs?.some((input) => input.path === 'entry.body')).toBe(false);
    expect(envelope.provenance.notes).toContain(
      `entry.body (the request body of POST /v1/carts/c_5521/checkout) was not recorded; looked for attributes http.request.body.content, http.request.body.data, http.request.body on span ${server}; span events http.request.body (attribute http.request.body.content, else body); log records of the trace naming the span or no span with http.request.body, req.body, request.body, body; tracemend.input events (tracemend.input.body). The replay sends no body; see docs/instrumenting.md`,
    );
  });

  it('two sources that disagree: the precedence decides and a note names both', async () => {
    const { traces, logs } = await recording('shop-attribute');
    const server = spansOf(traces).find((span) => span.kind === 2);
    if (server === undefined) throw new Error('expected the server span');
    server.events = [...(server.events ?? []), { name: 'tracemend.input', attributes: [{ key: 'tracemend.input.body', value: { stringValue: '{"customer":"cus_other","items":[]}' } }] }];
    const envelope = build(traces, logs);
    expect(envelope.entry).toMatchObject({ body: CHECKOUT_BODY });
    expect(envelope.provenance.notes).toContain(
      `entry.body: attribute http.request.body.content on span ${server.spanId} ("POST") and event tracemend.input (tracemend.input.body) disagree; attribute http.request.body.content on span ${server.spanId} ("POST") is used (the precedence in docs/instrumenting.md)`,
    );
  });

  it('a legacy tracemend.input event is one source among the others, used when nothing else carried the body', async () => {
    const { traces } = await recording('shop-pino');
    const server = spansOf(traces).find((span) => span.kind === 2);
    if (server === undefined) throw new Error('expected the server span');
    server.events = [...(server.events ?? []), { name: 'tracemend.input', attributes: [{ key: 'tracemend.input.body', value: { stringValue: JSON.stringify(CHECKOUT_BODY) } }] }];
    const envelope = build(traces);
    expect(envelope.entry).toMatchObject({ body: CHECKOUT_BODY });
    expect(envelope.provenance.inputs).toContainEqual({ path: 'entry.body', signal: 'span-event', source: 'event tracemend.input (tracemend.input.body)' });
    expect(envelope.provenance.notes.some((note) => note.includes('entry.body'))).toBe(false);
  });
});

describe('FaaS invocations under the aws-lambda instrumentation', () => {
  it('API Gateway v2: a function entry with the event the handler logged and a context from faas.* and cloud.*', async () => {
    const envelope = await envelopeOf('lambda-checkout');
    const invocation = spanId(envelope, (span) => span.kind === 'server');
    const entry = envelope.entry;
    if (entry.kind !== 'function') throw new Error(`expected a function entry, got ${entry.kind}`);
    expect({ ...entry, args: [] }).toEqual({ kind: 'function', module: '', export: 'handler', args: [], trigger: 'http', eventShape: 'api-gateway-v2' });
    expect(entry.args[0]).toMatchObject({
      version: '2.0',
      routeKey: 'POST /orders',
      requestContext: { http: { method: 'POST', path: '/orders' } },
      body: '{"customer":"cus_4Tg8WmZ2","lines":[{"sku":"MUG-3","quantity":2,"unitPrice":{"amount":1200}},{"sku":"CAP-8","quantity":1}]}',
    });
    expect(entry.args[1]).toEqual({
      awsRequestId: '4c1f9e2a-7b3d-4e8f-9a0b-1c2d3e4f5a6b',
      functionName: 'checkout',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:checkout',
      accountId: '123456789012',
    });
    expect(envelope.provenance.inputs).toEqual([
      { path: 'entry.args[0]', signal: 'log-record', source: `event of log record 1 of span ${invocation}` },
      { path: 'entry.trigger', signal: 'inferred', source: 'inferred from the api-gateway-v2 event shape', guessed: true },
      { path: 'entry.args[1]', signal: 'span-attribute', source: `attributes faas.invocation_id, faas.name, cloud.resource_id, cloud.account.id of span ${invocation} and its resource` },
    ]);
    expect(envelope.symptom.frames[0]).toMatchObject({ file: 'lambda/checkout.cjs', function: 'lineTotal', inApp: true });
  });

  it('SQS: the event from the faas.event attribute, the pubsub trigger the instrumentation recorded', async () => {
    const envelope = await envelopeOf('lambda-orders-queue');
    const invocation = spanId(envelope, (span) => span.kind === 'server');
    const entry = envelope.entry;
    if (entry.kind !== 'function') throw new Error(`expected a function entry, got ${entry.kind}`);
    expect(entry).toMatchObject({ module: '', export: 'handler', trigger: 'pubsub', eventShape: 'sqs' });
    expect(entry.args[0]).toMatchObject({ Records: [{ eventSource: 'aws:sqs', messageId: '5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c', body: '{"orderId":"ord_8812","customer":"cus_4Tg8WmZ2"}' }] });
    expect(envelope.provenance.inputs?.slice(0, 2)).toEqual([
      { path: 'entry.args[0]', signal: 'span-attribute', source: `attribute faas.event on span ${invocation} ("orders-queue")` },
      { path: 'entry.trigger', signal: 'span-attribute', source: `attribute faas.trigger on span ${invocation}` },
    ]);
    // The failing span is the instrumentation's SQS CONSUMER span beneath the invocation; the handler still takes the event.
    expect(envelope.spans.find((span) => span.spanId === envelope.identity.spanId)?.kind).toBe('consumer');
  });

  it('a timer trigger with no recorded event: a scheduled event synthesized from the recorded time, marked guessed', async () => {
    const envelope = await envelopeOf('lambda-nightly-report');
    const entry = envelope.entry;
    if (entry.kind !== 'function') throw new Error(`expected a function entry, got ${entry.kind}`);
    expect(entry).toMatchObject({ trigger: 'timer', eventShape: 'scheduled' });
    expect(entry.args[0]).toEqual({
      version: '0',
      id: '4c1f9e2a-7b3d-4e8f-9a0b-3e4f5a6b7c8d',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-11-20T09:15:02Z',
      region: 'eu-west-1',
      resources: [],
      detail: {},
    });
    expect(envelope.provenance.inputs?.[0]).toEqual({ path: 'entry.args[0]', signal: 'inferred', source: 'a scheduled event synthesized for the timer trigger at 2026-11-20T09:15:02.123Z', guessed: true });
  });

  it('an HTTP-triggered invocation whose event no signal carried: a null event and a note naming what was looked for', async () => {
    const envelope = await envelopeOf('lambda-checkout', { logs: false });
    const invocation = spanId(envelope, (span) => span.kind === 'server');
    const entry = envelope.entry;
    if (entry.kind !== 'function') throw new Error(`expected a function entry, got ${entry.kind}`);
    expect(entry.args[0]).toBeNull();
    expect(entry).not.toHaveProperty('trigger');
    expect(envelope.provenance.notes).toContain(
      `entry.args[0] (the invocation event of span ${invocation}) was not recorded; looked for attributes faas.event, aws.lambda.event on the invocation span; span events faas.event, faas.invocation (attribute faas.event, else event); log records of the invocation with faas.event or event, or whose body is the event. The replay calls the handler with a null event; see docs/instrumenting.md`,
    );
  });

  it('a faas.invocation span event outranks the log record, and their disagreement is noted', async () => {
    const { traces, logs } = await recording('lambda-checkout');
    const invocation = spansOf(traces).find((span) => span.kind === 2);
    if (invocation === undefined) throw new Error('expected the invocation span');
    const event = { version: '2.0', rawPath: '/orders', requestContext: { http: { method: 'POST', path: '/orders' } }, body: '{"customer":"cus_x","lines":[]}' };
    invocation.events = [...(invocation.events ?? []), { name: 'faas.invocation', attributes: [{ key: 'event', value: { stringValue: JSON.stringify(event) } }] }];
    const envelope = build(traces, logs);
    expect(envelope.entry).toMatchObject({ kind: 'function', eventShape: 'api-gateway-v2' });
    expect(envelope.entry.kind === 'function' ? envelope.entry.args[0] : undefined).toEqual(event);
    expect(envelope.provenance.inputs?.[0]).toEqual({ path: 'entry.args[0]', signal: 'span-event', source: `event faas.invocation (event) on span ${invocation.spanId} ("checkout")` });
    expect(envelope.provenance.notes).toContain(
      `entry.args[0]: event faas.invocation (event) on span ${invocation.spanId} ("checkout") and event of log record 1 of span ${invocation.spanId} disagree; event faas.invocation (event) on span ${invocation.spanId} ("checkout") is used (the precedence in docs/instrumenting.md)`,
    );
  });

  it('recognises the event shapes AWS delivers', () => {
    expect(eventShapeOf({ resource: '/orders', path: '/orders', httpMethod: 'POST', requestContext: { stage: 'prod' }, body: '{}' })).toBe('api-gateway-v1');
    expect(eventShapeOf({ version: '2.0', routeKey: '$default', requestContext: { http: { method: 'GET' } } })).toBe('api-gateway-v2');
    expect(eventShapeOf({ Records: [{ eventSource: 'aws:sqs', body: '{}' }] })).toBe('sqs');
    expect(eventShapeOf({ Records: [{ EventSource: 'aws:sns', Sns: { Message: '{}' } }] })).toBe('sns');
    expect(eventShapeOf({ 'detail-type': 'Order Placed', source: 'acme.orders', detail: { id: 1 } })).toBe('eventbridge');
    expect(eventShapeOf({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} })).toBe('scheduled');
    expect(eventShapeOf({ orderId: 'x' })).toBe('raw');
    expect(eventShapeOf('text')).toBe('raw');
  });
});

describe('queue consumers', () => {
  it('Kafka: topic, system, key, id from messaging.* and the payload and headers the consumer logged', async () => {
    const envelope = await envelopeOf('stock-consumer');
    const consumer = spanId(envelope, (span) => span.kind === 'consumer');
    expect(envelope.entry).toEqual({
      kind: 'message',
      module: '',
      export: 'handler',
      topic: 'stock.adjustments',
      payload: { sku: 'DESK-19', warehouse: 'AMS-1' },
      system: 'kafka',
      envelope: 'kafka',
      key: 'DESK-19',
      messageId: 'stock.adjustments-3-18734',
      headers: { 'x-source': 'warehouse-app' },
    });
    expect(envelope.provenance.inputs).toEqual([
      { path: 'entry.payload', signal: 'log-record', source: `payload of log record 1 of span ${consumer}` },
      { path: 'entry.topic', signal: 'span-attribute', source: `attribute messaging.destination.name on span ${consumer}` },
      { path: 'entry.headers', signal: 'log-record', source: `headers of log record 1 of span ${consumer}` },
      { path: 'entry.system', signal: 'span-attribute', source: `attribute messaging.system on span ${consumer}` },
      { path: 'entry.key', signal: 'span-attribute', source: `attribute messaging.kafka.message.key on span ${consumer}` },
      { path: 'entry.messageId', signal: 'span-attribute', source: `attribute messaging.message.id on span ${consumer}` },
    ]);
  });

  it('a consumer whose payload no signal carried: an empty message and a note naming what was looked for', async () => {
    const envelope = await envelopeOf('stock-consumer', { logs: false });
    const consumer = spanId(envelope, (span) => span.kind === 'consumer');
    expect(envelope.entry).toMatchObject({ kind: 'message', payload: null, topic: 'stock.adjustments' });
    expect(envelope.provenance.notes).toContain(
      `entry.payload (the message of span ${consumer}) was not recorded; looked for attributes messaging.message.body, messaging.message.payload on the consumer span; span events messaging.message (attribute messaging.message.body, else body); log records of that span with messaging.message.body, payload, message; tracemend.input events (tracemend.input.payload). The replay delivers an empty message; see docs/instrumenting.md`,
    );
  });
});

describe('what the privacy gate gets to govern', () => {
  it('every span event reaches the excerpt, and structured log attributes survive as JSON text', async () => {
    const { traces } = await recording('shop-pino');
    const envelope = await envelopeOf('shop-pino');
    const recordedEvents = spansOf(traces).flatMap((span) => (span.events ?? []).map((event) => `${span.spanId}:${event.name}`));
    const excerptEvents = envelope.spans.flatMap((span) => (span.events ?? []).map((event) => `${span.spanId}:${event.name}`));
    expect(excerptEvents.sort()).toEqual(recordedEvents.sort());
    expect(excerptEvents.filter((event) => event.endsWith(':http.response.body'))).toHaveLength(2);
    const failing = envelope.spans.find((span) => span.spanId === envelope.identity.spanId);
    expect(failing?.events?.find((event) => event.name === 'exception')?.attributes['exception.type']).toBe('TypeError');
    const logged = envelope.logs.find((log) => log.body === 'checkout request');
    expect(JSON.parse(String(logged?.attributes.req))).toEqual({ method: 'POST', url: '/v1/carts/c_5521/checkout?currency=EUR', body: CHECKOUT_BODY });
  });

  it('a response body logged on the client span is served instead of a guess', async () => {
    const { traces, logs } = await recording('shop-attribute');
    const pricing = spansOf(traces).find((span) => span.kind === 3 && JSON.stringify(span.attributes).includes('/v1/prices'));
    if (pricing === undefined) throw new Error('expected the pricing call');
    const prices = { 'LAMP-7': { amount: 4999, currency: 'EUR' } };
    const records = logs.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords ?? [];
    records.push({ traceId: pricing.traceId, spanId: pricing.spanId, severityNumber: 9, body: { stringValue: 'pricing answered' }, attributes: [{ key: 'res', value: { kvlistValue: { values: [{ key: 'body', value: { stringValue: JSON.stringify(prices) } }] } } }] });
    const envelope = build(traces, logs);
    const call = envelope.downstream.find((item) => item.urlTemplate === '/v1/prices');
    expect(call).toMatchObject({ responseBody: prices });
    expect(call).not.toHaveProperty('guessed');
    const index = envelope.downstream.indexOf(call as (typeof envelope.downstream)[number]);
    expect(envelope.provenance.inputs).toContainEqual({ path: `downstream[${index}].responseBody`, signal: 'log-record', source: expect.stringMatching(new RegExp(`^res\\.body of log record \\d+ of span ${pricing.spanId}$`)) as string });
  });

  it('an AWS SDK call is served through the HTTP client span beneath it, without a note', async () => {
    const { traces, logs } = await recording('shop-attribute');
    const isPricing = (span: OtlpSpan) => span.kind === 3 && JSON.stringify(span.attributes).includes('/v1/prices');
    const spans = (traces.resourceSpans?.[0]?.scopeSpans ?? []).find((scope) => scope.spans?.some(isPricing))?.spans ?? [];
    const pricing = spans.find(isPricing);
    if (pricing === undefined) throw new Error('expected the pricing call');
    const rpcId = 'f00dfacecafe0001';
    spans.push({ ...pricing, spanId: rpcId, name: 'DynamoDB.GetItem', attributes: [{ key: 'rpc.system', value: { stringValue: 'aws-api' } }, { key: 'rpc.service', value: { stringValue: 'DynamoDB' } }, { key: 'rpc.method', value: { stringValue: 'GetItem' } }], events: [] });
    pricing.parentSpanId = rpcId;
    const envelope = build(traces, logs);
    expect(envelope.downstream.map((call) => call.urlTemplate)).toContain('/v1/prices');
    expect(envelope.provenance.notes.some((note) => note.includes('DynamoDB.GetItem'))).toBe(false);
  });

  it('a body inferred from a status: none for 204 and 304, an empty object for success, the reason phrase for failures', () => {
    expect(inferredResponseBody(204)).toBeUndefined();
    expect(inferredResponseBody(304)).toBeUndefined();
    expect(inferredResponseBody(201)).toEqual({});
    expect(inferredResponseBody(404)).toEqual({ error: 'Not Found' });
    expect(inferredResponseBody(503)).toEqual({ error: 'Service Unavailable' });
  });
});
