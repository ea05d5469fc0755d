export { ActivityCrashedError, createCrashGuard } from './crash-guard';
export type { CrashGuard } from './crash-guard';
export { createWorkerLogger, guardStageActivities } from './egress';
export { loadWorkerConfig } from './env';
export type { WorkerConfig } from './env';
export { activitiesForQueue, toActivityFailure, wrapStageActivities } from './stage-activities';
export { buildStages } from './stages';
export { bundleWorkflows, createWorkers, runWorkers, workflowsPath } from './workers';
export type { CreateWorkersOptions } from './workers';
