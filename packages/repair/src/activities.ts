import { LIMITS, type CandidateSet, type RepairInput, type RepoTarget } from '@tracemend/contracts';
import { readTextInside } from '@tracemend/process';
import type { Logger } from '@tracemend/telemetry';
import { generateTemplateCandidates } from './generate';

export interface RepairDeps {
  /** The checkout of a target's commit (the worker's sandbox workspace). */
  checkoutOf(target: RepoTarget): Promise<string>;
  logger: Logger;
}

/** The repair stage: template candidates at the ranked suspects, skipping what earlier rounds rejected. */
export function createRepairActivities(deps: RepairDeps) {
  return {
    repair: async (input: RepairInput): Promise<CandidateSet> => {
      const repoDir = await deps.checkoutOf(input.target);
      const files = new Map<string, string>();
      for (const file of new Set(input.localization.suspects.map((suspect) => suspect.file))) {
        // The checkout is sandbox-writable: a suspect file linked out of it is refused, never pulled into a prompt.
        files.set(file, await readTextInside(repoDir, file));
      }
      const candidates = generateTemplateCandidates({
        files,
        suspects: input.localization.suspects,
        // The gated message as the runtime wrote it: its quoted property names what to repair, which the
        // signature's normalized form masks. Its frames give V8's column where a line matches a suspect.
        symptom: {
          errorType: input.symptom.errorType,
          message: input.symptom.message,
          frames: input.symptom.frames,
        },
        maxCandidates: Math.min(input.maxCandidates, LIMITS.candidates),
        rejected: input.rejected.map((rejected) => rejected.candidate.id),
      });
      deps.logger.info({ round: input.round, candidates: candidates.length }, 'candidates generated');
      // The contract's shape: extra fields of the template result stay out of workflow history.
      return {
        schemaVersion: 1,
        round: input.round,
        candidates: candidates.map(({ schemaVersion, id, origin, template, rationale, suspectRank, editPlan, size }) => ({
          schemaVersion,
          id,
          origin,
          ...(template === undefined ? {} : { template }),
          rationale,
          suspectRank,
          editPlan,
          size,
        })),
      };
    },
  };
}
