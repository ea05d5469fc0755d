import { TracemendError } from '@tracemend/contracts';

/** The shape of Octokit's RequestError that matters here (the class is not part of @octokit/rest's API). */
interface OctokitRequestError {
  name: 'HttpError';
  status: number;
  message: string;
  request?: { method?: string; url?: string };
  response?: { data?: unknown; headers?: Record<string, string | number | undefined> };
}

function isOctokitRequestError(error: unknown): error is OctokitRequestError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'HttpError' &&
    typeof (error as { status?: unknown }).status === 'number'
  );
}

/** `METHOD /path` of the failed request: no host, no query, never a header (the token lives in headers). */
function endpointOf(error: OctokitRequestError, operation: string): string {
  const method = error.request?.method ?? '';
  const url = error.request?.url;
  if (!url) return operation;
  try {
    return `${method} ${new URL(url).pathname}`.trim();
  } catch {
    return operation;
  }
}

/** GitHub's own explanation: the `message` plus any `errors[].message` (or code/field) entries. */
function githubMessage(error: OctokitRequestError): string {
  const data = error.response?.data;
  if (typeof data !== 'object' || data === null) return error.message;
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  const parts = typeof message === 'string' && message !== '' ? [message] : [error.message];
  if (Array.isArray(errors)) {
    for (const item of errors as unknown[]) {
      if (typeof item === 'string') parts.push(item);
      else if (typeof item === 'object' && item !== null) {
        const entry = item as { message?: unknown; code?: unknown; field?: unknown; resource?: unknown };
        if (typeof entry.message === 'string') parts.push(entry.message);
        else parts.push([entry.resource, entry.field, entry.code].filter((part) => typeof part === 'string').join(' '));
      }
    }
  }
  return parts.filter((part) => part !== '').join('; ');
}

function isRateLimited(error: OctokitRequestError, message: string): boolean {
  if (error.status === 429) return true;
  if (error.status !== 403) return false;
  return error.response?.headers?.['x-ratelimit-remaining'] === '0' || /rate limit/i.test(message);
}

/**
 * Turns what Octokit threw into a TracemendError: no answer, 5xx and rate limits are
 * GITHUB_UNAVAILABLE (a retry can succeed); any other 4xx is GITHUB_REJECTED with GitHub's message
 * and the endpoint. Anything else is returned unchanged.
 */
export function toTracemendError(error: unknown, operation: string): unknown {
  if (error instanceof TracemendError || !isOctokitRequestError(error)) return error;
  const endpoint = endpointOf(error, operation);
  const message = githubMessage(error);
  const details = { operation, endpoint, status: error.status };
  if (error.status >= 500 || error.response === undefined || isRateLimited(error, message)) {
    const what = error.response === undefined ? `no answer (${error.message})` : `HTTP ${error.status}: ${message}`;
    return new TracemendError('GITHUB_UNAVAILABLE', `GitHub ${operation} (${endpoint}) failed with ${what}`, { cause: error, details });
  }
  return new TracemendError('GITHUB_REJECTED', `GitHub rejected ${operation} (${endpoint}) with HTTP ${error.status}: ${message}`, {
    cause: error,
    details,
  });
}

/** True when `error` is Octokit's answer with this HTTP status. */
export function hasStatus(error: unknown, status: number): boolean {
  return isOctokitRequestError(error) && error.status === status && error.response !== undefined;
}

/** Runs one GitHub call, mapping its failure with {@link toTracemendError}. */
export async function callGitHub<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toTracemendError(error, operation);
  }
}
