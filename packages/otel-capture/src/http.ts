import type { Span } from '@opentelemetry/api';
import { IncomingMessage, type ClientRequest, type ServerResponse } from 'node:http';
import { resolveCaptureOptions, type CaptureOptions, type PayloadKind, type ResolvedCaptureOptions } from './options.js';
import { renderText, setPayload } from './payload.js';
import { recordableFormat, tapIncoming } from './stream-tap.js';

/** The hooks `@opentelemetry/instrumentation-http` accepts as `requestHook` and `responseHook`. */
export interface HttpCaptureHooks {
  requestHook: (span: Span, request: ClientRequest | IncomingMessage) => void;
  responseHook: (span: Span, response: IncomingMessage | ServerResponse) => void;
}

/**
 * Hooks for `@opentelemetry/instrumentation-http`: the request body of every incoming request goes on
 * the SERVER span as `http.request.body.content`, the response body of every outgoing call on the
 * CLIENT span as `http.response.body.content`. Bodies are read as the app reads them, never consumed.
 */
export function captureHttp(options?: CaptureOptions): HttpCaptureHooks {
  const resolved = resolveCaptureOptions(options);
  return {
    requestHook: (span, request) => {
      // Incoming requests arrive as IncomingMessage; outgoing ones as ClientRequest, whose body is not recorded.
      if (request instanceof IncomingMessage) recordBody(span, request, 'http.request.body', resolved);
    },
    responseHook: (span, response) => {
      // Responses to outgoing calls arrive as IncomingMessage; the server's own reply is a ServerResponse.
      if (response instanceof IncomingMessage) recordBody(span, response, 'http.response.body', resolved);
    },
  };
}

function recordBody(span: Span, message: IncomingMessage, kind: PayloadKind, options: ResolvedCaptureOptions): void {
  const format = recordableFormat(message.headers);
  if (!format) return;
  tapIncoming(message, options.maxBytes, (collector) => {
    if (collector.total === 0) return;
    setPayload(span, kind, renderText(collector.text(), format, collector.complete, kind, options), collector.total);
  });
}
