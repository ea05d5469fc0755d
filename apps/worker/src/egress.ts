// The egress guard where the worker's text leaves the process other than in a pull request: its log
// lines and the failure messages Temporal records, and how the guard learns each incident's raw values.
import { TracemendError } from '@tracemend/contracts';
import { createLogLineGuard, redactLeaks, scanForLeaks, type RawValueRegistry } from '@tracemend/privacy-gate';
import { createLogger, type Logger, type LoggerOptions } from '@tracemend/telemetry';

/**
 * The worker's logger: every line, the Temporal SDK's included, passes the privacy gate's egress guard
 * before it is written. A line with a detector hit, or with a raw value whose hash `rawValues` holds,
 * is replaced by an `error` line naming the rule and JSON path.
 */
export function createWorkerLogger(options: {
  level?: LoggerOptions['level'];
  destination?: LoggerOptions['destination'];
  rawValues: RawValueRegistry;
  /** What the operator configured for this process (e.g. the Temporal address); see LogLineGuardOptions. */
  operationalValues?: readonly string[];
}): Logger {
  return createLogger({
    name: 'worker',
    ...(options.level === undefined ? {} : { level: options.level }),
    ...(options.destination === undefined ? {} : { destination: options.destination }),
    lineGuard: createLogLineGuard({ knownRawValueHashes: options.rawValues, operationalValues: options.operationalValues ?? [] }),
  });
}

/**
 * What the operator configured for this worker process, which its log lines name and which is not
 * personal data: the Temporal address (it may be a private IP) and the worker's own folders (its
 * installation and state folder). A folder may have a random name, a CI clone or a temporary folder,
 * which the high-entropy detector would take for a secret and block the line, `worker started` among them.
 */
export function workerOperationalValues(config: { temporalAddress: string; stateDir: string; installRoot: string }): string[] {
  return [config.temporalAddress, config.temporalAddress.replace(/:\d+$/, ''), config.stateDir, config.installRoot];
}

/** The audit record hash of the gated envelope an activity input carries, if it carries one. */
function gateRunOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || !('gated' in input)) return undefined;
  const gated = (input as { gated?: { privacy?: { audit?: { recordHash?: unknown } } } }).gated;
  const recordHash = gated?.privacy?.audit?.recordHash;
  return typeof recordHash === 'string' ? recordHash : undefined;
}

/** The rule of the first leak in an error's causes' messages or in its details, if any (the message itself is redacted in place). */
function leakBeneath(error: Error, rawValues: RawValueRegistry): string | undefined {
  const texts: string[] = error instanceof TracemendError && error.details !== undefined ? [JSON.stringify(error.details)] : [];
  let current: unknown = error.cause;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    texts.push(current.message);
    if (current instanceof TracemendError && current.details !== undefined) texts.push(JSON.stringify(current.details));
    current = current.cause;
  }
  for (const text of texts) {
    const [finding] = scanForLeaks(text, { knownRawValueHashes: rawValues });
    if (finding !== undefined) return finding.detector;
  }
  return undefined;
}

/**
 * A failure's message, causes and details go to the Temporal server (workflow history, the UI, the
 * incident's outcome). What the guard would block is taken out of the message (`[withheld:<rule>]`),
 * so the reason stays readable; causes and details holding a leak are dropped, and the message says so.
 * The error keeps its code.
 */
function withheld(error: unknown, activity: string, rawValues: RawValueRegistry): unknown {
  if (!(error instanceof Error)) return error;
  const redacted = redactLeaks(error.message, { knownRawValueHashes: rawValues });
  const beneath = leakBeneath(error, rawValues);
  if (redacted.rules.length === 0 && beneath === undefined) return error;
  const message =
    beneath === undefined
      ? redacted.text
      : `${redacted.text} (${activity}: the egress guard withheld this error's causes and details, ${beneath})`;
  // Causes and details that hold no leak stay.
  const kept = beneath === undefined ? { cause: error.cause, ...(error instanceof TracemendError && error.details !== undefined ? { details: error.details } : {}) } : {};
  return error instanceof TracemendError ? new TracemendError(error.code, message, kept) : new Error(message, kept);
}

/**
 * Wraps every activity (each function of `activities`) for the egress guard. Before it runs, the
 * registry holds the raw-value hashes of the gated envelope in its input (read from the evidence store
 * by audit record hash): the gate activity adds them as it runs, and this covers a restarted worker and
 * a stage that runs in another worker process. When it fails, its error is checked before Temporal
 * records it (see `withheld`).
 */
export function guardStageActivities<T extends object>(
  rawValues: RawValueRegistry,
  load: (auditRecordHash: string) => Promise<readonly string[]>,
  activities: T,
): T {
  const wrapped: Record<string, (input: unknown, ...rest: unknown[]) => Promise<unknown>> = {};
  for (const [name, activity] of Object.entries(activities) as [string, (input: unknown, ...rest: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (input, ...rest) => {
      const gateRun = gateRunOf(input);
      if (gateRun !== undefined && !rawValues.holds(gateRun)) rawValues.add(gateRun, await load(gateRun));
      try {
        return await activity(input, ...rest);
      } catch (error) {
        throw withheld(error, name, rawValues);
      }
    };
  }
  return wrapped as T;
}
