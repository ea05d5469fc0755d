// An uncaught exception or unhandled rejection inside one activity (a child's stream error nobody
// listened for, a promise a stage forgot) would end the worker process and every activity it runs.
// The guard runs each activity in an async context; the process-wide handlers find the activity the
// error belongs to, log it with the incident, fail that activity, and let the process keep serving.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '@tracemend/telemetry';

interface RunningActivity {
  readonly log: Logger;
  readonly name: string;
  crash(error: Error): void;
}

/** Runs activities so that an error escaping them fails only them. */
export interface CrashGuard {
  /** Runs `work` as activity `name`; rejects with the first error that escapes its async context. */
  run<T>(name: string, log: Logger, work: () => Promise<T>): Promise<T>;
  /** Handles an error that escaped: fails its activity, or logs it when it belongs to none. */
  handle(error: unknown, kind: 'uncaughtException' | 'unhandledRejection'): void;
  /** Installs the process-wide handlers; returns a function that removes them. */
  install(): () => void;
}

/** The error an escaped one becomes: a plain Error, so the activity's retry policy applies. */
export class ActivityCrashedError extends Error {
  constructor(activity: string, kind: string, cause: Error) {
    super(`the ${activity} activity crashed (${kind}: ${cause.message}); the worker failed this activity and kept serving`, { cause });
    this.name = 'ActivityCrashedError';
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Creates a guard whose unattributed errors are logged on `logger`. */
export function createCrashGuard(logger: Logger): CrashGuard {
  const storage = new AsyncLocalStorage<RunningActivity>();
  const guard: CrashGuard = {
    run<T>(name: string, log: Logger, work: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        let settled = false;
        const settle = (finish: () => void): void => {
          if (settled) return;
          settled = true;
          finish();
        };
        const activity: RunningActivity = { log, name, crash: (error) => settle(() => reject(error)) };
        storage.run(activity, () => {
          work().then(
            (value) => settle(() => resolve(value)),
            (error: unknown) => settle(() => reject(asError(error))),
          );
        });
      });
    },
    handle(error: unknown, kind: 'uncaughtException' | 'unhandledRejection'): void {
      const failure = asError(error);
      const activity = storage.getStore();
      if (activity === undefined) {
        logger.error({ err: failure, kind }, 'an error escaped outside any activity; the worker keeps serving');
        return;
      }
      activity.log.error({ err: failure, kind }, 'an error escaped the activity; failing it, the worker keeps serving');
      activity.crash(new ActivityCrashedError(activity.name, kind, failure));
    },
    install(): () => void {
      const onException = (error: unknown): void => guard.handle(error, 'uncaughtException');
      const onRejection = (reason: unknown): void => guard.handle(reason, 'unhandledRejection');
      process.on('uncaughtException', onException);
      process.on('unhandledRejection', onRejection);
      return () => {
        process.off('uncaughtException', onException);
        process.off('unhandledRejection', onRejection);
      };
    },
  };
  return guard;
}
