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
