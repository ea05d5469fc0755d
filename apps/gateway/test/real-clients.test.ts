// The clients teams already run, pointed at the real gateway on loopback: the Sentry Node SDK with
// the documented DSN form (errors, transactions, sessions), and the OpenTelemetry JS exporters
// configured by environment only. Nothing is mocked: the SDKs' own transports make the requests.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import * as Sentry from '@sentry/node';
import { runInstrumentedOrdersService } from '@tracemend/fixture-kit';
import { createLogger } from '@tracemend/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/index';
import { startGatewayOnLoopback, type GatewayOnLoopback } from './gateway-on-loopback';

// A demo-style token with a hyphen: Sentry SDKs refuse it as a DSN key, so the gateway gets a Sentry key too.
const TOKEN = 'real-clients-token-0123456789';
const SENTRY_KEY = 'real_clients_sentry_key_0123456789';
let stack: GatewayOnLoopback;
let gateway: Gateway;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  stack = await startGatewayOnLoopback({ name: 'real-clients', token: TOKEN, sentryKey: SENTRY_KEY, logger: createLogger({ name: 'gateway', level: 'info', destination }) });
  gateway = stack.gateway;
});

afterAll(async () => {
  await Sentry.close(2_000);
  await stack?.close();
});

/** The gateway's request log lines for one path prefix. */
const requests = (prefix: string) => logLines.filter((line) => line.msg === 'request' && String(line.route).startsWith(prefix));

function track(workflowId: unknown): void {
  if (typeof workflowId === 'string') stack.workflowIds.add(workflowId);
}

describe('@sentry/node', () => {
  it('reports to the documented DSN form and each of its envelopes is answered 2xx', async () => {
    const answers: { types: string[]; status: number | undefined }[] = [];
    const dsn = `${gateway.url.replace('http://', `http://${SENTRY_KEY}@`)}/4507`;
    Sentry.init({
      dsn,
      release: 'orders@1.4.2',
      environment: 'production',
      tracesSampleRate: 1,
      sendClientReports: true,
      // The SDK's own node transport, watched for the status each envelope got.
      transport: (options) => {
        const inner = Sentry.makeNodeTransport(options);
        return {
          ...inner,
          send: async (envelope) => {
            const response = await inner.send(envelope);
            answers.push({ types: envelope[1].map(([header]) => String(header.type)), status: response.statusCode });
            return response;
          },
        };
      },
    });
    expect(Sentry.getClient()?.getDsn()?.publicKey).toBe(SENTRY_KEY);

    // A crashing request handler, as in a service: the SDK's http integration records the request.
    const server: Server = createServer((_req, res) => {
      try {
        const order = JSON.parse('{"id":"o-1"}') as { card?: { token: string } };
        res.end(order.card!.token);
      } catch (error) {
        Sentry.captureException(error);
        res.statusCode = 500;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/orders', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.once('end', resolve);
      });
      req.once('error', reject);
      req.end('{"id":"o-1"}');
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    Sentry.startSpan({ name: 'nightly-report', op: 'task' }, () => undefined);
    Sentry.startSession();
    Sentry.captureSession(true);
    await Sentry.flush(10_000);

    const sent = answers.flatMap((answer) => answer.types);
    expect(sent).toEqual(expect.arrayContaining(['event', 'session', 'client_report']));
    // Performance data: `span` items from SDKs that stream spans, `transaction` from older ones.
    expect(sent.some((type) => type === 'span' || type === 'transaction')).toBe(true);
    for (const answer of answers) expect(answer.status, answer.types.join(',')).toBeGreaterThanOrEqual(200);
    for (const answer of answers) expect(answer.status, answer.types.join(',')).toBeLessThan(300);

    const sentryRequests = requests('/api/4507/envelope');
    const event = sentryRequests.find((line) => typeof line.incidentId === 'string');
    expect(event).toMatchObject({ format: 'sentry-envelope', status: 202 });
    track(event?.workflowId);
    const ignored = sentryRequests.filter((line) => line.status === 200).map((line) => String(line.ignored));
    expect(ignored.join(',')).toMatch(/\b(span|transaction)\b/);
    expect(ignored.join(',')).toMatch(/\bsessions?\b/);
    expect(ignored.join(',')).toContain('client_report');
  });

  it('refuses a DSN whose key is neither the token nor the Sentry key, and the SDK refuses a key with a hyphen', async () => {
    const wrong = await fetch(`${gateway.url}/api/4507/envelope/?sentry_key=not_the_key_0123456789`, { method: 'POST', body: '{}\n{"type":"session"}\n{}\n' });
    expect(wrong.status).toBe(401);
    const client = new Sentry.NodeClient({ dsn: `http://${TOKEN}@127.0.0.1:9/1`, transport: Sentry.makeNodeTransport, stackParser: Sentry.defaultStackParser, integrations: [] });
    expect(client.getDsn()).toBeUndefined();
  });
});

describe('the OpenTelemetry JS exporters configured by environment only', () => {
  it('export traces and logs in protobuf with gzip to the gateway, which starts the incident', async () => {
    const before = requests('/v1/').length;
    await runInstrumentedOrdersService(
      [
        { signal: 'traces', encoding: 'protobuf' },
        { signal: 'logs', encoding: 'protobuf' },
      ],
      {
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: gateway.url,
          OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${TOKEN}`,
          OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        },
      },
    );
    const seen = requests('/v1/').slice(before);
    const traces = seen.find((line) => line.route === '/v1/traces');
    const logs = seen.find((line) => line.route === '/v1/logs');
    expect(traces).toMatchObject({ status: 200, format: 'otlp-traces-protobuf', attach: expect.stringMatching(/^(started|attached)$/) as unknown });
    expect(logs).toMatchObject({ status: 200, format: 'otlp-logs-protobuf' });
    // Compressed on the wire: the inflated size is what was read.
    expect(Number(traces?.receivedBytes)).toBeLessThan(Number(traces?.sizeBytes));
    track(traces?.workflowId);
  });

  it('export OTLP/JSON by environment too', async () => {
    const before = requests('/v1/').length;
    await runInstrumentedOrdersService([{ signal: 'traces', encoding: 'json' }], {
      env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${gateway.url}/v1/traces`, OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${TOKEN}` },
    });
    expect(requests('/v1/').slice(before).find((line) => line.route === '/v1/traces')).toMatchObject({ status: 200, format: 'otlp-traces-json' });
  });
});
