import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AwsLambdaInstrumentation } from '@opentelemetry/instrumentation-aws-lambda';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context, SQSEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { captureLambda, withLambdaEvent } from '../src/index';
import { startTracing } from './tracing';

// The instrumentation finds the handler the way the Lambda runtime does: task root plus _HANDLER.
const taskRoot = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/lambda');
process.env.LAMBDA_TASK_ROOT = taskRoot;
process.env._HANDLER = 'orders.handler';

const tracing = startTracing();
registerInstrumentations({ tracerProvider: tracing.provider, instrumentations: [new AwsLambdaInstrumentation({ ...captureLambda({ maxBytes: 2048 }) })] });
const { handler } = createRequire(import.meta.url)(join(taskRoot, 'orders.cjs')) as {
  handler: (event: unknown, context: Context) => Promise<APIGatewayProxyResultV2>;
};

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'orders',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders',
    memoryLimitInMB: '128',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    logGroupName: '/aws/lambda/orders',
    logStreamName: '2026/12/07/[$LATEST]abc',
    getRemainingTimeInMillis: () => 3000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function httpApiEvent(body: unknown): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /orders',
    rawPath: '/orders',
    rawQueryString: 'dry=1',
    headers: { 'content-type': 'application/json', authorization: 'Bearer eyJhbGciOi.abc.def' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'POST', path: '/orders', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'curl/8' },
      requestId: 'r1',
      routeKey: 'POST /orders',
      stage: '$default',
      time: '07/Dec/2026:00:00:00 +0000',
      timeEpoch: 1796601600000,
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

beforeEach(() => tracing.exporter.reset());

describe('captureLambda with the aws-lambda instrumentation', () => {
  it('records the API Gateway event as faas.event JSON on the function span, with the authorization header redacted', async () => {
    const event = httpApiEvent({ items: [{ price: 2.5, qty: 2 }] });
    const result = await handler(event, lambdaContext());
    expect(result).toMatchObject({ statusCode: 200, body: '{"total":5}' });

    const [span] = tracing.exporter.getFinishedSpans();
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.attributes['faas.invocation_id'] ?? span?.attributes['faas.execution']).toBe('c6af9ac6-7b61-11e6-9a41-93e8deadbeef');
    const recorded = JSON.parse(String(span?.attributes['faas.event'])) as APIGatewayProxyEventV2;
    expect(recorded).toEqual({ ...event, headers: { 'content-type': 'application/json', authorization: '[REDACTED]' } });
    expect(span?.attributes['faas.event.truncated']).toBeUndefined();
  });

  it('records the event of a failing invocation, whose span carries the exception', async () => {
    const event = httpApiEvent({ customer: 'c-1' });
    await expect(handler(event, lambdaContext())).rejects.toThrow(/reduce/);
    const [span] = tracing.exporter.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect((JSON.parse(String(span?.attributes['faas.event'])) as { body: string }).body).toBe('{"customer":"c-1"}');
  });

  it('records an SQS batch event, capped and marked truncated when it exceeds maxBytes', async () => {
    const event: SQSEvent = {
      Records: Array.from({ length: 6 }, (_, i) => ({
        messageId: `m-${i}`,
        receiptHandle: 'h'.repeat(300),
        body: JSON.stringify({ items: [{ price: i, qty: 1 }] }),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1796601600000', SenderId: 'AID', ApproximateFirstReceiveTimestamp: '1796601600000' },
        messageAttributes: {},
        md5OfBody: 'x',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:orders',
        awsRegion: 'eu-west-1',
      })),
    };
    await expect(handler(event, lambdaContext())).rejects.toThrow();
    // The instrumentation adds a CONSUMER span for the batch; the event belongs to the invocation's SERVER span.
    const span = tracing.exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
    expect(tracing.exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CONSUMER)?.attributes['faas.event']).toBeUndefined();
    const recorded = String(span?.attributes['faas.event']);
    expect(Buffer.byteLength(recorded)).toBe(2048);
    expect(recorded.startsWith('{"Records":[{"messageId":"m-0"')).toBe(true);
    expect(span?.attributes['faas.event.truncated']).toBe(true);
  });
});

describe('withLambdaEvent', () => {
  it('records the event on the span active when the wrapped handler is called', async () => {
    const wrapped = withLambdaEvent((event: { detail: { id: string } }) => Promise.resolve(event.detail.id));
    const tracer = tracing.provider.getTracer('test');
    const id = await tracer.startActiveSpan('scheduled', async (span) => {
      try {
        return await wrapped({ detail: { id: 'job-7' } }, lambdaContext());
      } finally {
        span.end();
      }
    });
    expect(id).toBe('job-7');
    const [span] = tracing.exporter.getFinishedSpans();
    expect(span?.attributes['faas.event']).toBe('{"detail":{"id":"job-7"}}');
  });
});
