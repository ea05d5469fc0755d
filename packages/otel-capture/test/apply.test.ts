import { AwsLambdaInstrumentation } from '@opentelemetry/instrumentation-aws-lambda';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation, type HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { describe, expect, it } from 'vitest';
import { applyCapture } from '../src/index';
import { startTracing } from './tracing';

const tracing = startTracing();
// Constructed with enabled: false so that nothing is patched; applyCapture only edits their config.

describe('applyCapture', () => {
  it('adds hooks to the instrumentations it knows and leaves the others alone', () => {
    const http = new HttpInstrumentation({ enabled: false });
    const undici = new UndiciInstrumentation({ enabled: false });
    const lambda = new AwsLambdaInstrumentation({ enabled: false });
    const kafka = new KafkaJsInstrumentation({ enabled: false });
    const express = new ExpressInstrumentation({ enabled: false });
    expect(applyCapture([http, undici, lambda, kafka, express])).toEqual([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-undici',
      '@opentelemetry/instrumentation-aws-lambda',
      '@opentelemetry/instrumentation-kafkajs',
    ]);
    expect(typeof http.getConfig().requestHook).toBe('function');
    expect(typeof http.getConfig().responseHook).toBe('function');
    expect(typeof undici.getConfig().responseHook).toBe('function');
    expect(typeof lambda.getConfig().requestHook).toBe('function');
    expect(typeof kafka.getConfig().consumerHook).toBe('function');
    expect(Object.keys(express.getConfig())).not.toContain('consumerHook');
  });

  it('keeps a hook the service already had and runs it first', () => {
    const calls: string[] = [];
    const config: HttpInstrumentationConfig = { enabled: false, headersToSpanAttributes: { server: { requestHeaders: ['x-request-id'] } }, requestHook: () => calls.push('own') };
    const http = new HttpInstrumentation(config);
    applyCapture([http]);
    expect(http.getConfig().headersToSpanAttributes).toEqual(config.headersToSpanAttributes);
    const lambda = new AwsLambdaInstrumentation({ enabled: false, requestHook: () => calls.push('own lambda') });
    applyCapture([lambda]);
    const span = tracing.provider.getTracer('test').startSpan('invoke');
    lambda.getConfig().requestHook?.(span, { event: { id: 1 }, context: {} as never });
    span.end();
    expect(calls).toEqual(['own lambda']);
    expect(tracing.exporter.getFinishedSpans()[0]?.attributes['faas.event']).toBe('{"id":1}');
  });

  it('fails with the list of supported instrumentations when given none of them', () => {
    const express = new ExpressInstrumentation({ enabled: false });
    expect(() => applyCapture([express])).toThrow(/no instrumentation it can configure \(given: @opentelemetry\/instrumentation-express\).*instrumentation-http/);
    expect(() => applyCapture([new HttpInstrumentation({ enabled: false })], { maxBytes: -1 })).toThrow(/maxBytes/);
  });
});
