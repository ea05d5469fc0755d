// Alertmanager webhooks: each alert is tied to the failure it is about (by trace id, or by the
// service its labels name within its time window), held for a bounded time when that failure has
// not arrived yet, and recorded in the evidence store whatever becomes of it, so nothing is dropped
// silently: attached, resolved, waiting, joined later, timed out, or matching nothing.
import { createHash } from 'node:crypto';
import type { FailureEnvelope, RawAlertRef } from '@tracemend/contracts';
import { alertService, alertTraceId, alertWindow, failureOfTrace, failuresOfService, type AlertEvent, type AlertmanagerWebhook, type EvidenceStore, type PendingAlert } from '@tracemend/ingest';
import type { Logger } from '@tracemend/telemetry';
import type { Attachment, AttachInput, FailureIdentity } from './incidents';

export interface AlertmanagerIntakeOptions {
  store: EvidenceStore;
  logger: Logger;
  attach(input: AttachInput): Promise<Attachment>;
  appRoots?: readonly string[];
  /** How long an alert waits for its failure before it is recorded as timed out. */
  holdMs: number;
  /** How far around an alert's startsAt/endsAt a failure of its service still counts. */
  windowMarginMs: number;
}

/** The answer's entry for one alert. */
interface AlertAnswer {
  alert: number;
  traceId?: string;
  service?: string;
}

const identityOf = (envelope: FailureEnvelope): FailureIdentity => ({ fingerprint: envelope.identity.fingerprint, service: envelope.identity.service, errorType: envelope.symptom.errorType });

/** Creates the webhook reader and the joiner of held alerts. */
export function createAlertmanagerIntake(options: AlertmanagerIntakeOptions) {
  const { store, logger, appRoots } = options;

  async function record(event: Omit<AlertEvent, 'at'>): Promise<void> {
    await store.appendAlertEvent({ at: new Date().toISOString(), ...event });
  }

  /** Attaches one alert of a stored webhook to a failure, as an occurrence of its incident. */
  async function attachTo(found: { envelope: FailureEnvelope; alert: RawAlertRef }, webhook: RawAlertRef, receivedAt: string) {
    return options.attach({ failure: identityOf(found.envelope), alert: found.alert, occurrence: { alertId: webhook.alertId, receivedAt } });
  }

  /**
   * Reads a webhook: firing alerts attach to their failures or wait for them; resolved ones are
   * recorded on their incident. The webhook is stored first, so every event can name it.
   */
  async function intakeWebhook(webhook: AlertmanagerWebhook, bytes: Buffer, receivedAt: string) {
    const traceIds = [...new Set(webhook.alerts.map((alert) => alertTraceId(alert, webhook)).filter((id): id is string => id !== undefined))];
    const stored = await store.putAlert({ bytes, format: 'alertmanager', receivedAt, traceIds });
    const incidents: (AlertAnswer & { incidentId: string; workflowId: string; fingerprint: string; status: string })[] = [];
    const resolved: (AlertAnswer & { incidentId?: string; reason: string })[] = [];
    const waiting: (AlertAnswer & { until: string; window?: { from: string; to: string }; waitingFor: string })[] = [];
    const unresolved: (AlertAnswer & { reason: string })[] = [];
    const until = new Date(Date.parse(receivedAt) + options.holdMs).toISOString();

    for (const [index, alert] of webhook.alerts.entries()) {
      const traceId = alertTraceId(alert, webhook);
      const service = alertService(alert, webhook);
      const window = alertWindow(alert, options.windowMarginMs, receivedAt);
      const about: AlertAnswer = { alert: index, ...(traceId ? { traceId } : {}), ...(service ? { service } : {}) };
      const found = traceId
        ? [await failureOfTrace(store, traceId, appRoots)].filter((item) => item !== undefined)
        : service && window
          ? await failuresOfService(store, service, window, appRoots)
          : [];

      if (alert.status === 'resolved') {
        // A resolved alert ends its wait too: the problem is over before its failure arrived.
        for (const entry of await store.listPending()) {
          if (entry.alertId !== stored.alertId && sameAlert(entry, about)) {
            await store.removePending(entry.id);
            await record({ alertId: entry.alertId, alert: entry.alert, kind: 'resolved', reason: `resolved (webhook ${stored.alertId.slice(0, 12)}) before its failure arrived` });
          }
        }
        if (found.length === 0) {
          const reason = 'resolved; no stored failure matches it, so no incident records it';
          resolved.push({ ...about, reason });
          await record({ alertId: stored.alertId, kind: 'resolved', ...about, reason });
        }
        for (const item of found) {
          const incidentId = item.envelope.identity.fingerprint;
          const reason = `resolved at ${alert.endsAt ?? receivedAt}`;
          resolved.push({ ...about, incidentId, reason });
          await record({ alertId: stored.alertId, kind: 'resolved', incidentId, ...about, reason });
        }
        continue;
      }

      if (found.length > 0) {
        for (const item of found) {
          const attachment = await attachTo(item, stored, receivedAt);
          incidents.push({ ...about, incidentId: attachment.incidentId, workflowId: attachment.workflowId, fingerprint: attachment.fingerprint, status: attachment.status });
          await record({ alertId: stored.alertId, kind: 'attached', incidentId: attachment.incidentId, ...about });
        }
      } else if (traceId || (service && window)) {
        const waitingFor = traceId
          ? `a trace export, Sentry event or error log lines of trace ${traceId}`
          : `a failure of service ${service ?? ''} between ${window?.from ?? ''} and ${window?.to ?? ''}`;
        const entry: PendingAlert = { id: pendingId(stored.alertId, index), alertId: stored.alertId, receivedAt, until, ...about, ...(traceId ? {} : { window }) };
        await store.putPending(entry);
        waiting.push({ ...about, until, waitingFor, ...(traceId ? {} : { window }) });
        await record({ alertId: stored.alertId, kind: 'waiting', ...about, reason: `waiting until ${until} for ${waitingFor}` });
      } else {
        const reason = 'the alert names no trace id (trace_id, traceId, trace.id) and no service (service, service_name, job) with a startsAt to search by';
        unresolved.push({ ...about, reason });
        await record({ alertId: stored.alertId, kind: 'unmatched', ...about, reason });
      }
    }
    return { alertId: stored.alertId, format: 'alertmanager' as const, incidents, resolved, waiting, unresolved };
  }

  /** Attaches the held alerts that wait for this failure (just stored under `traceIds`). */
  async function joinWaiting(envelope: FailureEnvelope, alert: RawAlertRef, traceIds: readonly string[]): Promise<number> {
    let joined = 0;
    const at = Date.parse(envelope.identity.lastSeen);
    for (const entry of await store.listPending()) {
      const byTrace = entry.traceId !== undefined && traceIds.includes(entry.traceId);
      const byService = entry.traceId === undefined && entry.service === envelope.identity.service && entry.window !== undefined && at >= Date.parse(entry.window.from) && at <= Date.parse(entry.window.to);
      if (!byTrace && !byService) continue;
      await store.removePending(entry.id);
      const attachment = await options.attach({ failure: identityOf(envelope), alert, occurrence: { alertId: entry.alertId, receivedAt: new Date().toISOString() } });
      await record({ alertId: entry.alertId, alert: entry.alert, kind: 'joined', incidentId: attachment.incidentId, ...(entry.traceId ? { traceId: entry.traceId } : {}), ...(entry.service ? { service: entry.service } : {}) });
      joined += 1;
    }
    return joined;
  }

  /** Records every held alert whose time is up as timed out, with what it waited for. */
  async function expireWaiting(now = Date.now()): Promise<number> {
    let expired = 0;
    for (const entry of await store.listPending()) {
      if (Date.parse(entry.until) > now) continue;
      await store.removePending(entry.id);
      const what = entry.traceId ? `trace ${entry.traceId}` : `a failure of service ${entry.service ?? ''} between ${entry.window?.from ?? ''} and ${entry.window?.to ?? ''}`;
      const reason = `timed out at ${entry.until}: no failure for ${what} arrived`;
      await record({ alertId: entry.alertId, alert: entry.alert, kind: 'timed-out', ...(entry.traceId ? { traceId: entry.traceId } : {}), ...(entry.service ? { service: entry.service } : {}), reason });
      logger.warn({ alertId: entry.alertId, alert: entry.alert }, 'an alert timed out waiting for its failure');
      expired += 1;
    }
    return expired;
  }

  return { intakeWebhook, joinWaiting, expireWaiting };
}

function sameAlert(entry: PendingAlert, about: AlertAnswer): boolean {
  if (entry.traceId !== undefined || about.traceId !== undefined) return entry.traceId === about.traceId;
  return entry.service !== undefined && entry.service === about.service;
}

function pendingId(alertId: string, index: number): string {
  return createHash('sha256').update(`${alertId}:${index}`).digest('hex').slice(0, 32);
}
