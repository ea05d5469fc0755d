import type { Verification, VerifyInput } from '@tracemend/contracts';
import { imageFor, type SandboxDriver, type Workspace } from '@tracemend/sandbox';
import type { Logger } from '@tracemend/telemetry';
import { verifyCandidate } from './verify';

export interface VerifierDeps {
  driver: SandboxDriver;
  /** The image of targets whose prepared checkout names none (`imageFor`). */
  image: string;
  workspace: Workspace;
  /** Where per-verification copies of the checkout are made (and removed). */
  workRoot: string;
  logger: Logger;
}

/** The verify stage: typecheck, suite, fails-before/passes-after and the risk score, in the sandbox. */
export function createVerifierActivities(deps: VerifierDeps) {
  return {
    verify: async (input: VerifyInput): Promise<Verification> => {
      const prepared = await deps.workspace.prepare(input.target);
      const { repoDir, depsDir } = prepared;
      return verifyCandidate(
        { driver: deps.driver, image: imageFor(prepared, deps.image), logger: deps.logger, workRoot: deps.workRoot },
        { repoDir, depsDir, target: input.target, minimal: input.minimal, candidate: input.candidate },
      );
    },
  };
}
