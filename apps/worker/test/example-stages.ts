// Every stage answering with the contracts' examples: a clean run to a pull request.
import type { StageActivities } from '@tracemend/contracts';
import {
  exampleCandidateSet,
  exampleEnvelopeRef,
  exampleGatedEnvelope,
  exampleLocalization,
  exampleMinimalRepro,
  examplePullRequestRecord,
  exampleRepoTarget,
  exampleReproduction,
  exampleVerification,
} from '@tracemend/contracts/examples';

/** Every stage answering with the contracts' examples: a clean run to a pull request. */
export const exampleStages: StageActivities = {
  ingest: () => Promise.resolve(exampleEnvelopeRef),
  gate: () => Promise.resolve(exampleGatedEnvelope),
  triage: () => Promise.resolve(exampleRepoTarget),
  reproduce: () => Promise.resolve(exampleReproduction),
  minimize: () => Promise.resolve(exampleMinimalRepro),
  localize: () => Promise.resolve(exampleLocalization),
  repair: () => Promise.resolve(exampleCandidateSet),
  verify: () => Promise.resolve(exampleVerification),
  openPullRequest: () => Promise.resolve(examplePullRequestRecord),
};
