// Alertmanager webhooks (version "4"). An Alertmanager alert carries no stack; it points at a failure
// through the trace id its rule put into a label or an annotation.
import { z } from 'zod';
import { parseContract } from '@tracemend/contracts';

const Labels = z.record(z.string(), z.string());

const AlertmanagerAlert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: Labels,
  annotations: Labels.default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlert>;

/** The Alertmanager webhook payload, version 4. */
export const AlertmanagerWebhook = z.object({
  version: z.literal('4'),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  receiver: z.string(),
  status: z.enum(['firing', 'resolved']),
  alerts: z.array(AlertmanagerAlert).min(1, 'expected at least one alert').max(1_000),
  groupLabels: Labels.default({}),
  commonLabels: Labels.default({}),
  commonAnnotations: Labels.default({}),
  externalURL: z.string().optional(),
});
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhook>;

/** One alert of a webhook and the failure it points at. */
export interface AlertmanagerTraceRef {
  /** Index of the alert in `webhook.alerts`. */
  alert: number;
  status: 'firing' | 'resolved';
  traceId: string;
  service?: string;
  /** Alertmanager's own fingerprint of the alert's label set. */
  alertFingerprint?: string;
}

const TRACE_KEYS = ['trace_id', 'traceId', 'trace.id', 'traceID'] as const;
const SERVICE_KEYS = ['service', 'service_name', 'service.name', 'job'] as const;
const TRACE_ID = /^[0-9a-f]{16,32}$/;

/** Whether a JSON value has the shape of an Alertmanager webhook (`version: "4"` and an `alerts` array). */
export function isAlertmanagerWebhook(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return record.version === '4' && Array.isArray(record.alerts);
}

/** Parses an Alertmanager webhook or throws INVALID_INPUT naming each failing path. */
export function parseAlertmanagerWebhook(value: unknown): AlertmanagerWebhook {
  return parseContract(AlertmanagerWebhook, value, 'the Alertmanager webhook');
}

function firstOf(keys: readonly string[], ...records: Record<string, string>[]): string | undefined {
  for (const record of records) {
    for (const key of keys) {
      const value = record[key]?.trim();
      if (value) return value;
    }
  }
  return undefined;
}

/** The trace id an alert names (annotations first, then labels, then the group's common ones), lowercased; undefined when absent or not hex. */
export function alertTraceId(alert: AlertmanagerAlert, webhook?: AlertmanagerWebhook): string | undefined {
  const id = firstOf(TRACE_KEYS, alert.annotations, alert.labels, webhook?.commonAnnotations ?? {}, webhook?.commonLabels ?? {})?.toLowerCase();
  return id !== undefined && TRACE_ID.test(id) ? id : undefined;
}

/** The failures a webhook points at: one entry per alert that names a well-formed trace id. */
export function alertmanagerTraceIds(webhook: AlertmanagerWebhook): AlertmanagerTraceRef[] {
  const refs: AlertmanagerTraceRef[] = [];
  webhook.alerts.forEach((alert, index) => {
    const traceId = alertTraceId(alert, webhook);
    if (traceId === undefined) return;
    const service = firstOf(SERVICE_KEYS, alert.labels, webhook.commonLabels);
    refs.push({
      alert: index,
      status: alert.status,
      traceId,
      ...(service ? { service } : {}),
      ...(alert.fingerprint ? { alertFingerprint: alert.fingerprint } : {}),
    });
  });
  return refs;
}

/** The service an alert names in its labels (`service`, `service_name`, `service.name`, `job`), or the group's common one. */
export function alertService(alert: AlertmanagerAlert, webhook?: AlertmanagerWebhook): string | undefined {
  return firstOf(SERVICE_KEYS, alert.labels, webhook?.commonLabels ?? {});
}

/** Alertmanager writes this for an alert that has not ended. */
const NOT_ENDED = /^0001-01-01/;

/**
 * The time window in which an alert's failures happened: from `startsAt` to `endsAt` (or `now` for an
 * alert that has not ended), widened by `marginMs` on both sides, since a rule fires after its
 * evaluation interval and `for` duration. Undefined when the alert has no readable `startsAt`.
 */
export function alertWindow(alert: AlertmanagerAlert, marginMs: number, now: string): { from: string; to: string } | undefined {
  const start = Date.parse(alert.startsAt ?? '');
  if (Number.isNaN(start)) return undefined;
  const ended = alert.endsAt !== undefined && !NOT_ENDED.test(alert.endsAt) ? Date.parse(alert.endsAt) : Number.NaN;
  const end = Number.isNaN(ended) || ended < start ? Math.max(Date.parse(now), start) : ended;
  return { from: new Date(start - marginMs).toISOString(), to: new Date(end + marginMs).toISOString() };
}
