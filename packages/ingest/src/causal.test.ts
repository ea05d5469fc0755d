import { beforeAll, describe, expect, it } from 'vitest';
import { ancestors, criticalPath, downstreamSpans, failingSpan, indexSpans } from './causal';
import { buildEnvelope } from './envelope';
import type { OtlpSpan, OtlpTraces } from './otlp';
import { LOGGED_APP_ROOT } from './testing/log-lines';
import { recordCheckoutTrace, withoutSpans, type CheckoutTrace } from './testing/multi-service-trace';

const source = { alertId: 'a'.repeat(64), format: 'otlp-traces-json' as const, receivedAt: '2026-11-20T12:00:00.000Z' };
const appRoots = [LOGGED_APP_ROOT];

let checkout: CheckoutTrace;
beforeAll(async () => {
  checkout = await recordCheckoutTrace();
});

function ids(...names: string[]): string[] {
  return names.map((name) => {
    const id = checkout.spanIds[name];
    if (id === undefined) throw new Error(`no span named ${name}`);
    return id;
  });
}

function envelopeOf(traces: OtlpTraces) {
  return buildEnvelope({ traces: { source, body: traces }, appRoots });
}

describe('a trace across three services, recorded with the OpenTelemetry SDK', () => {
  it('holds the spans of all three services under one trace id', () => {
    const services = (checkout.traces.resourceSpans ?? []).map((rs) => rs.resource?.attributes?.find((kv) => kv.key === 'service.name')?.value?.stringValue);
    expect(services.sort()).toEqual(['orders-api', 'payments-api', 'storefront']);
    const traceIds = new Set((checkout.traces.resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((span) => span.traceId))));
    expect(traceIds).toEqual(new Set([checkout.traceId]));
  });

  it('builds the envelope for the service that owns the deepest failing span, not the root\'s or the first exception\'s', () => {
    const envelope = envelopeOf(checkout.traces);
    expect(envelope.identity).toMatchObject({ service: 'payments-api', version: '7.1.3', spanId: checkout.spanIds['payments-api chargeCard'], traceId: checkout.traceId });
    expect(envelope.symptom).toMatchObject({ errorType: 'TypeError', message: "Cannot read properties of undefined (reading 'id')" });
    expect(envelope.symptom.frames[0]).toMatchObject({ function: 'authorizationId', file: 'testing/multi-service-trace.ts', inApp: true });
    // The entry is the owning service's own server span, not the storefront's.
    expect(envelope.entry).toMatchObject({ kind: 'http', method: 'POST', route: '/v1/charges', path: '/v1/charges', headers: { 'content-type': 'application/json' } });
    // Replay serves only the owning service's recorded calls, in call order.
    expect(envelope.downstream.map((call) => [call.method, call.url, call.status])).toEqual([
      ['GET', 'http://fraud.internal/v1/score?order=ord_7f3a', 200],
      ['POST', 'https://cards.example.com/v1/authorize', 402],
    ]);
    expect(envelope.spans).toHaveLength(11);
  });

  it('reports the causal excerpt across services: parent chain, critical path, downstream calls', () => {
    const { trace } = envelopeOf(checkout.traces).provenance;
    expect(trace).toEqual({
      joined: true,
      services: ['orders-api', 'payments-api', 'storefront'],
      parentChain: ids(
        'payments-api chargeCard',
        'payments-api POST /v1/charges',
        'orders-api POST',
        'orders-api createOrder',
        'orders-api POST /v1/orders',
        'storefront POST',
        'storefront POST /checkout',
      ),
      // orders-api's recordFailure ran after createOrder returned: it, not the failing call, finished last.
      criticalPath: ids('storefront POST /checkout', 'storefront POST', 'orders-api POST /v1/orders', 'orders-api recordFailure'),
      downstreamSpans: ids('payments-api POST'),
      missingSpanIds: [],
      missingSpanCount: 0,
    });
  });

  it('degrades when a middle span was sampled away: the chain stops there and provenance names it', () => {
    const [dropped] = ids('orders-api POST /v1/orders');
    const envelope = envelopeOf(withoutSpans(checkout.traces, [dropped ?? '']));
    expect(envelope.identity.service).toBe('payments-api');
    expect(envelope.identity.fingerprint).toBe(envelopeOf(checkout.traces).identity.fingerprint);
    expect(envelope.provenance.trace).toMatchObject({
      parentChain: ids('payments-api chargeCard', 'payments-api POST /v1/charges', 'orders-api POST', 'orders-api createOrder'),
      criticalPath: ids('orders-api createOrder', 'orders-api POST', 'payments-api POST /v1/charges', 'payments-api chargeCard', 'payments-api POST'),
      missingSpanIds: [dropped],
      missingSpanCount: 1,
    });
    expect(envelope.provenance.notes).toContain(
      `1 span(s) named as parents are missing from the trace (sampled away or lost): ${dropped}; the parent chain stops at span ${checkout.spanIds['orders-api createOrder']} (orders-api)`,
    );
    expect(envelope.spans).toHaveLength(10);
  });

  it('degrades when the failing service\'s entry span is missing: the top named in-app frame becomes the entry', () => {
    const [dropped] = ids('payments-api POST /v1/charges');
    const envelope = envelopeOf(withoutSpans(checkout.traces, [dropped ?? '']));
    expect(envelope.identity.spanId).toBe(checkout.spanIds['payments-api chargeCard']);
    expect(envelope.entry).toEqual({ kind: 'function', module: 'testing/multi-service-trace.ts', export: 'authorizationId', args: [] });
    expect(envelope.provenance.trace).toMatchObject({ parentChain: ids('payments-api chargeCard'), missingSpanIds: [dropped], missingSpanCount: 1 });
    expect(envelope.provenance.notes.some((note) => note.startsWith("the failing service's entry span is missing from the trace"))).toBe(true);
    // Only the calls under what is left of the failing service are replayed.
    expect(envelope.downstream.map((call) => call.url)).toEqual(['https://cards.example.com/v1/authorize']);
  });

  it('falls back to the next deepest exception when the deepest failing span itself was lost', () => {
    const envelope = envelopeOf(withoutSpans(checkout.traces, ids('payments-api chargeCard')));
    // payments-api's server span recorded the exception too (an instrumented framework does): it owns the failure now.
    expect(envelope.identity).toMatchObject({ service: 'payments-api', spanId: checkout.spanIds['payments-api POST /v1/charges'] });
    expect(envelope.symptom.errorType).toBe('TypeError');
    expect(envelope.provenance.trace?.missingSpanIds).toEqual(ids('payments-api chargeCard'));
  });
});

describe('the span graph on small hand-made traces', () => {
  const TRACE = 'ab'.repeat(16);
  function span(id: string, parent: string | undefined, extra: Partial<OtlpSpan> = {}): OtlpSpan {
    return { traceId: TRACE, spanId: id.repeat(16).slice(0, 16), ...(parent ? { parentSpanId: parent.repeat(16).slice(0, 16) } : {}), name: `span ${id}`, ...extra };
  }
  function graphOf(...spans: OtlpSpan[]) {
    return indexSpans({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeSpans: [{ spans }] }] });
  }
  const exception = { events: [{ name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'Error' } }] }] };

  it('stops a parent chain that loops instead of walking forever', () => {
    const graph = graphOf(span('a', 'b'), span('b', 'c'), span('c', 'a'));
    const start = graph.spans.get('a'.repeat(16));
    if (!start) throw new Error('missing span');
    expect(ancestors(graph, start).map((item) => item.id[0])).toEqual(['b', 'c']);
  });

  it('prefers, at equal depth, the span with an error status, then the earlier one', () => {
    const graph = graphOf(
      span('1', undefined),
      span('2', '1', { ...exception, startTimeUnixNano: '300' }),
      span('3', '1', { ...exception, startTimeUnixNano: '200', status: { code: 2 } }),
      span('4', '1', { ...exception, startTimeUnixNano: '100' }),
    );
    expect(failingSpan(graph)?.id[0]).toBe('3');
    const noStatus = graphOf(span('1', undefined), span('2', '1', { ...exception, startTimeUnixNano: '300' }), span('4', '1', { ...exception, startTimeUnixNano: '100' }));
    expect(failingSpan(noStatus)?.id[0]).toBe('4');
  });

  it('across fragments, prefers the earlier report, and within the clock\'s millisecond the fragment below a lost span', () => {
    // Span 2 hangs under a span the export lacks; span 4 sits two levels deep in the root fragment.
    const fragments = (callee: string, caller: string) =>
      graphOf(
        span('1', undefined),
        span('3', '1'),
        span('4', '3', { events: [{ name: 'exception', timeUnixNano: caller }] }),
        span('2', '9', { events: [{ name: 'exception', timeUnixNano: callee }] }),
      );
    const ms = (value: number) => String(value * 1_000_000);
    expect(failingSpan(fragments(ms(10), ms(12)))?.id[0]).toBe('2');
    expect(failingSpan(fragments(ms(12), ms(10)))?.id[0]).toBe('4');
    // Stamped 0.8 ms after its caller, as the SDK's per-span clock anchoring allows: still the callee.
    expect(failingSpan(fragments(ms(10.8), ms(10)))?.id[0]).toBe('2');
    expect(failingSpan(fragments(ms(10), ms(10)))?.id[0]).toBe('2');
  });

  it('counts a span an error log line names as failing, and follows the child that ends last for the critical path', () => {
    const graph = graphOf(span('1', undefined), span('2', '1', { endTimeUnixNano: '500' }), span('3', '1', { endTimeUnixNano: '900' }), span('4', '3', { endTimeUnixNano: '800' }));
    expect(failingSpan(graph)).toBeUndefined();
    expect(failingSpan(graph, new Set(['2'.repeat(16)]))?.id[0]).toBe('2');
    const root = graph.spans.get('1'.repeat(16));
    if (!root) throw new Error('missing span');
    expect(criticalPath(graph, root).map((item) => item.id[0])).toEqual(['1', '3', '4']);
  });

  it('lists only the failing service\'s own outbound calls, even when a callee\'s span hangs directly under it', () => {
    const resource = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] });
    const graph = indexSpans({
      resourceSpans: [
        { resource: resource('api'), scopeSpans: [{ spans: [span('1', undefined, exception), span('2', '1', { kind: 3, startTimeUnixNano: '20' }), span('5', '1', { startTimeUnixNano: '5' }), span('6', '5', { kind: 4, startTimeUnixNano: '10' })] }] },
        // An uninstrumented client: the callee's server span is the failing span's direct child.
        { resource: resource('billing'), scopeSpans: [{ spans: [span('3', '1', { kind: 2 }), span('4', '3', { kind: 3 })] }] },
      ],
    });
    const failing = graph.spans.get('1'.repeat(16));
    if (!failing) throw new Error('missing span');
    expect(downstreamSpans(graph, failing).map((item) => item.id[0])).toEqual(['6', '2']);
  });
});
