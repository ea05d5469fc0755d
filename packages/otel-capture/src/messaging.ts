import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { resolveCaptureOptions, type CaptureOptions } from './options.js';
import { recordResolvedPayload } from './payload.js';

/** The part of a kafkajs message the hooks read. */
export interface KafkaMessageLike {
  value: Buffer | string | null;
}

/** The hook `@opentelemetry/instrumentation-kafkajs` accepts as `consumerHook`. */
export interface KafkajsCaptureHooks {
  consumerHook: (span: Span, info: { topic: string; message: KafkaMessageLike }) => void;
}

/** A hook for `@opentelemetry/instrumentation-kafkajs`: each consumed message's value goes on its CONSUMER span as `messaging.message.body`. */
export function captureKafkajs(options?: CaptureOptions): KafkajsCaptureHooks {
  const resolved = resolveCaptureOptions(options);
  return {
    consumerHook: (span, { message }) => recordResolvedPayload(span, 'messaging.message.body', message.value, resolved),
  };
}

/**
 * Wraps a kafkajs `eachMessage` handler so that the message value is recorded as
 * `messaging.message.body` on the span active when it runs (the kafkajs instrumentation's process span).
 */
export function withKafkaMessage<P extends { message: KafkaMessageLike }, R>(eachMessage: (payload: P) => R, options?: CaptureOptions): (payload: P) => R {
  const resolved = resolveCaptureOptions(options);
  return (payload) => {
    const span = trace.getActiveSpan();
    if (span) recordResolvedPayload(span, 'messaging.message.body', payload.message.value, resolved);
    return eachMessage(payload);
  };
}

/** An SQS message as a Lambda SQS event record (`body`, `messageId`) or an SDK ReceiveMessage result (`Body`, `MessageId`) carries it. */
export interface SqsRecordLike {
  body?: string;
  Body?: string;
  messageId?: string;
  MessageId?: string;
  eventSourceARN?: string;
}

/** Options for {@link withSqsRecord}. */
export interface SqsCaptureOptions extends CaptureOptions {
  /** Tracer the process span is started with; defaults to the global provider's tracer for this package. */
  tracer?: Tracer;
  /** Queue name, when the record does not carry its source ARN (SDK ReceiveMessage results do not). */
  queueName?: string;
}

/**
 * Runs `process` for one SQS record inside a CONSUMER span (`messaging.operation.type=process`) that
 * carries the standard messaging attributes and the body as `messaging.message.body`; an exception
 * is recorded on the span and rethrown.
 */
export async function withSqsRecord<R>(record: SqsRecordLike, process: (record: SqsRecordLike) => R | Promise<R>, options: SqsCaptureOptions = {}): Promise<R> {
  const resolved = resolveCaptureOptions(options);
  const tracer = options.tracer ?? trace.getTracer('@tracemend/otel-capture');
  const queue = options.queueName ?? record.eventSourceARN?.split(':').pop();
  const messageId = record.messageId ?? record.MessageId;
  const span = tracer.startSpan(queue ? `process ${queue}` : 'process', {
    kind: SpanKind.CONSUMER,
    attributes: {
      'messaging.system': 'aws_sqs',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      ...(queue ? { 'messaging.destination.name': queue } : {}),
      ...(messageId ? { 'messaging.message.id': messageId } : {}),
    },
  });
  recordResolvedPayload(span, 'messaging.message.body', record.body ?? record.Body, resolved);
  try {
    return await context.with(trace.setSpan(context.active(), span), () => process(record));
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}
