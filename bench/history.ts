// Reading a stage's result back from a repairIncident workflow history.

/** The slice of a Temporal workflow history these readers need. */
export interface WorkflowHistory {
  events?:
    | {
        activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
        activityTaskCompletedEventAttributes?: { scheduledEventId?: Long | number | null; result?: { payloads?: { data?: Uint8Array | null }[] | null } | null } | null;
        eventId?: Long | number | null;
      }[]
    | null;
}

type Long = { toNumber(): number };

function numberOf(id: Long | number | null | undefined): number | undefined {
  if (id === null || id === undefined) return undefined;
  return typeof id === 'number' ? id : id.toNumber();
}

/** The JSON result of the last completed activity named `activity`, or undefined when none completed. */
export function lastActivityResult(history: WorkflowHistory, activity: string): unknown {
  const events = history.events ?? [];
  const scheduled = new Set(
    events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === activity).map((event) => numberOf(event.eventId)),
  );
  let result: unknown;
  for (const event of events) {
    const completed = event.activityTaskCompletedEventAttributes;
    if (!completed || !scheduled.has(numberOf(completed.scheduledEventId))) continue;
    const data = completed.result?.payloads?.[0]?.data;
    if (data) result = JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
  }
  return result;
}
