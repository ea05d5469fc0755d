// Records one checkout that fails two services downstream, with the real OpenTelemetry SDK: three
// tracer providers with their own `service.name` resources in one process, the W3C traceparent
// carried from each client span to the next service's server span as an HTTP header would carry it.
//
//   storefront   POST /checkout (server) ─ POST orders (client)
//   orders-api     POST /v1/orders (server) ─ createOrder ─ GET inventory (client, 200)
//                                           │             └ POST payments (client, 500) ─┐
//                                           └ recordFailure (runs last)                   │
//   payments-api   POST /v1/charges (server) ─ GET fraud score (client, 200)  ◄──────────┘
//                                            └ chargeCard (throws TypeError) ─ POST authorize (client, 402)
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, defaultTextMapGetter, defaultTextMapSetter, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { OtlpSpan, OtlpTraces } from '../otlp';

export const CHECKOUT_SERVICES = ['storefront', 'orders-api', 'payments-api'] as const;
type CheckoutService = (typeof CHECKOUT_SERVICES)[number];

/** The recorded trace export and each span's id by name. */
export interface CheckoutTrace {
  traces: OtlpTraces;
  traceId: string;
  spanIds: Record<string, string>;
}

const propagator = new W3CTraceContextPropagator();

function serviceProvider(service: CheckoutService, exporter: InMemorySpanExporter): BasicTracerProvider {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': service,
      'service.version': service === 'payments-api' ? '7.1.3' : '1.0.0',
      'deployment.environment.name': 'production',
      'process.runtime.version': process.versions.node,
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
}

/** A span that runs `work` as its child context, ending with an error status when `work` throws. */
function inSpan<T>(tracer: Tracer, name: string, parent: Context, options: { kind?: SpanKind; attributes?: Record<string, string | number> }, work: (span: Span, ctx: Context) => T): T {
  const span = tracer.startSpan(name, options, parent);
  try {
    return work(span, trace.setSpan(parent, span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** A client span whose traceparent header is handed to the callee, like an instrumented HTTP client. */
function call<T>(tracer: Tracer, parent: Context, method: string, url: string, serve: (headers: Record<string, string>) => { status: number; body?: unknown; result?: T }): T | undefined {
  return inSpan(tracer, `${method}`, parent, { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'url.full': url } }, (span, ctx) => {
    const headers: Record<string, string> = {};
    propagator.inject(ctx, headers, defaultTextMapSetter);
    const response = serve(headers);
    span.setAttribute('http.response.status_code', response.status);
    if (response.body !== undefined) span.addEvent('tracemend.response', { 'http.response.body': JSON.stringify(response.body) });
    if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return response.result;
  });
}

/** A server span continuing the caller's trace from its traceparent header. */
function serve(tracer: Tracer, headers: Record<string, string>, method: string, route: string, handle: (span: Span, ctx: Context) => void): { status: number } {
  const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  const attributes = { 'http.request.method': method, 'http.route': route, 'url.path': route, 'http.request.header.content-type': 'application/json' };
  return inSpan(tracer, `${method} ${route}`, parent, { kind: SpanKind.SERVER, attributes }, (span, ctx) => {
    try {
      handle(span, ctx);
      span.setAttribute('http.response.status_code', 200);
      return { status: 200 };
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      span.setAttribute('http.response.status_code', 500);
      return { status: 500 };
    }
  });
}

/** The bug: the card gateway declined, and the code reads the authorization it did not get. */
function authorizationId(response: { authorization?: { id: string } } | undefined): string {
  if (response?.authorization === undefined) throw new TypeError('Cannot read properties of undefined (reading \'id\')');
  return response.authorization.id;
}

function checkout(tracers: Record<CheckoutService, Tracer>): void {
  const payments = (headers: Record<string, string>) =>
    serve(tracers['payments-api'], headers, 'POST', '/v1/charges', (_span, ctx) => {
      call(tracers['payments-api'], ctx, 'GET', 'http://fraud.internal/v1/score?order=ord_7f3a', () => ({ status: 200, body: { score: 0.02 } }));
      inSpan(tracers['payments-api'], 'chargeCard', ctx, {}, (span, chargeCtx) => {
        try {
          const declined = call<{ authorization?: { id: string } }>(tracers['payments-api'], chargeCtx, 'POST', 'https://cards.example.com/v1/authorize', () => ({ status: 402, body: { declined: true }, result: {} }));
          return authorizationId(declined);
        } catch (error) {
          span.recordException(error as Error);
          throw error;
        }
      });
    });
  const orders = (headers: Record<string, string>) =>
    serve(tracers['orders-api'], headers, 'POST', '/v1/orders', (_span, ctx) => {
      try {
        inSpan(tracers['orders-api'], 'createOrder', ctx, {}, (span, createCtx) => {
          call(tracers['orders-api'], createCtx, 'GET', 'http://inventory.internal/v1/stock/DESK-19', () => ({ status: 200, body: { available: 3 } }));
          const status = call(tracers['orders-api'], createCtx, 'POST', 'http://payments.internal/v1/charges', (h) => {
            const answer = payments(h).status;
            return { status: answer, body: answer === 200 ? { charged: true } : { error: 'internal' }, result: answer };
          });
          if (status !== 200) {
            const error = new Error('payments returned 500');
            error.name = 'UpstreamError';
            span.recordException(error);
            throw error;
          }
        });
      } finally {
        inSpan(tracers['orders-api'], 'recordFailure', ctx, {}, () => busyWait(2));
      }
    });
  serve(tracers.storefront, {}, 'POST', '/checkout', (span, ctx) => {
    const status = call(tracers.storefront, ctx, 'POST', 'http://orders.internal/v1/orders', (headers) => {
      const answer = orders(headers).status;
      return { status: answer, result: answer };
    });
    // The storefront answers 502 without throwing: an error status with no exception of its own.
    if (status !== 200) span.setStatus({ code: SpanStatusCode.ERROR, message: 'orders failed' });
  });
}

/** Spans need distinct end times for the critical path; a short spin is enough and keeps the code synchronous. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** Runs the checkout once and returns the OTLP/JSON export of all three services' spans. */
export async function recordCheckoutTrace(): Promise<CheckoutTrace> {
  const exporters = Object.fromEntries(CHECKOUT_SERVICES.map((service) => [service, new InMemorySpanExporter()])) as Record<CheckoutService, InMemorySpanExporter>;
  const providers = CHECKOUT_SERVICES.map((service) => [service, serviceProvider(service, exporters[service])] as const);
  const tracers = Object.fromEntries(providers.map(([service, provider]) => [service, provider.getTracer(service)])) as Record<CheckoutService, Tracer>;
  context.with(ROOT_CONTEXT, () => checkout(tracers));
  const spans: ReadableSpan[] = [];
  for (const [service, provider] of providers) {
    await provider.forceFlush();
    spans.push(...exporters[service].getFinishedSpans());
    await provider.shutdown();
  }
  const serialized = JsonTraceSerializer.serializeRequest(spans);
  if (!serialized) throw new Error('OTLP JSON serialization produced no output');
  const traces = JSON.parse(new TextDecoder().decode(serialized)) as OtlpTraces;
  const spanIds: Record<string, string> = {};
  for (const span of spans) spanIds[`${span.resource.attributes['service.name'] as string} ${span.name}`] = span.spanContext().spanId;
  return { traces, traceId: spans[0]?.spanContext().traceId ?? '', spanIds };
}

/** The export without the named spans, as if they had been sampled away. */
export function withoutSpans(traces: OtlpTraces, spanIds: readonly string[]): OtlpTraces {
  const drop = (span: OtlpSpan) => !spanIds.includes(span.spanId);
  return {
    resourceSpans: (traces.resourceSpans ?? []).map((rs) => ({ ...rs, scopeSpans: (rs.scopeSpans ?? []).map((ss) => ({ ...ss, spans: (ss.spans ?? []).filter(drop) })) })),
  };
}
