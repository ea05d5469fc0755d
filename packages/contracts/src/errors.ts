/**
 * The one table of error codes. `retryable` says whether a retry can succeed; everything else is
 * non-retryable and the workflow branches on the code (it arrives as the Temporal failure type).
 */
export const ERROR_CODES = {
  INVALID_INPUT: { retryable: false, description: 'An input did not match its contract.' },
  UNSUPPORTED_ALERT_FORMAT: { retryable: false, description: 'The alert format is not one tracemend reads.' },
  ALERT_NOT_FOUND: { retryable: false, description: 'The referenced raw alert is not in the alert store.' },
  NO_FAILURE_IN_ALERT: { retryable: false, description: 'The alert carries no failing span, exception or error event.' },
  PRIVACY_BLOCKED: { retryable: false, description: 'The privacy gate refused to release the envelope.' },
  EGRESS_BLOCKED: { retryable: false, description: 'The egress guard found sensitive data in an outgoing payload.' },
  VAULT_KEY_INVALID: { retryable: false, description: 'The vault key does not open the token vault.' },
  VAULT_CORRUPT: { retryable: false, description: 'A token vault record failed its integrity check.' },
  DATA_CONTRACT_MISSING: { retryable: false, description: 'No data contract exists for the service.' },
  SERVICE_NOT_IN_CATALOG: { retryable: false, description: 'The service is not in the service catalog.' },
  UNSUPPORTED_REPOSITORY: {
    retryable: false,
    description: 'The repository uses a test runner, layout or Node version tracemend cannot drive; the message says what to change.',
  },
  NOT_REPRODUCIBLE: { retryable: false, description: 'The replay did not produce the recorded failure signature.' },
  SANDBOX_UNAVAILABLE: { retryable: true, description: 'The container engine did not answer.' },
  SANDBOX_RESOURCE_LIMIT: { retryable: false, description: 'The sandboxed run hit a memory, PID or file limit.' },
  SANDBOX_TIMEOUT: { retryable: false, description: 'The sandboxed run exceeded its wall-clock limit.' },
  SANDBOX_ESCAPE: { retryable: false, description: 'A file the sandbox can write would lead host-side code outside the work folder, such as a symlink out of it.' },
  MINIMIZATION_FAILED: { retryable: false, description: 'No minimal input could be derived that keeps the signature.' },
  NO_SUSPECTS: { retryable: false, description: 'Fault localization ranked no in-repository line.' },
  NO_CANDIDATES: { retryable: false, description: 'Repair produced no candidate patch.' },
  LLM_UNAVAILABLE: { retryable: true, description: 'The LLM provider did not answer.' },
  LLM_INVALID_OUTPUT: { retryable: false, description: 'The LLM output did not parse into the constrained edit language.' },
  VERIFICATION_FAILED: { retryable: false, description: 'The candidate failed verification.' },
  GITHUB_UNAVAILABLE: { retryable: true, description: 'The GitHub API did not answer.' },
  GITHUB_REJECTED: { retryable: false, description: 'The GitHub API refused the request.' },
  STAGE_NOT_BUILT: { retryable: false, description: 'The stage is not built yet; nothing pretends to run it.' },
  INTERNAL: { retryable: true, description: 'An unexpected error inside tracemend.' },
} as const satisfies Record<string, { retryable: boolean; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as ErrorCode[];

/** Codes no retry can change: the retry policies of every activity list them. */
export const NON_RETRYABLE_ERROR_CODES: ErrorCode[] = ERROR_CODE_NAMES.filter((code) => !ERROR_CODES[code].retryable);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The one error class of tracemend: a stable code, a message that names what was wrong, the cause kept. */
export class TracemendError extends Error {
  override readonly name = 'TracemendError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }
}
