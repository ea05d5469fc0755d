export { verifyCandidate, DEFAULT_VERIFIER_TIMEOUTS } from './verify';
export type { VerifierTimeouts, VerifyCandidateDeps, VerifyCandidateInput } from './verify';
export {
  scoreRisk,
  countImporters,
  findImporters,
  importSpecifiers,
  findExportedSignatures,
  exportedApiTouched,
  RISK_WEIGHTS,
  RISK_MEDIUM_FROM,
  RISK_HIGH_FROM,
  NEUTRAL_RISK_VALUE,
} from './risk';
export type { ExportedSignature, ScoreRiskInput } from './risk';
export { judgeFailure } from './failure';
export type { FailureJudgement } from './failure';
export { applyCandidate, assertRepoPath, diffPaths } from './workspace';
export type { AppliedCandidate } from './workspace';
export { createVerifierActivities } from './activities';
export type { VerifierDeps } from './activities';
