// The HTTP intake: POST /v1/alerts (and the OTLP/HTTP paths /v1/traces and /v1/logs, and Sentry's
// /api/<project>/envelope/) stores the raw alert, works out which incident it belongs to and starts
// or signals that incident's workflow with a reference; GET /healthz reports Temporal reachability.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { TracemendError, type AlertFormat, type FailureEnvelope } from '@tracemend/contracts';
import { DEFAULT_OTLP_PROTOBUF_LIMITS, readAlert, type EvidenceStore } from '@tracemend/ingest';
import type { Logger } from '@tracemend/telemetry';
import { DEFAULT_BODY_LIMITS, checkBodyStructure, decodeUtf8, parseJsonBody, type BodyLimits } from './body';
import { checkSentryEnvelope, protobufRefusal } from './decode';
import { bodyEncoding, jsonFormat, namedFormatFor, protobufFormat, type IntakeRoute } from './formats';
import {
  DEFAULT_REFUSED_BODY_DRAIN,
  HttpError,
  bearerMatcher,
  contentCoding,
  gunzipBounded,
  mediaType,
  readBody,
  secretMatcher,
  sendJson,
  sendOtlpAccepted,
  sentryKey,
  type RefusedBodyDrain,
} from './http';
import { createAlertmanagerIntake } from './alertmanager';
import { createIncidentAttacher, type Attachment, type FailureIdentity } from './incidents';

export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;

/** What Sentry SDKs accept as a DSN public key. */
const SENTRY_KEY = /^\w{16,}$/;

export interface GatewayOptions {
  store: EvidenceStore;
  client: Client;
  namespace: string;
  /** The bearer token alert senders present; on Sentry's route also the DSN public key when it is word characters only. */
  token: string;
  /**
   * The public key of the Sentry DSN (`http://<key>@<gateway>/<project>`), accepted on Sentry's route
   * beside the token. Sentry SDKs only take a key of letters, digits and underscores.
   */
  sentryKey?: string;
  /** Larger bodies are refused with 413 (default 5 MiB). */
  maxBodyBytes?: number;
  /**
   * How much of a body refused before it was read to its end (over `maxBodyBytes`, unauthorized, ...)
   * is read and discarded after the answer, so the client can read the answer (default 64 MiB, 10 s).
   */
  refusedBodyDrain?: Partial<RefusedBodyDrain>;
  /** Depth, attribute and key limits of a parsed body (defaults: 64 levels, 10,000 attributes, 10,000 keys per object). */
  bodyLimits?: Partial<BodyLimits>;
  logger: Logger;
  /** Deployed code roots that map stack frames to repository paths (ingest's defaults when unset). */
  appRoots?: readonly string[];
  /** How long a request waits for Temporal before answering 503 (default 10 s). */
  temporalTimeoutMs?: number;
  /** How long an Alertmanager alert waits for the failure it points at (default 5 minutes). */
  alertHoldMs?: number;
  /** How far around an alert's startsAt/endsAt a failure of its service counts (default 5 minutes). */
  alertWindowMarginMs?: number;
}

export interface Gateway {
  /** Listens on `host:port` (port 0 picks a free one); resolves once the socket is bound. */
  listen(port: number, host?: string): Promise<void>;
  close(): Promise<void>;
  /** `http://host:port` once listening. */
  readonly url: string;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function identityOf(envelope: FailureEnvelope): FailureIdentity {
  return { fingerprint: envelope.identity.fingerprint, service: envelope.identity.service, errorType: envelope.symptom.errorType };
}

/** The intake route of a path, or undefined for any other path. */
function intakeRoute(pathname: string): IntakeRoute | undefined {
  if (pathname === '/v1/alerts') return 'alerts';
  if (pathname === '/v1/traces') return 'traces';
  if (pathname === '/v1/logs') return 'logs';
  return /^\/api\/[A-Za-z0-9_-]{1,64}\/envelope\/?$/.test(pathname) ? 'sentry' : undefined;
}

/** What became of the alerts of a webhook, or of the alerts recorded on an incident. */
const EVENTS_ROUTE = /^\/v1\/(alerts|incidents)\/([0-9a-f]{7,128})\/events$/;

function unauthorized(route: IntakeRoute): HttpError {
  const how = route === 'sentry' ? 'send Authorization: Bearer <token>, or report with the DSN http://<sentry key>@<gateway>/<project>' : 'send Authorization: Bearer <token>';
  return new HttpError(401, 'UNAUTHORIZED', `missing or wrong bearer token; ${how}`, {}, { 'www-authenticate': 'Bearer realm="tracemend"' });
}

function stageErrorStatus(error: TracemendError): number {
  return error.code === 'INVALID_INPUT' || error.code === 'NO_FAILURE_IN_ALERT' || error.code === 'UNSUPPORTED_ALERT_FORMAT' ? 422 : 500;
}

/** Creates the gateway's HTTP server (not yet listening). */
export function createGateway(options: GatewayOptions): Gateway {
  const { store, client, namespace, logger } = options;
  if (options.token.length === 0) throw new Error('the gateway needs a non-empty bearer token');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const bodyLimits: BodyLimits = { ...DEFAULT_BODY_LIMITS, ...options.bodyLimits };
  const drain: RefusedBodyDrain = { ...DEFAULT_REFUSED_BODY_DRAIN, ...options.refusedBodyDrain };
  if (!(drain.maxBytes >= 0 && drain.maxMs > 0 && Number.isFinite(drain.maxBytes) && Number.isFinite(drain.maxMs))) {
    throw new Error(`refusedBodyDrain needs a finite maxBytes of 0 or more and a finite maxMs above 0; got maxBytes ${drain.maxBytes}, maxMs ${drain.maxMs}`);
  }
  const authorized = bearerMatcher(options.token);
  if (options.sentryKey !== undefined && !SENTRY_KEY.test(options.sentryKey)) {
    throw new Error('the Sentry key must be at least 16 letters, digits or underscores: Sentry SDKs refuse any other DSN public key');
  }
  const sentryKeys = [options.token, options.sentryKey].filter((key): key is string => key !== undefined && SENTRY_KEY.test(key)).map(secretMatcher);
  if (sentryKeys.length === 0) {
    logger.warn('the token is not a valid Sentry DSN public key (letters, digits and underscores); set a Sentry key for Sentry SDKs to report to the gateway');
  }
  const temporalTimeoutMs = options.temporalTimeoutMs ?? 10_000;
  const attachToIncident = createIncidentAttacher(client, namespace);
  const alertHoldMs = options.alertHoldMs ?? 5 * 60_000;
  const alertmanager = createAlertmanagerIntake({
    store,
    logger,
    attach: (input) => attach(input),
    holdMs: alertHoldMs,
    windowMarginMs: options.alertWindowMarginMs ?? 5 * 60_000,
    ...(options.appRoots ? { appRoots: options.appRoots } : {}),
  });

  async function attach(input: Parameters<typeof attachToIncident>[0]): Promise<Attachment> {
    try {
      return await client.withDeadline(Date.now() + temporalTimeoutMs, () => attachToIncident(input));
    } catch (error) {
      logger.error({ err: { name: (error as Error).name, message: (error as Error).message }, alertId: input.occurrence.alertId }, 'temporal refused the incident');
      throw new HttpError(
        503,
        'TEMPORAL_UNAVAILABLE',
        `the alert is stored (alertId ${input.occurrence.alertId}) but Temporal did not take the incident: ${(error as Error).message}; send it again`,
        {},
        { 'retry-after': '5' },
      );
    }
  }

  /**
   * Reads any alert through ingest's intake (format, joins with the stored evidence of its traces,
   * fingerprint) and acts on what it comes to: a failure is stored and attached to its incident,
   * evidence is stored for its traces, a webhook resolves its alerts, SDK telemetry is acknowledged.
   */
  async function intake(format: AlertFormat, bytes: Buffer, json: unknown, receivedAt: string, log: Record<string, unknown>): Promise<{ status: number; answer: Record<string, unknown> }> {
    log.format = format;
    const reading = await readAlert({
      store,
      bytes,
      format,
      json,
      source: { alertId: sha256(bytes), receivedAt },
      limits: { ...DEFAULT_OTLP_PROTOBUF_LIMITS, maxDepth: bodyLimits.maxDepth, maxAttributes: bodyLimits.maxAttributes },
      ...(options.appRoots ? { appRoots: options.appRoots } : {}),
    }).catch((error: unknown) => {
      throw protobufRefusal(error, format);
    });
    switch (reading.kind) {
      case 'ignored':
        Object.assign(log, { ignored: reading.itemTypes.join(',') });
        return { status: 200, answer: { format, status: 'ignored', itemTypes: reading.itemTypes, reason: 'SDK telemetry (performance, sessions, client reports) describes no failure; nothing to do' } };
      case 'webhook': {
        const answer = await alertmanager.intakeWebhook(reading.webhook, bytes, receivedAt);
        Object.assign(log, { alertId: answer.alertId, incidents: answer.incidents.length, resolved: answer.resolved.length, waiting: answer.waiting.length, unresolved: answer.unresolved.length });
        return { status: 202, answer };
      }
      case 'evidence': {
        const alert = await store.putAlert({ bytes, format, receivedAt, traceIds: reading.traceIds });
        Object.assign(log, { alertId: alert.alertId, traces: reading.traceIds.length });
        return { status: 202, answer: { alertId: alert.alertId, format, traceIds: reading.traceIds, status: 'stored', reason: reading.reason } };
      }
      case 'failure': {
        const failure = identityOf(reading.envelope);
        const stored = await store.putAlert({ bytes, format, receivedAt, serviceHint: failure.service, traceIds: reading.traceIds });
        // Log lines joined to a stored trace start the incident from that trace, as ingest reads it.
        const attachment = await attach({ failure, alert: reading.basis ?? stored, occurrence: { alertId: stored.alertId, receivedAt } });
        // Alertmanager alerts that arrived before this failure join its incident now.
        const joinedAlerts = await alertmanager.joinWaiting(reading.envelope, reading.basis ?? stored, reading.traceIds);
        Object.assign(log, { alertId: stored.alertId, incidentId: attachment.incidentId, workflowId: attachment.workflowId, attach: attachment.status, joinedAlerts });
        return {
          status: 202,
          answer: {
            incidentId: attachment.incidentId,
            workflowId: attachment.workflowId,
            fingerprint: attachment.fingerprint,
            alertId: stored.alertId,
            format,
            status: attachment.status,
            ...(reading.basis && reading.envelope.identity.traceId ? { joinedTrace: reading.envelope.identity.traceId } : {}),
            ...(joinedAlerts > 0 ? { joinedAlerts } : {}),
          },
        };
      }
    }
  }

  /** Whether the request carries the token: as a bearer token, or (on Sentry's route) as the DSN's public key. */
  function carriesToken(req: IncomingMessage, route: IntakeRoute, query: URLSearchParams): boolean {
    if (authorized(req.headers.authorization)) return true;
    if (route !== 'sentry') return false;
    const key = sentryKey(req.headers['x-sentry-auth'], query);
    // Every matcher runs, so the time taken does not tell which key matched.
    return sentryKeys.map((matches) => matches(key)).includes(true);
  }

  async function postAlert(req: IncomingMessage, res: ServerResponse, route: IntakeRoute, query: URLSearchParams, log: Record<string, unknown>): Promise<void> {
    if (!carriesToken(req, route, query)) {
      throw unauthorized(route);
    }
    const encoding = bodyEncoding(mediaType(req.headers['content-type']), route);
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if ((encoding === 'json' || encoding === 'ndjson') && charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `charset ${JSON.stringify(charset.slice(0, 32))} is not supported; JSON bodies must be UTF-8`);
    }
    const coding = contentCoding(req.headers['content-encoding']);
    // The query is checked before the body is read.
    const named = route === 'alerts' && encoding !== 'protobuf' ? namedFormatFor(query, encoding) : undefined;
    const protobuf = encoding === 'protobuf' ? protobufFormat(route, query) : undefined;
    const received = await readBody(req, maxBodyBytes);
    // The size limit holds for the body as sent and as inflated; the inflated body is what is stored.
    const bytes = coding === 'gzip' ? await gunzipBounded(received, maxBodyBytes) : received;
    log.sizeBytes = bytes.byteLength;
    if (coding === 'gzip') log.receivedBytes = received.byteLength;
    const receivedAt = new Date().toISOString();
    let format: AlertFormat;
    let json: unknown;
    if (protobuf !== undefined) {
      format = protobuf;
    } else if (encoding === 'ndjson') {
      format = 'log-lines';
      decodeUtf8(bytes);
    } else if (encoding === 'sentry-envelope') {
      format = 'sentry-envelope';
      checkSentryEnvelope(bytes, bodyLimits);
    } else {
      json = parseJsonBody(decodeUtf8(bytes));
      checkBodyStructure(json, bodyLimits);
      format = jsonFormat(route, named, json);
    }
    const { status, answer } = await intake(format, bytes, json, receivedAt, log);
    if (route === 'traces' || route === 'logs') sendOtlpAccepted(res, encoding, answer);
    else sendJson(res, status, answer);
  }

  async function healthz(res: ServerResponse): Promise<void> {
    try {
      await client.withDeadline(Date.now() + Math.min(temporalTimeoutMs, 3_000), () => client.workflowService.describeNamespace({ namespace }));
      sendJson(res, 200, { status: 'ok', temporal: { reachable: true, namespace } });
    } catch (error) {
      sendJson(res, 200, { status: 'degraded', temporal: { reachable: false, namespace, error: (error as Error).message.slice(0, 500) } });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const log: Record<string, unknown> = { method: req.method, route: url.pathname.slice(0, 64) };
    const route = intakeRoute(url.pathname);
    try {
      if (url.pathname === '/healthz') {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method ?? ''} is not allowed on /healthz; use GET`, {}, { allow: 'GET, HEAD' });
        await healthz(res);
      } else if (EVENTS_ROUTE.test(url.pathname)) {
        if (req.method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method ?? ''} is not allowed on ${url.pathname.slice(0, 100)}; use GET`, {}, { allow: 'GET' });
        if (!authorized(req.headers.authorization)) throw unauthorized('alerts');
        const [, kind, id] = EVENTS_ROUTE.exec(url.pathname) ?? [];
        const key = kind === 'incidents' ? { incidentId: id ?? '' } : { alertId: id ?? '' };
        sendJson(res, 200, { ...key, events: await store.alertEvents(key) });
      } else if (route !== undefined) {
        if (req.method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method ?? ''} is not allowed on ${url.pathname.slice(0, 100)}; use POST`, {}, { allow: 'POST' });
        await postAlert(req, res, route, url.searchParams, log);
      } else {
        throw new HttpError(
          404,
          'NOT_FOUND',
          `no route ${url.pathname.slice(0, 200)}; the gateway serves POST /v1/alerts, /v1/traces, /v1/logs and /api/<project>/envelope/, GET /v1/alerts/<alertId>/events, /v1/incidents/<incidentId>/events and /healthz`,
        );
      }
    } catch (error) {
      if (error instanceof HttpError) {
        log.code = error.code;
        sendJson(res, error.status, { error: { code: error.code, message: error.message, ...error.details } }, { headers: error.headers, drain });
      } else if (error instanceof TracemendError) {
        log.code = error.code;
        const status = stageErrorStatus(error);
        const message = status === 500 ? 'an unexpected error inside the gateway; see its log' : error.message;
        if (status === 500) logger.error({ code: error.code, err: { name: error.name } }, 'alert intake failed');
        sendJson(res, status, { error: { code: error.code, message } }, { drain });
      } else {
        log.code = 'INTERNAL';
        // Messages of unexpected errors may quote alert values: only the name and frames reach the log.
        const stack = (error as Error).stack?.split('\n').slice(1, 6).join('\n');
        logger.error({ err: { name: (error as Error).name, stack } }, 'alert intake failed');
        sendJson(res, 500, { error: { code: 'INTERNAL', message: 'an unexpected error inside the gateway; see its log' } }, { drain });
      }
    } finally {
      log.status = res.statusCode;
      log.durationMs = Math.round(performance.now() - started);
      if (url.pathname !== '/healthz') logger.info(log, 'request');
    }
  }

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  let address: AddressInfo | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  /** Alerts that waited past their time are recorded as timed out, checked a few times per hold period. */
  function sweep(): void {
    alertmanager.expireWaiting().catch((error: unknown) => logger.error({ err: { name: (error as Error).name } }, 'expiring held alerts failed'));
  }

  return {
    async listen(port, host = '127.0.0.1') {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      address = server.address() as AddressInfo;
      sweeper = setInterval(sweep, Math.max(50, Math.min(alertHoldMs / 4, 5_000)));
      sweeper.unref();
      logger.info({ host: address.address, port: address.port, maxBodyBytes, ...bodyLimits }, 'gateway listening');
    },
    async close() {
      clearInterval(sweeper);
      if (!server.listening) return;
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeIdleConnections();
      await closed;
    },
    get url() {
      if (!address) throw new Error('the gateway is not listening');
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${host}:${address.port}`;
    },
  };
}
