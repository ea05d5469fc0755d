import { trace, type Span } from '@opentelemetry/api';
import { resolveCaptureOptions, type CaptureOptions } from './options.js';
import { recordResolvedPayload } from './payload.js';

/** The hook `@opentelemetry/instrumentation-aws-lambda` accepts as `requestHook`. */
export interface LambdaCaptureHooks {
  requestHook: (span: Span, info: { event: unknown; context: unknown }) => void;
}

/** A hook for `@opentelemetry/instrumentation-aws-lambda`: the invocation event goes on the function's span as `faas.event` (JSON text). */
export function captureLambda(options?: CaptureOptions): LambdaCaptureHooks {
  const resolved = resolveCaptureOptions(options);
  return {
    requestHook: (span, { event }) => recordResolvedPayload(span, 'faas.event', event, resolved),
  };
}

/**
 * Wraps a Lambda handler so that its event is recorded as `faas.event` on the span active when it is
 * called, for setups where the instrumentation's configuration cannot be reached (e.g. a layer).
 */
export function withLambdaEvent<E, C, R>(handler: (event: E, context: C, ...rest: unknown[]) => R, options?: CaptureOptions): (event: E, context: C, ...rest: unknown[]) => R {
  const resolved = resolveCaptureOptions(options);
  return function capturedHandler(this: unknown, event: E, context: C, ...rest: unknown[]): R {
    const span = trace.getActiveSpan();
    if (span) recordResolvedPayload(span, 'faas.event', event, resolved);
    return handler.call(this, event, context, ...rest);
  };
}
