/** The verdict of one verifier check, with what it saw. */
export type CheckStatus = 'passed' | 'failed' | 'skipped';
export interface CheckResult {
  status: CheckStatus;
  detail: string;
  durationMs: number;
}

/** The fixed environment of every verifier container: never the host's. */
export const SANDBOX_ENV = { CI: '1', NO_COLOR: '1', FORCE_COLOR: '0', HOME: '/tmp', TMPDIR: '/tmp', TZ: 'UTC' } as const;
/** Memory, process and CPU limits of every verifier container. */
export const RUN_LIMITS = { memoryBytes: 1024 * 1024 * 1024, pids: 512, nanoCpus: 1_000_000_000 } as const;
