import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Octokit } from '@octokit/rest';
import { TracemendError } from '@tracemend/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callGitHub, toTracemendError } from './github-errors';

const TOKEN = 'ghp_secret-token-never-in-errors';
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Answers each path with a fixed status and GitHub-shaped JSON. */
const ANSWERS: Record<string, { status: number; body: unknown; headers?: Record<string, string> }> = {
  '/repos/acme/api/pulls': {
    status: 422,
    body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: 'A pull request already exists for acme:x.' }] },
  },
  '/repos/acme/api': { status: 503, body: { message: 'Service Unavailable' } },
  '/repos/acme/limited': {
    status: 403,
    body: { message: 'API rate limit exceeded for user.' },
    headers: { 'x-ratelimit-remaining': '0' },
  },
  '/repos/acme/private': { status: 404, body: { message: 'Not Found' } },
};

async function caught(promise: Promise<unknown>): Promise<TracemendError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TracemendError) return error;
    throw error;
  }
  throw new Error('expected a TracemendError');
}

describe('GitHub error mapping', () => {
  let server: Server;
  let octokit: Octokit;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const answer = ANSWERS[new URL(request.url ?? '/', 'http://x').pathname] ?? { status: 500, body: { message: 'boom' } };
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    octokit = new Octokit({ baseUrl: `http://127.0.0.1:${port}`, auth: TOKEN, log: quiet });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('maps a 4xx to GITHUB_REJECTED with GitHub’s message and the endpoint, never the token', async () => {
    const error = await caught(
      callGitHub('pulls.create', () => octokit.rest.pulls.create({ owner: 'acme', repo: 'api', head: 'x', base: 'main', title: 't' })),
    );
    expect(error.code).toBe('GITHUB_REJECTED');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'GitHub rejected pulls.create (POST /repos/acme/api/pulls) with HTTP 422: Validation Failed; A pull request already exists for acme:x.',
    );
    expect(error.details).toEqual({ operation: 'pulls.create', endpoint: 'POST /repos/acme/api/pulls', status: 422 });
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(TOKEN);
    const notFound = await caught(callGitHub('repos.get', () => octokit.rest.repos.get({ owner: 'acme', repo: 'private' })));
    expect(notFound.message).toBe('GitHub rejected repos.get (GET /repos/acme/private) with HTTP 404: Not Found');
  });

  it('maps 5xx and rate limits to retryable GITHUB_UNAVAILABLE', async () => {
    const unavailable = await caught(callGitHub('repos.get', () => octokit.rest.repos.get({ owner: 'acme', repo: 'api' })));
    expect(unavailable.code).toBe('GITHUB_UNAVAILABLE');
    expect(unavailable.retryable).toBe(true);
    expect(unavailable.message).toBe('GitHub repos.get (GET /repos/acme/api) failed with HTTP 503: Service Unavailable');
    const limited = await caught(callGitHub('repos.get', () => octokit.rest.repos.get({ owner: 'acme', repo: 'limited' })));
    expect(limited.code).toBe('GITHUB_UNAVAILABLE');
  });

  it('maps a refused connection to GITHUB_UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const offline = new Octokit({ baseUrl: `http://127.0.0.1:${port}`, auth: TOKEN, log: quiet });
    const error = await caught(callGitHub('repos.get', () => offline.rest.repos.get({ owner: 'acme', repo: 'api' })));
    expect(error.code).toBe('GITHUB_UNAVAILABLE');
    expect(error.message).toMatch(/^GitHub repos\.get \(GET \/repos\/acme\/api\) failed with no answer/);
  });

  it('leaves other errors alone', () => {
    const plain = new Error('not from GitHub');
    expect(toTracemendError(plain, 'x')).toBe(plain);
    const own = new TracemendError('INVALID_INPUT', 'mine');
    expect(toTracemendError(own, 'x')).toBe(own);
  });
});
