import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type * as HttpModule from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type createExpress from 'express';
import type createFastify from 'fastify';
import type Koa from 'koa';
import type * as KoaBodyParser from '@koa/bodyparser';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureHttp } from '../src/index';
import { isClient, isServer, startTracing } from './tracing';

const tracing = startTracing();
const httpInstrumentation = new HttpInstrumentation(captureHttp({ maxBytes: 64 }));
registerInstrumentations({ tracerProvider: tracing.provider, instrumentations: [httpInstrumentation, new ExpressInstrumentation()] });
// Required (not imported) after registration so the instrumentations patch them, as in a CommonJS service.
const require = createRequire(import.meta.url);
const http = require('node:http') as typeof HttpModule;
const express = require('express') as typeof createExpress;
const fastify = require('fastify') as typeof createFastify;
const KoaApp = require('koa') as typeof Koa;
const { bodyParser } = require('@koa/bodyparser') as typeof KoaBodyParser;

const servers: Server[] = [];
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
async function readAll(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}
const attr = (span: ReadableSpan, name: string): unknown => span.attributes[name];

let echo: string;
let downstream: string;
beforeAll(async () => {
  echo = await listen((req, res) => {
    void readAll(req).then((body) => res.end(body));
  });
  downstream = await listen((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ plan: 'pro', apiKey: 'sk_live_abc', seats: 3 }));
  });
});
afterAll(() => servers.forEach((s) => s.close()));
beforeEach(() => tracing.exporter.reset());

describe('captureHttp on a plain http server', () => {
  it('records the JSON request body on the server span with secrets redacted, and the app reads it unchanged', async () => {
    const sent = JSON.stringify({ email: 'a@b.io', password: 'hunter2', items: [1, 2] });
    const res = await fetch(`${echo}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sent });
    expect(await res.text()).toBe(sent);
    const span = await tracing.waitForSpan(isServer, 'server');
    expect(JSON.parse(String(attr(span, 'http.request.body.content')))).toEqual({ email: 'a@b.io', password: '[REDACTED]', items: [1, 2] });
    expect(attr(span, 'http.request.body.size')).toBe(Buffer.byteLength(sent));
    expect(attr(span, 'http.request.body.truncated')).toBeUndefined();
  });

  it('caps a large body at maxBytes, marks it truncated, and still hands the app every byte', async () => {
    const sent = `${'line of text '.repeat(20)}token=abc`;
    const res = await fetch(`${echo}/notes`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: sent });
    expect(await res.text()).toBe(sent);
    const span = await tracing.waitForSpan(isServer, 'server');
    const content = String(attr(span, 'http.request.body.content'));
    expect(Buffer.byteLength(content)).toBe(64);
    expect(sent.startsWith(content)).toBe(true);
    expect(attr(span, 'http.request.body.truncated')).toBe(true);
    expect(attr(span, 'http.request.body.size')).toBe(Buffer.byteLength(sent));
  });

  it('records bodies an app reads as strings after setEncoding, multi-byte characters intact', async () => {
    const base = await listen((req, res) => {
      req.setEncoding('utf8');
      let text = '';
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => res.end(String(text.length)));
    });
    const sent = JSON.stringify({ city: 'Zürich', note: '東京' });
    const res = await fetch(`${base}/cities`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sent });
    expect(await res.text()).toBe(String(sent.length));
    const span = await tracing.waitForSpan(isServer, 'server');
    expect(attr(span, 'http.request.body.content')).toBe(sent);
    expect(attr(span, 'http.request.body.size')).toBe(Buffer.byteLength(sent));
  });

  it('does not record binary bodies', async () => {
    const res = await fetch(`${echo}/upload`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array([1, 2, 3]) });
    expect((await res.arrayBuffer()).byteLength).toBe(3);
    const span = await tracing.waitForSpan(isServer, 'server');
    expect(attr(span, 'http.request.body.content')).toBeUndefined();
  });

  it('records the response body of a downstream http call on its client span', async () => {
    const front = await listen((_req, res) => {
      http.get(`${downstream}/plans/7`, (down) => {
        void readAll(down).then((body) => res.end(body));
      });
    });
    const res = await fetch(`${front}/checkout`);
    expect(JSON.parse(await res.text())).toEqual({ plan: 'pro', apiKey: 'sk_live_abc', seats: 3 });
    const client = await tracing.waitForSpan(isClient, 'client');
    expect(JSON.parse(String(attr(client, 'http.response.body.content')))).toEqual({ plan: 'pro', apiKey: '[REDACTED]', seats: 3 });
    const server = await tracing.waitForSpan((s) => isServer(s) && s.spanContext().traceId === client.spanContext().traceId && s.parentSpanContext === undefined, 'front server');
    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(attr(server, 'http.response.body.content')).toBeUndefined();
  });
});

describe('captureHttp under express', () => {
  it('records JSON and form bodies that express parsers consume, and the handler sees the original values', async () => {
    const app = express();
    app.use(express.json());
    app.use(express.urlencoded({ extended: false }));
    app.post('/signup', (req, res) => {
      res.json({ received: req.body as unknown });
    });
    const base = await listen(app);

    const json = await fetch(`${base}/signup`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ name: 'Ada', secret: 's3' }) });
    expect(await json.json()).toEqual({ received: { name: 'Ada', secret: 's3' } });
    const jsonSpan = await tracing.waitForSpan(isServer, 'server');
    expect(attr(jsonSpan, 'http.request.body.content')).toBe('{"name":"Ada","secret":"[REDACTED]"}');
    tracing.exporter.reset();

    const form = await fetch(`${base}/signup`, { method: 'POST', body: new URLSearchParams({ name: 'Ada', access_token: 'x1' }) });
    expect(await form.json()).toEqual({ received: { name: 'Ada', access_token: 'x1' } });
    const formSpan = await tracing.waitForSpan(isServer, 'server');
    expect(attr(formSpan, 'http.request.body.content')).toBe('name=Ada&access_token=%5BREDACTED%5D');
  });

  it('keeps the body on the server span of a request whose handler crashes, next to the exception', async () => {
    const app = express();
    app.use(express.json());
    app.post('/cart', (req) => {
      const { items } = req.body as { items?: { qty: number }[] };
      return items!.map((i) => i.qty);
    });
    const base = await listen(app);
    const res = await fetch(`${base}/cart`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"coupon":"X"}' });
    expect(res.status).toBe(500);
    const server = await tracing.waitForSpan(isServer, 'server');
    expect(attr(server, 'http.request.body.content')).toBe('{"coupon":"X"}');
    const handler = tracing.exporter.getFinishedSpans().find((s) => s.events.some((e) => e.name === 'exception'));
    expect(handler?.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(handler?.events[0]?.attributes?.['exception.type']).toBe('TypeError');
  });

  it('applies a custom redactor with the payload kind and key path before anything reaches the span', async () => {
    const seen: string[] = [];
    httpInstrumentation.setConfig(
      captureHttp({
        redact: (value, { kind, path }) => {
          seen.push(`${kind}:${path.join('.')}`);
          return path[path.length - 1] === 'ssn' ? '***' : value;
        },
      }),
    );
    try {
      const app = express();
      app.use(express.json());
      app.post('/people', (req, res) => {
        res.json(req.body);
      });
      const base = await listen(app);
      const res = await fetch(`${base}/people`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ssn: '078-05-1120', name: 'Ada' }) });
      expect(await res.json()).toEqual({ ssn: '078-05-1120', name: 'Ada' });
      const span = await tracing.waitForSpan(isServer, 'server');
      expect(attr(span, 'http.request.body.content')).toBe('{"ssn":"***","name":"Ada"}');
      expect(seen).toEqual(['http.request.body:', 'http.request.body:ssn', 'http.request.body:name']);
    } finally {
      httpInstrumentation.setConfig(captureHttp({ maxBytes: 64 }));
    }
  });

  it('records nothing when the redactor throws, and the request still succeeds', async () => {
    httpInstrumentation.setConfig(
      captureHttp({
        redact: () => {
          throw new Error('redactor bug');
        },
      }),
    );
    try {
      const res = await fetch(`${echo}/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      expect(await res.text()).toBe('{"a":1}');
      const span = await tracing.waitForSpan(isServer, 'server');
      expect(attr(span, 'http.request.body.content')).toBeUndefined();
      expect(attr(span, 'http.request.body.size')).toBe(7);
    } finally {
      httpInstrumentation.setConfig(captureHttp({ maxBytes: 64 }));
    }
  });
});

describe('captureHttp under fastify', () => {
  it('records the body fastify parses, and the route handler gets it unchanged', async () => {
    const app = fastify();
    app.post('/scores', (req) => ({ received: req.body }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const res = await fetch(`${base}/scores`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"player":"p1","score":-1,"token":"t"}' });
      expect(await res.json()).toEqual({ received: { player: 'p1', score: -1, token: 't' } });
      const span = await tracing.waitForSpan(isServer, 'server');
      expect(attr(span, 'http.request.body.content')).toBe('{"player":"p1","score":-1,"token":"[REDACTED]"}');
    } finally {
      await app.close();
    }
  });
});

describe('captureHttp under koa', () => {
  it('records the body @koa/bodyparser reads, and the middleware gets it unchanged', async () => {
    const app = new KoaApp();
    app.use(bodyParser());
    app.use((ctx) => {
      ctx.body = { received: ctx.request.body };
    });
    const handle = app.callback();
    const base = await listen((req, res) => void handle(req, res));
    const res = await fetch(`${base}/profile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nick":"ada","cookie":"sid=1"}' });
    expect(await res.json()).toEqual({ received: { nick: 'ada', cookie: 'sid=1' } });
    const span = await tracing.waitForSpan(isServer, 'server');
    expect(attr(span, 'http.request.body.content')).toBe('{"nick":"ada","cookie":"[REDACTED]"}');
  });
});
