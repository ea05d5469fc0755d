// Records one failing payment request the way a production service would: a real OpenTelemetry trace
// (in-memory exporter) and the JSON log lines the real pino, bunyan and winston loggers write while
// it runs, each wired with its OpenTelemetry instrumentation so the lines carry trace_id/span_id.
// The loggers are loaded with `require` after the instrumentations are created, as in production.
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode, context, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BunyanInstrumentation } from '@opentelemetry/instrumentation-bunyan';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { WinstonInstrumentation } from '@opentelemetry/instrumentation-winston';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type Bunyan from 'bunyan';
import type { pino as createPino } from 'pino';
import type * as Winston from 'winston';
import type { OtlpTraces } from '../otlp';

/** The repository root the recorded stacks map to: this package's `src/`. */
export const LOGGED_APP_ROOT = fileURLToPath(new URL('../', import.meta.url));

export const LOGGING_LIBRARIES = ['pino', 'bunyan', 'winston'] as const;
export type LoggingLibrary = (typeof LOGGING_LIBRARIES)[number];

/** One recorded failure: its trace export, the failing span and each library's NDJSON output. */
export interface LoggedFailure {
  traces: OtlpTraces;
  traceId: string;
  /** The span the error was thrown and logged in. */
  failingSpanId: string;
  serverSpanId: string;
  lines: Record<LoggingLibrary, string>;
  /** The message of the thrown error. */
  message: string;
}

interface Order {
  id: string;
  amountCents: number;
  card?: { token: string };
}

/** The bug: an order without a card reaches the charge step. */
function chargeCard(order: Order): string {
  if (order.card === undefined) throw new TypeError(`order ${order.id} has no card to charge`);
  return order.card.token;
}

function memoryStream(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const instrumentations = [
  new PinoInstrumentation({ disableLogSending: true }),
  new BunyanInstrumentation({ disableLogSending: true }),
  new WinstonInstrumentation({ disableLogSending: true }),
];
const require = createRequire(import.meta.url);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
for (const instrumentation of instrumentations) instrumentation.enable();
const pino = (require('pino') as { pino: typeof createPino }).pino;
const bunyan = require('bunyan') as typeof Bunyan;
const winston = require('winston') as typeof Winston;

const REQUEST = {
  method: 'POST',
  url: '/v1/payments?dryRun=false',
  headers: { 'content-type': 'application/json', 'x-request-id': 'req-7f3a' },
  body: { orderId: 'ord_7f3a', amountCents: 1299 },
};

/**
 * Runs the failing request once under a real tracer, logging with all three libraries. With
 * `recordException: false` the trace holds no exception event: only the log lines carry the stack.
 */
export async function recordLoggedFailure(options: { recordException: boolean }): Promise<LoggedFailure> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'payments-api', 'service.version': '4.2.0', 'deployment.environment.name': 'production' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('payments-api');
  const out = { pino: memoryStream(), bunyan: memoryStream(), winston: memoryStream() };
  const pinoLogger = pino({ name: 'payments-api' }, out.pino.stream);
  const bunyanLogger = bunyan.createLogger({ name: 'payments-api', streams: [{ stream: out.bunyan.stream, level: 'info' }], serializers: bunyan.stdSerializers });
  const winstonLogger = winston.createLogger({
    format: winston.format.combine(winston.format.errors({ stack: true }), winston.format.timestamp(), winston.format.json()),
    defaultMeta: { service: 'payments-api' },
    transports: [new winston.transports.Stream({ stream: out.winston.stream })],
  });

  const ids = { traceId: '', failingSpanId: '', serverSpanId: '', message: '' };
  const attributes = { 'http.request.method': 'POST', 'http.route': '/v1/payments', 'url.path': '/v1/payments', 'url.query': 'dryRun=false' };
  tracer.startActiveSpan('POST /v1/payments', { kind: SpanKind.SERVER, attributes }, (server: Span) => {
    ids.traceId = server.spanContext().traceId;
    ids.serverSpanId = server.spanContext().spanId;
    pinoLogger.info({ req: REQUEST }, 'payment requested');
    bunyanLogger.info({ req: REQUEST }, 'payment requested');
    winstonLogger.info('payment requested', { req: REQUEST });
    tracer.startActiveSpan('chargeCard', (span: Span) => {
      ids.failingSpanId = span.spanContext().spanId;
      try {
        chargeCard({ id: 'ord_7f3a', amountCents: 1299 });
      } catch (caught) {
        const error = caught as Error;
        ids.message = error.message;
        if (options.recordException) span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        pinoLogger.error({ err: error }, 'payment failed');
        bunyanLogger.error({ err: error }, 'payment failed');
        winstonLogger.error(error);
      }
      span.end();
    });
    server.setAttribute('http.response.status_code', 500);
    server.setStatus({ code: SpanStatusCode.ERROR });
    server.end();
  });

  await new Promise<void>((resolve) => {
    winstonLogger.on('finish', () => resolve());
    winstonLogger.end();
  });
  await provider.forceFlush();
  const serialized = JsonTraceSerializer.serializeRequest(exporter.getFinishedSpans());
  if (!serialized) throw new Error('OTLP JSON serialization produced no output');
  await provider.shutdown();
  return {
    traces: JSON.parse(new TextDecoder().decode(serialized)) as OtlpTraces,
    ...ids,
    lines: { pino: out.pino.text(), bunyan: out.bunyan.text(), winston: out.winston.text() },
  };
}
