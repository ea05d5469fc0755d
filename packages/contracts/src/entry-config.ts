import { z } from 'zod';
import { boundedString, Identifier } from './primitives';

/** A module of the repository (repo-relative path) and one of its exports. */
export const ModuleExport = z.object({ module: boundedString(1_024), export: Identifier });
export type ModuleExport = z.infer<typeof ModuleExport>;

/**
 * For HTTP services: the exported factory the replay harness calls to build the app (sync or async;
 * express, fastify, koa, hapi, NestJS, a request listener or an http.Server). `args` names a module
 * whose export builds the factory's arguments, e.g. the helper the repository's own tests use to make
 * in-memory fakes: a function (awaited) or a value; an array is the argument list, anything else the
 * one argument.
 */
export const HttpAppConfig = ModuleExport.extend({ args: ModuleExport.optional() });
export type HttpAppConfig = z.infer<typeof HttpAppConfig>;

/** The invocation event shapes a function (FaaS) handler is replayed with; `auto` reads it from the trace. */
export const FaasEventShape = z.enum(['auto', 'api-gateway-v1', 'api-gateway-v2', 'sqs', 'sns', 'eventbridge', 'scheduled', 'raw']);
export type FaasEventShape = z.infer<typeof FaasEventShape>;

/** For functions (AWS Lambda and peers): the exported handler `(event, context)` and the event shape. */
export const FunctionHandlerConfig = ModuleExport.extend({ event: FaasEventShape.default('auto') });
export type FunctionHandlerConfig = z.infer<typeof FunctionHandlerConfig>;

/** How a queue consumer receives one message; `auto` reads it from the trace's messaging attributes. */
export const MessageEnvelopeShape = z.enum(['auto', 'sqs-batch', 'sqs-record', 'sns', 'kafka', 'payload']);
export type MessageEnvelopeShape = z.infer<typeof MessageEnvelopeShape>;

/** For queue consumers: the exported handler and the envelope it expects around the payload. */
export const MessageHandlerConfig = ModuleExport.extend({ envelope: MessageEnvelopeShape.default('auto') });
export type MessageHandlerConfig = z.infer<typeof MessageHandlerConfig>;

/** The variable a replay sets the recorded flags in, as one JSON object, when the catalog names none. */
export const DEFAULT_FEATURE_FLAGS_VARIABLE = 'FEATURE_FLAGS';

/**
 * Where the service's flag client reads its feature flags, so a replay sets the flags the trace
 * recorded (`feature_flag.*` evaluation events and attributes) where the code looks for them. Without
 * it a replay sets `FEATURE_FLAGS` to the flags as one JSON object.
 */
export const FeatureFlagsConfig = z
  .object({
    /** The environment variable the flag client reads. */
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected an environment variable name (letters, digits, _)'),
    /** `json`: one JSON object of flag → value; `pairs`: `key=value` items joined by `separator`. */
    format: z.enum(['json', 'pairs']).default('json'),
    separator: z.string().min(1).max(8).default(','),
    /** How `pairs` writes a boolean flag that is on, and one that is off (e.g. `on`/`off`, `1`/`0`). */
    on: boundedString(64).default('true'),
    off: boundedString(64).default('false'),
  })
  .strict();
export type FeatureFlagsConfig = z.infer<typeof FeatureFlagsConfig>;
