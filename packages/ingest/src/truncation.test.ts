// A body the capture package cut at its maxBytes, recorded by the real HTTP instrumentation on a real
// server over loopback, read by ingest: the value's provenance says it is incomplete, by how much,
// and which option records it whole.
import { createRequire } from 'node:module';
import type * as HttpModule from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { captureHttp } from '@tracemend/otel-capture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEnvelope } from './envelope';
import type { OtlpTraces } from './otlp';

const MAX_BYTES = 128;
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'orders-api', 'service.version': '1.4.0' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
registerInstrumentations({ tracerProvider: provider, instrumentations: [new HttpInstrumentation(captureHttp({ maxBytes: MAX_BYTES }))] });
// Required after registration so the instrumentation patches it, as in a CommonJS service.
const http = createRequire(import.meta.url)('node:http') as typeof HttpModule;

let server: HttpModule.Server;
let url: string;

beforeAll(async () => {
  // The service reads the whole body, then fails on an order without a card.
  server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      const order = JSON.parse(text) as { items: unknown[]; card?: string };
      const span = trace.getActiveSpan();
      if (order.card === undefined) {
        const error = new TypeError(`order with ${order.items.length} items has no card`);
        span?.recordException(error);
        span?.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        res.statusCode = 500;
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await provider.shutdown();
});

/** The OTLP/JSON export of the spans recorded so far. */
function exported(): OtlpTraces {
  const serialized = JsonTraceSerializer.serializeRequest(exporter.getFinishedSpans());
  if (!serialized) throw new Error('OTLP JSON serialization produced no output');
  return JSON.parse(new TextDecoder().decode(serialized)) as OtlpTraces;
}

async function post(body: string): Promise<void> {
  exporter.reset();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await response.arrayBuffer();
  for (let attempt = 0; attempt < 200 && !exporter.getFinishedSpans().some((span) => span.kind === SpanKind.SERVER); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const source = { alertId: 'c'.repeat(64), format: 'otlp-traces-json' as const, receivedAt: '2026-12-07T04:00:00.000Z' };

describe('a request body the capture cut at maxBytes', () => {
  it('is read as recorded, with provenance naming the bytes kept, the full size and the option that raises the cap', async () => {
    const body = JSON.stringify({ items: Array.from({ length: 40 }, (_, index) => ({ sku: `sku-${index}`, quantity: 1 })) });
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_BYTES);
    await post(body);
    const envelope = buildEnvelope({ traces: { source, body: exported() } });

    expect(envelope.symptom.errorType).toBe('TypeError');
    if (envelope.entry.kind !== 'http') throw new Error(`expected an http entry, got ${envelope.entry.kind}`);
    // The replay gets what was recorded: the first bytes of the JSON, which no longer parse.
    const recorded = envelope.entry.body;
    if (typeof recorded !== 'string') throw new Error(`expected the cut body as text, got ${JSON.stringify(recorded)}`);
    expect(Buffer.byteLength(recorded)).toBe(MAX_BYTES);
    expect(body.startsWith(recorded)).toBe(true);

    const input = envelope.provenance.inputs?.find((item) => item.path === 'entry.body');
    expect(input).toMatchObject({
      signal: 'span-attribute',
      truncated: { marker: 'http.request.body.truncated', recordedBytes: MAX_BYTES, sizeBytes: Buffer.byteLength(body) },
    });
    expect(input?.note).toContain(`${MAX_BYTES} of ${Buffer.byteLength(body)} bytes kept`);
    expect(input?.note).toContain('maxBytes');
  });

  it('leaves the provenance of a body recorded whole without a truncation', async () => {
    const body = JSON.stringify({ items: [{ sku: 'sku-1', quantity: 1 }] });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_BYTES);
    await post(body);
    const envelope = buildEnvelope({ traces: { source, body: exported() } });
    if (envelope.entry.kind !== 'http') throw new Error(`expected an http entry, got ${envelope.entry.kind}`);
    expect(envelope.entry.body).toEqual(JSON.parse(body));
    const input = envelope.provenance.inputs?.find((item) => item.path === 'entry.body');
    expect(input).toMatchObject({ signal: 'span-attribute' });
    expect(input?.truncated).toBeUndefined();
    expect(input?.note).toBeUndefined();
  });
});
