// Clean-up of sandbox containers (and volume-mode volumes) that a worker process left behind: at
// start-up, then periodically while the worker runs.
import type { ReapOptions, SandboxDriver } from '@tracemend/sandbox';
import type { Logger } from '@tracemend/telemetry';

/**
 * Age past which a sandbox container counts as orphaned at start-up. The longest-lived sandbox is a
 * resident harness (30 minutes, then its own in-container timeout kills it), so a container older than
 * this cannot belong to a live run of another worker on the same Docker host.
 */
export const STARTUP_ORPHAN_AGE_MS = 31 * 60 * 1000;

/**
 * Removes leftover tracemend sandbox containers and logs how many; returns their ids. An engine that
 * does not answer is logged, not fatal: the ingest and llm queues work without Docker.
 */
export async function reapSandboxOrphans(driver: Pick<SandboxDriver, 'reapOrphans'>, logger: Logger, options: ReapOptions = {}): Promise<string[]> {
  const olderThanMs = options.olderThanMs ?? STARTUP_ORPHAN_AGE_MS;
  try {
    const removed = await driver.reapOrphans({ ...options, olderThanMs });
    logger.info({ removed: removed.length, containers: removed.map((id) => id.slice(0, 12)), olderThanMs }, 'reaped orphaned sandbox containers');
    return removed;
  } catch (error) {
    logger.warn({ err: error, olderThanMs }, 'could not reap orphaned sandbox containers; the Docker engine did not answer');
    return [];
  }
}

/** How often a running worker reaps again, so a crashed worker's containers do not wait for a restart. */
export const PERIODIC_REAP_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Reaps orphans every `intervalMs` (default ten minutes) until the returned function is called; that
 * function also waits for a reap in progress. The timer does not keep the process alive, and a reap
 * never overlaps the previous one.
 */
export function startPeriodicReaping(
  driver: Pick<SandboxDriver, 'reapOrphans'>,
  logger: Logger,
  options: ReapOptions & { intervalMs?: number } = {},
): () => Promise<void> {
  const { intervalMs = PERIODIC_REAP_INTERVAL_MS, ...reap } = options;
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = reapSandboxOrphans(driver, logger, reap).finally(() => {
      busy = false;
    });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
