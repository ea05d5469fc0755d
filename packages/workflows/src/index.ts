// The bundler's single workflowsPath: every workflow tracemend runs is exported here.
export { repairIncident } from './repair-incident';
