// A real SDK pipeline for tests: spans go to an in-memory exporter as soon as they end.
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface TestTracing {
  provider: NodeTracerProvider;
  exporter: InMemorySpanExporter;
  /** Waits until a span matching `match` has ended and returns it. */
  waitForSpan(match: (span: ReadableSpan) => boolean, what: string): Promise<ReadableSpan>;
}

export function startTracing(): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return {
    provider,
    exporter,
    async waitForSpan(match, what) {
      for (let attempt = 0; attempt < 200; attempt += 1) {
        const span = exporter.getFinishedSpans().find(match);
        if (span) return span;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const seen = exporter.getFinishedSpans().map((s) => `${SpanKind[s.kind]} ${s.name}`);
      throw new Error(`no ${what} span ended; spans seen: ${seen.join(', ') || 'none'}`);
    },
  };
}

export const isServer = (span: ReadableSpan): boolean => span.kind === SpanKind.SERVER;
export const isClient = (span: ReadableSpan): boolean => span.kind === SpanKind.CLIENT;
