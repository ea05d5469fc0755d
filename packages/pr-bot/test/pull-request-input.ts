// Test support: a deep copy of the contract examples as one PullRequestInput.
import type { PullRequestInput } from '@tracemend/contracts';
import {
  exampleCandidate,
  exampleGatedEnvelope,
  exampleLocalization,
  exampleMinimalRepro,
  exampleRepoTarget,
  exampleReproduction,
  exampleVerification,
} from '@tracemend/contracts/examples';

/** A fresh PullRequestInput built from the contract examples; tests may change it freely. */
export function pullRequestInput(): PullRequestInput {
  return structuredClone({
    incidentId: exampleGatedEnvelope.envelope.identity.fingerprint,
    gated: exampleGatedEnvelope,
    target: exampleRepoTarget,
    reproduction: exampleReproduction,
    minimal: exampleMinimalRepro,
    localization: exampleLocalization,
    candidate: exampleCandidate,
    verification: exampleVerification,
  });
}
