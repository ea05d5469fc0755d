import type { Span } from '@opentelemetry/api';
import { resolveCaptureOptions, type CaptureOptions } from './options.js';
import { ByteCollector, formatOfContentType, renderText, setPayload, type PayloadFormat } from './payload.js';

/** The part of undici's request object the hooks use; undici calls `onData` per body chunk and `onComplete` at the end. */
export interface UndiciRequestLike {
  onData?: (chunk: Buffer) => unknown;
  onComplete?: (trailers: unknown) => unknown;
}

/** The response information undici's diagnostics channel publishes (raw header pairs). */
export interface UndiciResponseLike {
  headers: (Buffer | string)[];
  statusCode: number;
}

/** The hooks `@opentelemetry/instrumentation-undici` accepts as `requestHook` and `responseHook`. */
export interface UndiciCaptureHooks {
  // `object`: undici's published request type does not declare the handler methods the hook wraps.
  requestHook: (span: Span, request: object) => void;
  responseHook: (span: Span, info: { request: object; response: UndiciResponseLike }) => void;
}

/**
 * Hooks for `@opentelemetry/instrumentation-undici` (which also covers Node's global `fetch`): the
 * response body of each call goes on its CLIENT span as `http.response.body.content`. The chunks are
 * observed as undici hands them to the caller, so the app's Response is untouched.
 */
export function captureUndici(options?: CaptureOptions): UndiciCaptureHooks {
  const resolved = resolveCaptureOptions(options);
  const formats = new WeakMap<object, PayloadFormat>();
  return {
    requestHook: (span, undiciRequest) => {
      const request = undiciRequest as UndiciRequestLike;
      const onData = request.onData;
      const onComplete = request.onComplete;
      if (typeof onData !== 'function' || typeof onComplete !== 'function') return;
      const collector = new ByteCollector(resolved.maxBytes);
      request.onData = function tappedOnData(this: UndiciRequestLike, chunk: Buffer) {
        if (formats.has(request)) collector.push(chunk);
        return onData.call(this, chunk);
      };
      // The instrumentation ends the span from inside onComplete, so the body is set before calling it.
      request.onComplete = function tappedOnComplete(this: UndiciRequestLike, trailers: unknown) {
        const format = formats.get(request);
        if (format && collector.total > 0) {
          try {
            setPayload(span, 'http.response.body', renderText(collector.text(), format, collector.complete, 'http.response.body', resolved), collector.total);
          } catch {
            // Recording evidence must never break the call it observes.
          }
        }
        return onComplete.call(this, trailers);
      };
    },
    responseHook: (_span, { request, response }) => {
      const format = recordableFormat(response.headers);
      if (format) formats.set(request, format);
    },
  };
}

function recordableFormat(rawHeaders: (Buffer | string)[]): PayloadFormat | undefined {
  let contentType: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = String(rawHeaders[i]).toLowerCase();
    const value = String(rawHeaders[i + 1]);
    // fetch decompresses after undici hands over the bytes, so an encoded body would be recorded compressed.
    if (name === 'content-encoding' && value.toLowerCase() !== 'identity') return undefined;
    if (name === 'content-type') contentType = value;
  }
  return formatOfContentType(contentType);
}
