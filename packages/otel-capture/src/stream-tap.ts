import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { ByteCollector, formatOfContentType, type PayloadFormat } from './payload.js';

/**
 * Watches the chunks an IncomingMessage emits to whoever reads it, without adding a listener:
 * a `data` listener would switch the stream to flowing mode and take the body away from the app.
 * `onEnd` runs before the stream's own `end` listeners, i.e. while the span is still open.
 */
export function tapIncoming(message: IncomingMessage, limit: number, onEnd: (collector: ByteCollector) => void): void {
  const collector = new ByteCollector(limit);
  const emit = message.emit.bind(message);
  let done = false;
  message.emit = function tappedEmit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data') collector.push(args[0]);
    else if (event === 'end' && !done) {
      done = true;
      try {
        onEnd(collector);
      } catch {
        // Recording evidence must never break the request it observes.
      }
    }
    return emit(event, ...args);
  } as IncomingMessage['emit'];
}

/** The format to record a message's body in, or undefined when it is not recorded (binary, compressed, no content type). */
export function recordableFormat(headers: IncomingHttpHeaders): PayloadFormat | undefined {
  const encoding = headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') return undefined;
  return formatOfContentType(headers['content-type']);
}
