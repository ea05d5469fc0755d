// Start-up clean-up of sandbox containers that a previous worker process left behind.
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
