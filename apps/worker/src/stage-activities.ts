// The boundary between Temporal and the stage packages: contracts parsed on both sides of every
// call, TracemendError turned into an ApplicationFailure the workflow can branch on.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  STAGE_ACTIVITIES,
  TracemendError,
  parseContract,
  type StageActivities,
  type StageActivityName,
  type TaskQueue,
} from '@tracemend/contracts';
import type { StageCallContext } from '@tracemend/sandbox';
import { bindIncidentContext, type Logger } from '@tracemend/telemetry';
import type { CrashGuard } from './crash-guard';

type ActivityFunction = (input: unknown, context?: StageCallContext) => Promise<unknown>;

const STAGE_NAMES = Object.keys(STAGE_ACTIVITIES) as StageActivityName[];

/** Converts an error thrown by a stage into what Temporal records; plain errors stay retryable. */
export function toActivityFailure(error: unknown): unknown {
  if (error instanceof TracemendError) {
    return ApplicationFailure.create({
      type: error.code,
      message: error.message,
      nonRetryable: !error.retryable,
      cause: error.cause instanceof Error ? error.cause : undefined,
      details: error.details === undefined ? undefined : [error.details],
    });
  }
  return error;
}

function absentStage(name: StageActivityName): ActivityFunction {
  return () =>
    Promise.reject(
      new TracemendError('STAGE_NOT_BUILT', `the ${name} stage is not built in this version of tracemend; the incident stops here`),
    );
}

function currentActivity(): { workflowId?: string; attempt?: number } {
  try {
    const { info } = Context.current();
    return { workflowId: info.workflowExecution?.workflowId, attempt: info.attempt };
  } catch {
    return {};
  }
}

/**
 * How often a running stage calls `heartbeat()`. The worker forwards heartbeats to the server at most
 * once per `HEARTBEAT_THROTTLE_MS`, and a cancellation reaches the activity only in the answer to a
 * forwarded heartbeat, so beating faster than the throttle keeps the cancel latency at the throttle.
 */
export const HEARTBEAT_INTERVAL_MS = 200;

/**
 * The sandbox worker's `maxHeartbeatThrottleInterval`: a cancelled workflow's sandbox container is
 * killed within this plus the engine's kill-and-remove time (about 0.3 s), well under 2 s.
 */
export const HEARTBEAT_THROTTLE_MS = 500;

/** The signal that aborts when the current activity is cancelled; undefined outside an activity. */
export function currentActivitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/**
 * Heartbeats while `work` runs and hands it the activity's cancellation signal, so long sandbox
 * stages are not timed out while they make progress and a cancel reaches their containers. Once the
 * activity is cancelled, whatever `work` rejects with is reported as the cancellation (Temporal then
 * records the activity as cancelled, not failed). Outside an activity, e.g. in unit tests, it only runs `work`.
 */
async function withHeartbeat<T>(work: (context: StageCallContext) => Promise<T>): Promise<T> {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    return work({});
  }
  const { cancellationSignal: signal } = context;
  const beat = setInterval(() => context.heartbeat(), HEARTBEAT_INTERVAL_MS);
  try {
    return await work({ signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason instanceof CancelledFailure ? signal.reason : new CancelledFailure('the activity was cancelled', [], error as Error);
    throw error;
  } finally {
    clearInterval(beat);
  }
}

/** The incident's fingerprint where a stage's input carries it (the envelope reference or the gated envelope). */
function fingerprintOf(input: { envelope?: { fingerprint?: string }; gated?: { envelope?: { identity?: { fingerprint?: string } } } }): string | undefined {
  return input.envelope?.fingerprint ?? input.gated?.envelope?.identity?.fingerprint;
}

/**
 * Wraps stage implementations as Temporal activities. Stages not given are registered as absent:
 * they fail with STAGE_NOT_BUILT instead of pretending to work. With a crash guard, an error that
 * escapes a stage (uncaught exception, unhandled rejection) fails that activity only.
 */
export function wrapStageActivities(stages: Partial<StageActivities>, logger: Logger, guard?: CrashGuard): Record<StageActivityName, ActivityFunction> {
  const wrapped = {} as Record<StageActivityName, ActivityFunction>;
  for (const name of STAGE_NAMES) {
    const contract = STAGE_ACTIVITIES[name];
    const implementation = (stages[name] as ActivityFunction | undefined) ?? absentStage(name);
    wrapped[name] = async (rawInput: unknown) => {
      const startedAt = performance.now();
      let log = logger.child({ activity: name, ...currentActivity() });
      try {
        const input = parseContract(contract.input, rawInput, `${name} input`) as { incidentId: string } & Parameters<typeof fingerprintOf>[0];
        const fingerprint = fingerprintOf(input);
        log = bindIncidentContext(log, { incidentId: input.incidentId, stage: name, ...(fingerprint ? { fingerprint } : {}) });
        const run = (): Promise<unknown> => withHeartbeat((context) => implementation(input, context));
        const output = parseContract(contract.output, await (guard ? guard.run(name, log, run) : run()), `${name} output`);
        log.info({ durationMs: Math.round(performance.now() - startedAt) }, 'stage succeeded');
        return output;
      } catch (error) {
        if (error instanceof CancelledFailure) {
          log.info({ durationMs: Math.round(performance.now() - startedAt) }, 'stage cancelled');
          throw error;
        }
        const code = error instanceof TracemendError ? error.code : 'UNCLASSIFIED';
        log.warn({ code, durationMs: Math.round(performance.now() - startedAt), error: (error as Error).message }, 'stage failed');
        throw toActivityFailure(error);
      }
    };
  }
  return wrapped;
}

/** The wrapped activities that run on one task queue. */
export function activitiesForQueue(
  activities: Record<StageActivityName, ActivityFunction>,
  queue: TaskQueue,
): Partial<Record<StageActivityName, ActivityFunction>> {
  return Object.fromEntries(STAGE_NAMES.filter((name) => STAGE_ACTIVITIES[name].taskQueue === queue).map((name) => [name, activities[name]]));
}
