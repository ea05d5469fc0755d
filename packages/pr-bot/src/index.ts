export { createPrBotActivities } from './activities';
export type { PrBotActivities } from './activities';
export { openPullRequest } from './open-pull-request';
export type { EgressCheck, PrBotDeps } from './open-pull-request';
export { BODY_SECTIONS } from './render';
export { branchName } from './naming';
