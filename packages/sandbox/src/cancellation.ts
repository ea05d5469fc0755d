import type { Workspace } from './activities';
import type { RunOptions, SandboxDriver } from './driver';

/** The one signal that aborts when any of the given signals does; undefined when none is given. */
export function anySignal(...signals: readonly (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}

/**
 * A driver whose every `run` and `start` also stops when the signal of the moment aborts. The worker
 * wraps its one driver with the current activity's cancellation signal, so stage packages that take a
 * driver (the verifier, the minimizer's harnesses) have their containers killed when the workflow is
 * cancelled without threading a signal through each of their calls.
 */
export function cancellableDriver(driver: SandboxDriver, currentSignal: () => AbortSignal | undefined): SandboxDriver {
  const withSignal = (options: RunOptions = {}): RunOptions => {
    const signal = anySignal(options.signal, currentSignal());
    return signal === undefined ? options : { ...options, signal };
  };
  return {
    run: (spec, options) => driver.run(spec, withSignal(options)),
    start: (spec, options) => driver.start(spec, withSignal(options)),
    reapOrphans: (options) => driver.reapOrphans(options),
  };
}

/**
 * A workspace whose every `prepare` also stops waiting when the signal of the moment aborts, the
 * workspace counterpart of `cancellableDriver`: stages that call `prepare(target)` without a signal
 * (minimize, localize, verify, repair) are covered when the worker wraps its one workspace with the
 * current activity's signal. The shared checkout or install stops only when every caller waiting for it
 * has aborted (see `Workspace.prepare`).
 */
export function cancellableWorkspace(workspace: Workspace, currentSignal: () => AbortSignal | undefined): Workspace {
  return { prepare: (target, signal) => workspace.prepare(target, anySignal(signal, currentSignal())) };
}
