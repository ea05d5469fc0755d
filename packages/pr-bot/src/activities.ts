import type { PullRequestInput, PullRequestRecord } from '@tracemend/contracts';
import { openPullRequest, type PrBotDeps } from './open-pull-request';

/** The PR bot's activities. */
export interface PrBotActivities {
  openPullRequest(input: PullRequestInput): Promise<PullRequestRecord>;
}

/** Binds the PR bot to its dependencies; the worker registers the returned functions as activities. */
export function createPrBotActivities(deps: PrBotDeps): PrBotActivities {
  return {
    openPullRequest: (input) => openPullRequest(deps, input),
  };
}
