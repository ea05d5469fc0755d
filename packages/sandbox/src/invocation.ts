import { createHash } from 'node:crypto';
import { TracemendError, type Entry, type FaasEventShape, type FunctionEntry, type MessageEntry, type RepoTarget } from '@tracemend/contracts';

/** The catalog's handlers of a service (and where it reads its feature flags), as triage copied them into the RepoTarget. */
export type EntryHandlers = Partial<Pick<RepoTarget, 'httpApp' | 'functionHandler' | 'messageHandler' | 'featureFlags'>>;

type JsonObject = Record<string, unknown>;
type ConcreteEventShape = Exclude<FaasEventShape, 'auto'>;

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON text of a payload; a string payload is sent as it is, as queues carry text. */
function bodyText(payload: unknown): string {
  return typeof payload === 'string' ? payload : JSON.stringify(payload ?? null);
}

/** A payload read back from message text: JSON when it parses, else the text. */
function parsedBody(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A stable stand-in id for a recording that named none: the same input always gets the same id. */
function stableId(...parts: unknown[]): string {
  const hex = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** One SQS record, as Lambda's SQS event source and SQS consumers receive it. */
export function sqsRecord(payload: unknown, message: { topic?: string; messageId?: string; headers?: Readonly<Record<string, string>>; sentAt?: string }): JsonObject {
  const body = bodyText(payload);
  const queue = message.topic && message.topic !== '' ? message.topic : 'queue';
  const sentAt = String(message.sentAt === undefined ? 0 : Date.parse(message.sentAt) || 0);
  return {
    messageId: message.messageId ?? stableId('sqs', body),
    receiptHandle: stableId('receipt', body),
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: sentAt, SenderId: ACCOUNT, ApproximateFirstReceiveTimestamp: sentAt },
    messageAttributes: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' }])),
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}`,
    awsRegion: REGION,
  };
}

/** An SNS event of one notification. */
export function snsEvent(payload: unknown, message: { topic?: string; messageId?: string; headers?: Readonly<Record<string, string>>; sentAt?: string }): JsonObject {
  const text = bodyText(payload);
  const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${message.topic && message.topic !== '' ? message.topic : 'topic'}`;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topicArn}:${stableId('subscription', topicArn)}`,
        Sns: {
          Type: 'Notification',
          MessageId: message.messageId ?? stableId('sns', text),
          TopicArn: topicArn,
          Subject: null,
          Message: text,
          Timestamp: message.sentAt ?? new Date(0).toISOString(),
          MessageAttributes: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, { Type: 'String', Value: value }])),
        },
      },
    ],
  };
}

/** The payload an event of a known shape carries (the first record's, for batches). */
export function eventPayload(event: unknown, shape: ConcreteEventShape): unknown {
  if (!isObject(event)) return event;
  const records = Array.isArray(event.Records) ? (event.Records as unknown[]) : [];
  const first = isObject(records[0]) ? records[0] : undefined;
  switch (shape) {
    case 'sqs':
      return first === undefined ? event : parsedBody(first.body);
    case 'sns':
      return isObject(first?.Sns) ? parsedBody(first.Sns.Message) : event;
    case 'eventbridge':
    case 'scheduled':
      return 'detail' in event ? event.detail : event;
    case 'api-gateway-v1':
    case 'api-gateway-v2':
      return 'body' in event ? parsedBody(event.isBase64Encoded === true && typeof event.body === 'string' ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : event;
    case 'raw':
      return event;
  }
}

/** An event of `shape` around a payload, for a handler the catalog says expects that shape. */
export function eventOfShape(payload: unknown, shape: ConcreteEventShape, at: { recordedAt: string; name?: string }): unknown {
  switch (shape) {
    case 'raw':
      return payload;
    case 'sqs':
      return { Records: [sqsRecord(payload, { sentAt: at.recordedAt })] };
    case 'sns':
      return snsEvent(payload, { sentAt: at.recordedAt });
    case 'eventbridge':
    case 'scheduled':
      return {
        version: '0',
        id: stableId('event', payload, at.recordedAt),
        'detail-type': shape === 'scheduled' ? 'Scheduled Event' : 'tracemend.replay',
        source: shape === 'scheduled' ? 'aws.events' : 'tracemend.replay',
        account: ACCOUNT,
        time: at.recordedAt.replace(/\.\d+Z$/, 'Z'),
        region: REGION,
        resources: shape === 'scheduled' ? [`arn:aws:events:${REGION}:${ACCOUNT}:rule/${at.name ?? 'schedule'}`] : [],
        detail: shape === 'scheduled' && payload === undefined ? {} : payload,
      };
    case 'api-gateway-v1':
      return {
        resource: '/',
        path: '/',
        httpMethod: 'POST',
        headers: { 'content-type': 'application/json' },
        multiValueHeaders: { 'content-type': ['application/json'] },
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        pathParameters: null,
        stageVariables: null,
        requestContext: { httpMethod: 'POST', path: '/', stage: '$default', requestTimeEpoch: Date.parse(at.recordedAt) },
        body: bodyText(payload),
        isBase64Encoded: false,
      };
    case 'api-gateway-v2':
      return {
        version: '2.0',
        routeKey: '$default',
        rawPath: '/',
        rawQueryString: '',
        headers: { 'content-type': 'application/json' },
        requestContext: { http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'tracemend-replay' }, stage: '$default', timeEpoch: Date.parse(at.recordedAt) },
        body: bodyText(payload),
        isBase64Encoded: false,
      };
  }
}

/**
 * The recorded event adapted to the shape the catalog says the handler expects: unwrapped from its
 * recorded shape to its payload, then wrapped in the expected one. Same shape, or `auto`: unchanged.
 */
export function adaptEvent(event: unknown, recorded: ConcreteEventShape, expected: FaasEventShape, at: { recordedAt: string; name?: string }): unknown {
  if (expected === 'auto' || expected === recorded) return event;
  return eventOfShape(eventPayload(event, recorded), expected, at);
}

function missingHandler(service: string, field: 'functionHandler' | 'messageHandler', what: string): TracemendError {
  return new TracemendError(
    'INVALID_INPUT',
    `the ${what} of ${service} names no handler module: add services.${service}.${field} {module, export} to the service catalog (tracemend.config.yaml)`,
    { details: { service, field } },
  );
}

/**
 * The entry with what the catalog adds: the handler module and export when telemetry could not name
 * them (`module` ''), the event adapted to the catalog's shape, and the message envelope to deliver in.
 * Throws INVALID_INPUT naming the catalog field when neither names the handler.
 */
export function resolveEntry(entry: Entry, handlers: EntryHandlers, context: { service: string; recordedAt: string }): Entry {
  switch (entry.kind) {
    case 'http':
      if (handlers.httpApp === undefined) {
        throw new TracemendError(
          'INVALID_INPUT',
          `the http entry of ${context.service} needs the factory that builds its app: add services.${context.service}.httpApp {module, export} (and args when the factory takes arguments) to the service catalog (tracemend.config.yaml)`,
          { details: { service: context.service, field: 'httpApp' } },
        );
      }
      return entry;
    case 'function':
      return resolveFunction(entry, handlers, context);
    case 'message':
      return resolveMessage(entry, handlers, context);
  }
}

function resolveFunction(entry: FunctionEntry, handlers: EntryHandlers, context: { service: string; recordedAt: string }): FunctionEntry {
  const handler = handlers.functionHandler;
  if (entry.module !== '') return entry;
  if (handler === undefined) {
    // A queue-triggered function whose catalog entry is a message handler taking the whole batch.
    const consumer = handlers.messageHandler;
    const batch = entry.eventShape === 'sqs' || entry.eventShape === 'sns';
    if (consumer !== undefined && batch && (consumer.envelope === 'auto' || consumer.envelope === 'sqs-batch' || consumer.envelope === 'sns')) {
      return { ...entry, module: consumer.module, export: consumer.export };
    }
    throw missingHandler(context.service, 'functionHandler', 'function (FaaS) entry');
  }
  const recorded = entry.eventShape ?? 'raw';
  const expected = handler.event ?? 'auto';
  const [event, ...rest] = entry.args;
  const adapted = adaptEvent(event, recorded, expected, { recordedAt: context.recordedAt, name: context.service });
  return {
    ...entry,
    module: handler.module,
    export: handler.export,
    args: [adapted as FunctionEntry['args'][number], ...rest],
    eventShape: expected === 'auto' ? recorded : expected,
  };
}

/**
 * A message for a function the catalog names by `functionHandler` (a Lambda consuming a queue): the
 * message is delivered inside the event its trigger sends, in the shape the catalog names, else the
 * queue's own (SQS batch, SNS), else as is.
 */
function messageAsInvocation(entry: MessageEntry, handler: NonNullable<EntryHandlers['functionHandler']>, context: { recordedAt: string; service: string }): FunctionEntry {
  const fromQueue: ConcreteEventShape = entry.envelope === 'sns' || entry.system === 'aws_sns' ? 'sns' : entry.envelope === 'sqs-record' || entry.envelope === 'sqs-batch' || entry.system === 'aws_sqs' ? 'sqs' : 'raw';
  const shape: ConcreteEventShape = handler.event === 'auto' ? fromQueue : handler.event;
  const message = { topic: entry.topic, sentAt: context.recordedAt, ...(entry.messageId === undefined ? {} : { messageId: entry.messageId }), ...(entry.headers === undefined ? {} : { headers: entry.headers }) };
  const event = shape === 'sqs' ? { Records: [sqsRecord(entry.payload, message)] } : shape === 'sns' ? snsEvent(entry.payload, message) : eventOfShape(entry.payload, shape, { recordedAt: context.recordedAt, name: context.service });
  return { kind: 'function', module: handler.module, export: handler.export, args: [event as FunctionEntry['args'][number], {}], trigger: 'pubsub', eventShape: shape };
}

function resolveMessage(entry: MessageEntry, handlers: EntryHandlers, context: { service: string; recordedAt: string }): MessageEntry | FunctionEntry {
  // An entry that names its module is resolved already (or was recorded by the handler itself, which
  // ingest marks as a `payload` envelope): resolving again changes nothing.
  if (entry.module !== '') return { ...entry, envelope: entry.envelope ?? 'payload' };
  const handler = handlers.messageHandler;
  if (handler === undefined) {
    if (handlers.functionHandler !== undefined) return messageAsInvocation(entry, handlers.functionHandler, context);
    throw missingHandler(context.service, 'messageHandler', 'message entry');
  }
  const envelope = handler.envelope === 'auto' ? (entry.envelope ?? 'payload') : handler.envelope;
  return { ...entry, module: handler.module, export: handler.export, envelope };
}

/** Whether a function entry is a FaaS invocation, called as `handler(event, context)`. */
export function isFaasInvocation(entry: FunctionEntry): boolean {
  return entry.eventShape !== undefined || entry.trigger !== undefined;
}

/** The JSON fields of the Lambda-like context a handler gets, from the recorded context argument. */
export function lambdaContextFields(entry: FunctionEntry): JsonObject {
  const recorded = isObject(entry.args[1]) ? entry.args[1] : {};
  const text = (name: string, fallback: string): string => {
    const value = recorded[name];
    return typeof value === 'string' && value !== '' ? value : fallback;
  };
  const functionName = text('functionName', entry.export === 'handler' && entry.module !== '' ? (entry.module.split('/').at(-1)?.replace(/\.[cm]?[jt]sx?$/, '') ?? 'function') : entry.export);
  const memory = Number(recorded.memoryLimitInMB);
  const remaining = Number(recorded.remainingTimeMs ?? recorded.timeoutMs);
  return {
    ...recorded,
    awsRequestId: text('awsRequestId', stableId('request', entry.args[0] ?? null)),
    functionName,
    functionVersion: text('functionVersion', '$LATEST'),
    invokedFunctionArn: text('invokedFunctionArn', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`),
    memoryLimitInMB: String(Number.isFinite(memory) && memory > 0 ? memory : 128),
    logGroupName: text('logGroupName', `/aws/lambda/${functionName}`),
    logStreamName: text('logStreamName', 'replay'),
    remainingTimeMs: Number.isFinite(remaining) && remaining > 0 ? remaining : 30_000,
  };
}

/** How the harness calls the entry's export: the argument list, as JSON, plus what it must revive. */
export type Invocation =
  | { readonly style: 'call'; readonly args: readonly unknown[] }
  | { readonly style: 'lambda'; readonly event: unknown; readonly context: JsonObject }
  | { readonly style: 'kafka'; readonly payload: JsonObject };

/** The message argument a handler gets for the entry's envelope (`payload` when none is set). */
export function messageArgument(entry: MessageEntry): Invocation {
  const message = { topic: entry.topic, ...(entry.messageId === undefined ? {} : { messageId: entry.messageId }), ...(entry.headers === undefined ? {} : { headers: entry.headers }) };
  switch (entry.envelope ?? 'payload') {
    case 'payload':
      return { style: 'call', args: [entry.payload] };
    case 'sqs-record':
      return { style: 'call', args: [sqsRecord(entry.payload, message)] };
    case 'sqs-batch':
      return { style: 'call', args: [{ Records: [sqsRecord(entry.payload, message)] }] };
    case 'sns':
      return { style: 'call', args: [snsEvent(entry.payload, message)] };
    case 'kafka':
      return {
        style: 'kafka',
        payload: {
          topic: entry.topic,
          partition: 0,
          message: { key: entry.key ?? null, value: bodyText(entry.payload), headers: entry.headers ?? {}, offset: '0', timestamp: '0', attributes: 0 },
        },
      };
  }
}

/** How to call the export of an entry that is not http. */
export function invocationOf(entry: FunctionEntry | MessageEntry): Invocation {
  if (entry.kind === 'message') return messageArgument(entry);
  if (isFaasInvocation(entry)) return { style: 'lambda', event: entry.args[0] ?? {}, context: lambdaContextFields(entry) };
  return { style: 'call', args: entry.args };
}

/** The catalog handlers a RepoTarget carries, for `replayJobFromEnvelope`, `reproduce` and the test emitter. */
export function entryHandlersOf(target: EntryHandlers): EntryHandlers {
  return {
    ...(target.httpApp === undefined ? {} : { httpApp: target.httpApp }),
    ...(target.functionHandler === undefined ? {} : { functionHandler: target.functionHandler }),
    ...(target.messageHandler === undefined ? {} : { messageHandler: target.messageHandler }),
    ...(target.featureFlags === undefined ? {} : { featureFlags: target.featureFlags }),
  };
}
