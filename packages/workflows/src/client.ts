// What clients (gateway, CLI, worker, tests) import: the workflow's name, its messages and search attributes.
export {
  approveSignal,
  approveUpdate,
  occurrenceSignal,
  rejectSignal,
  rejectUpdate,
  searchAttributeKeys,
  statusQuery,
} from './definitions';
export { ACTIVITY_POLICIES, STAGE_FAILURE_OUTCOME, outcomeForFailure, reviewRequirement } from './policy';
export type { ActivityPolicy, ReviewRequirement } from './policy';

/** The workflow type name clients start. */
export const REPAIR_INCIDENT_WORKFLOW = 'repairIncident';
