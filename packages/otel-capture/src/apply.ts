import { captureHttp } from './http.js';
import { captureLambda } from './lambda.js';
import { captureKafkajs } from './messaging.js';
import { resolveCaptureOptions, type CaptureOptions } from './options.js';
import { captureUndici } from './undici.js';

/** What every OpenTelemetry instrumentation exposes to be configured after construction. */
export interface ConfigurableInstrumentation {
  instrumentationName: string;
  getConfig(): object;
  setConfig(config: object): void;
}

type Hooks = Record<string, (...args: never[]) => void>;

const HOOKS_BY_INSTRUMENTATION: Record<string, (options: CaptureOptions) => Hooks> = {
  '@opentelemetry/instrumentation-http': (options) => ({ ...captureHttp(options) }),
  '@opentelemetry/instrumentation-undici': (options) => ({ ...captureUndici(options) }),
  '@opentelemetry/instrumentation-aws-lambda': (options) => ({ ...captureLambda(options) }),
  '@opentelemetry/instrumentation-kafkajs': (options) => ({ ...captureKafkajs(options) }),
};

/** The instrumentation packages {@link applyCapture} knows how to configure. */
export const SUPPORTED_INSTRUMENTATIONS = Object.keys(HOOKS_BY_INSTRUMENTATION);

/**
 * Adds the capture hooks to the instrumentations a service already registers (http, undici,
 * aws-lambda, kafkajs), keeping any hook they already have (theirs runs first). Others are left
 * alone. Returns the names of the instrumentations it configured.
 */
export function applyCapture(instrumentations: readonly ConfigurableInstrumentation[], options: CaptureOptions = {}): string[] {
  resolveCaptureOptions(options);
  const applied: string[] = [];
  for (const instrumentation of instrumentations) {
    const build = HOOKS_BY_INSTRUMENTATION[instrumentation.instrumentationName];
    if (!build) continue;
    const config = instrumentation.getConfig() as Record<string, unknown>;
    const merged: Record<string, unknown> = { ...config };
    for (const [name, hook] of Object.entries(build(options))) merged[name] = chain(config[name], hook);
    instrumentation.setConfig(merged);
    applied.push(instrumentation.instrumentationName);
  }
  if (applied.length === 0) {
    const given = instrumentations.map((i) => i.instrumentationName).join(', ') || 'none';
    throw new TypeError(`otel-capture: applyCapture found no instrumentation it can configure (given: ${given}); pass instances of ${SUPPORTED_INSTRUMENTATIONS.join(', ')}.`);
  }
  return applied;
}

function chain(existing: unknown, added: (...args: never[]) => void): unknown {
  if (typeof existing !== 'function') return added;
  const own = existing as (...args: unknown[]) => unknown;
  return function chainedHook(this: unknown, ...args: never[]) {
    own.apply(this, args);
    added.apply(this, args);
  };
}
