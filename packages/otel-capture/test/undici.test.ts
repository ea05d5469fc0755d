import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureUndici } from '../src/index';
import { isClient, startTracing } from './tracing';

const tracing = startTracing();
registerInstrumentations({ tracerProvider: tracing.provider, instrumentations: [new UndiciInstrumentation(captureUndici({ maxBytes: 128 }))] });

const routes: Record<string, (res: ServerResponse) => void> = {
  '/account': (res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: 42, balance: 10.5, refresh_token: 'r-123' }));
  },
  '/report': (res) => {
    res.setHeader('content-type', 'text/csv');
    res.end('n,v\n'.concat('row,1\n'.repeat(60)));
  },
  '/compressed': (res) => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('content-encoding', 'gzip');
    res.end(gzipSync(JSON.stringify({ zipped: true })));
  },
  '/missing': (res) => {
    res.statusCode = 404;
    res.setHeader('content-type', 'application/problem+json');
    res.end(JSON.stringify({ title: 'Not Found', detail: 'no such order' }));
  },
};
const server = createServer((req: IncomingMessage, res: ServerResponse) => routes[req.url ?? '']?.(res));
let base: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());
beforeEach(() => tracing.exporter.reset());

const attr = (span: ReadableSpan, name: string): unknown => span.attributes[name];

describe('captureUndici with the global fetch', () => {
  it('records the JSON response body on the client span, redacted, while the caller reads it unchanged', async () => {
    const res = await fetch(`${base}/account`);
    expect(await res.json()).toEqual({ id: 42, balance: 10.5, refresh_token: 'r-123' });
    const span = await tracing.waitForSpan(isClient, 'client');
    expect(attr(span, 'http.response.status_code')).toBe(200);
    expect(JSON.parse(String(attr(span, 'http.response.body.content')))).toEqual({ id: 42, balance: 10.5, refresh_token: '[REDACTED]' });
    expect(attr(span, 'http.response.body.truncated')).toBeUndefined();
  });

  it('caps a long text body and marks it truncated', async () => {
    const res = await fetch(`${base}/report`);
    const text = await res.text();
    expect(text.length).toBe(4 + 6 * 60);
    const span = await tracing.waitForSpan(isClient, 'client');
    const content = String(attr(span, 'http.response.body.content'));
    expect(content).toBe(text.slice(0, 128));
    expect(attr(span, 'http.response.body.truncated')).toBe(true);
    expect(attr(span, 'http.response.body.size')).toBe(text.length);
  });

  it('records error responses, which are what a replay has to serve back', async () => {
    const res = await fetch(`${base}/missing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ title: 'Not Found', detail: 'no such order' });
    const span = await tracing.waitForSpan(isClient, 'client');
    expect(attr(span, 'http.response.body.content')).toBe('{"title":"Not Found","detail":"no such order"}');
  });

  it('skips compressed bodies rather than recording undecoded bytes', async () => {
    const res = await fetch(`${base}/compressed`);
    expect(await res.json()).toEqual({ zipped: true });
    const span = await tracing.waitForSpan(isClient, 'client');
    expect(attr(span, 'http.response.body.content')).toBeUndefined();
  });
});
