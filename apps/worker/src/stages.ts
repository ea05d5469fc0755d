// Where the stage packages are built with real clients and handed to the workers.
import type { StageActivities } from '@tracemend/contracts';
import type { Logger } from '@tracemend/telemetry';
import type { WorkerConfig } from './env';

/**
 * Builds the stage implementations this version of tracemend has. None of the stage packages ships
 * a factory yet, so every stage is registered as absent and fails with STAGE_NOT_BUILT.
 */
export function buildStages(_config: WorkerConfig, _logger: Logger): Partial<StageActivities> {
  return {};
}
