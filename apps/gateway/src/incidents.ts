// Attaching an alert to its incident: one `repairIncident` workflow per fingerprint, started by the
// first alert and counted by every alert (signalWithStart), so duplicates never start a second run.
import type { Client } from '@temporalio/client';
import {
  TASK_QUEUES,
  incidentWorkflowId,
  type OccurrenceSignal,
  type RawAlertRef,
  type RepairIncidentInput,
} from '@tracemend/contracts';
import { REPAIR_INCIDENT_WORKFLOW, occurrenceSignal, searchAttributeKeys } from '@tracemend/workflows/client';

/** The identity of a failure the gateway computed from an alert (no raw values). */
export interface FailureIdentity {
  fingerprint: string;
  service: string;
  errorType: string;
}

/**
 * `started`: this alert started the incident's workflow; `attached`: it counted as an occurrence of a
 * running one; `accepted`: the workflow took the signal but the gateway could not tell which.
 */
export type AttachStatus = 'started' | 'attached' | 'accepted';

export interface Attachment {
  incidentId: string;
  workflowId: string;
  fingerprint: string;
  runId: string;
  status: AttachStatus;
}

export interface AttachInput {
  failure: FailureIdentity;
  /** The alert ingest reads if this starts the workflow (a trace export or Sentry event). */
  alert: RawAlertRef;
  /** The occurrence this request adds. */
  occurrence: OccurrenceSignal;
}

function sameOccurrence(value: unknown, occurrence: OccurrenceSignal): boolean {
  if (value === null || typeof value !== 'object') return false;
  const signal = value as Partial<OccurrenceSignal>;
  return signal.alertId === occurrence.alertId && signal.receivedAt === occurrence.receivedAt;
}

/**
 * The incident's static summary and details in the Temporal UI: identity only (service, error type,
 * fingerprint, alert format and reference), never a value from the alert's payload.
 */
export function incidentStaticMetadata(failure: FailureIdentity, alert: RawAlertRef): { staticSummary: string; staticDetails: string } {
  return {
    staticSummary: `${failure.errorType} in ${failure.service} · fingerprint ${failure.fingerprint.slice(0, 12)}`,
    staticDetails: [
      `**${failure.errorType}** in service **${failure.service}**, fingerprint \`${failure.fingerprint}\`.`,
      '',
      `First alert: ${alert.format}, received ${alert.receivedAt}, stored as \`${alert.alertId}\` (${alert.sizeBytes} bytes).`,
      'Later alerts of the same fingerprint count as occurrences of this incident.',
    ].join('\n'),
  };
}

/** Starts or signals the incident workflow of a failure and tells which of the two happened. */
export function createIncidentAttacher(client: Client, namespace: string) {
  /**
   * A run started by signalWithStart holds the start signal as its second history event; a running
   * one got it later. The occurrence (alert id + receive time) marks which signal is this request's.
   */
  async function startedByThisSignal(workflowId: string, runId: string, occurrence: OccurrenceSignal): Promise<boolean | undefined> {
    try {
      const response = await client.workflowService.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, maximumPageSize: 2 });
      const event = response.history?.events?.[1];
      const payload = event?.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
      if (event?.workflowExecutionSignaledEventAttributes?.signalName !== occurrenceSignal.name || !payload) return false;
      let payloads = [payload];
      const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
      for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
      const first = payloads[0];
      return first !== undefined && sameOccurrence(payloadConverter.fromPayload(first), occurrence);
    } catch {
      return undefined;
    }
  }

  return async function attach({ failure, alert, occurrence }: AttachInput): Promise<Attachment> {
    const incidentId = failure.fingerprint;
    const workflowId = incidentWorkflowId(incidentId);
    const input: RepairIncidentInput = { schemaVersion: 1, incidentId, alert, occurrences: 0 };
    const handle = await client.workflow.signalWithStart(REPAIR_INCIDENT_WORKFLOW, {
      workflowId,
      taskQueue: TASK_QUEUES.workflows,
      args: [input],
      signal: occurrenceSignal,
      signalArgs: [occurrence],
      typedSearchAttributes: [
        { key: searchAttributeKeys.service, value: failure.service },
        { key: searchAttributeKeys.errorType, value: failure.errorType },
      ],
      ...incidentStaticMetadata(failure, alert),
    });
    const started = await startedByThisSignal(workflowId, handle.signaledRunId, occurrence);
    return { incidentId, workflowId, fingerprint: failure.fingerprint, runId: handle.signaledRunId, status: started === undefined ? 'accepted' : started ? 'started' : 'attached' };
  };
}
