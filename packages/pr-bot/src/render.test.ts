import type { PullRequestInput } from '@tracemend/contracts';
import { describe, expect, it } from 'vitest';
import { pullRequestInput } from '../test/pull-request-input';
import {
  BODY_SECTIONS,
  GITHUB_BODY_LIMIT,
  MAX_BODY_CHARS,
  renderBody,
  renderFixCommitMessage,
  renderTestCommitMessage,
  renderTitle,
  renderUpdateComment,
} from './render';

/** Values that may sit in gated fields the PR never copies: payloads, attributes, messages, paths of decisions. */
const HIDDEN = {
  email: 'hidden.person@corp-mail.example',
  apiKey: 'sk_live_51HiddenKeyValue9x8y7z',
  header: 'Bearer hidden-session-token-1234',
  attribute: 'hidden-attribute-value-5678',
  statusMessage: 'status for account 4111111111111111',
  logBody: 'log line with hidden-log-secret',
  envValue: 'hidden-env-value-42',
  downstream: 'hidden-downstream-body',
  rawMessage: 'raw message mentions hidden.person',
  droppedPath: 'entry.headers.x-hidden-dropped',
  tokenKey: 'hidden-token-key-id',
};

function inputWithHiddenValues(): PullRequestInput {
  const input = pullRequestInput();
  const envelope = input.gated.envelope;
  envelope.symptom.message = HIDDEN.rawMessage;
  if (envelope.entry.kind !== 'http') throw new Error('the example entry is http');
  envelope.entry.body = { email: HIDDEN.email, key: HIDDEN.apiKey };
  envelope.entry.headers = { authorization: HIDDEN.header };
  envelope.entry.query = { q: HIDDEN.email };
  envelope.environment.env = { SECRET: HIDDEN.envValue };
  envelope.downstream = [
    {
      method: 'GET',
      urlTemplate: '/accounts/{id}',
      url: '/accounts/1',
      status: 200,
      responseHeaders: {},
      responseBody: { note: HIDDEN.downstream },
    },
  ];
  const span = envelope.spans[0];
  if (!span) throw new Error('the example has a span');
  span.attributes = { 'enduser.email': HIDDEN.email, custom: HIDDEN.attribute };
  span.status = { code: 'error', message: HIDDEN.statusMessage };
  envelope.logs = [{ timestamp: span.startTime, severity: 'error', body: HIDDEN.logBody, attributes: { key: HIDDEN.apiKey } }];
  input.gated.privacy.droppedUnknown = [HIDDEN.droppedPath];
  input.gated.privacy.tokenKeyId = HIDDEN.tokenKey;
  return input;
}

function allTexts(input: PullRequestInput): string {
  return [renderTitle(input), renderBody(input), renderTestCommitMessage(input), renderFixCommitMessage(input), renderUpdateComment(input)].join(
    '\n',
  );
}

describe('renderTitle and commit messages', () => {
  it('follow the fix(<service>) / test(<service>) forms', () => {
    const input = pullRequestInput();
    expect(renderTitle(input)).toBe('fix(users-api): TypeError in createUser (9a1c0e4f)');
    const test = renderTestCommitMessage(input);
    expect(test.split('\n')[0]).toBe('test(users-api): reproduce TypeError in createUser');
    expect(test).toContain('fingerprint 9a1c0e4f2b7d3c5a');
    expect(test).toContain('  npx vitest run test/tracemend-9a1c0e4f.test.ts');
    expect(test).toContain(`On ${input.target.sha} it fails with the recorded signature 77aa88bb99cc00dd`);
    const fix = renderFixCommitMessage(input);
    expect(fix.split('\n')[0]).toBe('fix(users-api): preferences.marketing may be absent; default it to an empty list…');
    expect(fix).toContain('Candidate: cand-optional-chain-1 (template nullish-default)');
    expect(fix).toContain('Risk: 18/100 (low)');
    expect(fix.endsWith('Tracemend-Fingerprint: 9a1c0e4f2b7d3c5a')).toBe(true);
  });
});

describe('renderBody', () => {
  it('has every section, in order', () => {
    const body = renderBody(pullRequestInput());
    const headings = [...body.matchAll(/^## (.+)$/gm)].map((match) => match[1]);
    expect(headings).toEqual([...BODY_SECTIONS]);
  });

  it('carries the evidence, test, suspects, patch, verification, risk and privacy summary', () => {
    const input = pullRequestInput();
    const body = renderBody(input);
    for (const expected of [
      '| Trace id | `4bf92f3577b34da6a3ce929d0e0e4736` |',
      `| Commit | \`${input.target.sha}\` |`,
      '| Environment | production |',
      '| Signature | TypeError: `Cannot read properties of undefined (reading <str>)` (`77aa88bb99cc00dd`) |',
      '| First seen | 2026-11-20T09:15:02.123Z |',
      '| Occurrences | 1 |',
      '| POST /v1/users | server | users-api | error | 13 ms |',
      "```ts\nimport { it } from 'vitest';",
      '```sh\nnpx vitest run test/tracemend-9a1c0e4f.test.ts\n```',
      '| 1 | `src/handlers/create-user.ts:21` | `createUser` | 0.920 | 0.890 |',
      input.candidate.rationale,
      '```diff\n--- a/src/handlers/create-user.ts',
      '| Passes after the patch | passed | new test passed with the patch | 0.6 s |',
      '**18/100 (low)**',
      '| change-size | 2 | 0.30 | 6.0 | 1 line added, 1 removed |',
      'data contract `users-api` version 3',
      '| tokenize | 2 |',
      '| drop | 1 |',
      '| unknown fields dropped | 1 |',
      'Detector hits: email × 1 in 1 field(s).',
      'Audit record: `audit-users-api` #41 (record hash `ab12cd34ef56ab12cd34ef56ab12cd34`).',
      '<!-- tracemend fingerprint=9a1c0e4f2b7d3c5a -->',
    ]) {
      expect(body).toContain(expected);
    }
  });

  it('lists the support files committed beside the test in one line, and none when there are none', () => {
    const input = pullRequestInput();
    expect(renderBody(input)).not.toContain('Committed beside it');
    input.minimal.testFile.support = [
      { path: 'test/tracemend-replay.mjs', content: 'export {};\n' },
      { path: 'test/tracemend-recording.json', content: '{}\n' },
    ];
    const lines = renderBody(input).split('\n').filter((line) => line.includes('Committed beside it'));
    expect(lines).toEqual(['Committed beside it, for the test to import: `test/tracemend-replay.mjs`, `test/tracemend-recording.json`.']);
  });

  it('names the sandbox image the failure was reproduced in, and so the Node it ran on', () => {
    const input = pullRequestInput();
    input.reproduction = { ...input.reproduction, matchingRuns: 4, runs: 5, sandbox: { driver: 'docker', image: 'tracemend/sandbox-node:18.20.8' } };
    expect(renderBody(input)).toContain('| Reproduced | 4/5 runs (docker, image `tracemend/sandbox-node:18.20.8`) |');
  });

  it('says how the dependencies were installed when the reproduction tells', () => {
    const input = pullRequestInput();
    expect(renderBody(input)).not.toContain('| Dependencies |');
    input.reproduction = { ...input.reproduction, dependencyNote: 'no lockfile: dependencies resolved as of 2019-03-02T10:00:00.000Z with npm install --before' };
    expect(renderBody(input)).toContain('| Dependencies | no lockfile: dependencies resolved as of 2019-03-02T10:00:00.000Z with npm install --before |');
  });

  it('copies no payload, attribute, message, log, env value or decision path into any text', () => {
    const texts = allTexts(inputWithHiddenValues());
    for (const [name, value] of Object.entries(HIDDEN)) expect(texts.includes(value), name).toBe(false);
    expect(texts).not.toContain('entry.body.email');
  });

  it('shrinks a huge test and diff to stay under GitHub’s limit and says what it left out', () => {
    const input = pullRequestInput();
    input.minimal.testFile.content = Array.from({ length: 9_000 }, (_, i) => `it('case ${i}', () => {});`).join('\n');
    input.candidate.editPlan.diff = Array.from({ length: 3_000 }, (_, i) => `+  const line${i} = ${i}; // padding padding`).join('\n');
    const body = renderBody(input);
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
    expect(body.length).toBeLessThan(GITHUB_BODY_LIMIT);
    expect(body).toMatch(/_\d+ more line\(s\) of the test left out here; the commit has all of it\._/);
    expect(body).toMatch(/_\d+ more line\(s\) of the diff left out here; the commit has all of it\._/);
    expect([...body.matchAll(/^## (.+)$/gm)].map((match) => match[1])).toEqual([...BODY_SECTIONS]);
  });

  it('says when there is no risk score, no spans and no suspects', () => {
    const input = pullRequestInput();
    delete input.verification.risk;
    input.gated.envelope.spans = [];
    input.localization.suspects = [];
    const body = renderBody(input);
    expect(body).toContain('_The verifier did not score this candidate._');
    expect(body).toContain('_No spans were recorded._');
    expect(body).toContain('_Fault localization ranked no suspects._');
    expect(body).toContain('Risk: **not scored**.');
  });
});

describe('renderUpdateComment', () => {
  it('names the occurrence and what the branch was rebuilt with', () => {
    const input = pullRequestInput();
    input.gated.envelope.identity.occurrences = 3;
    expect(renderUpdateComment(input)).toContain('Updated by tracemend: occurrence 3 of fingerprint `9a1c0e4f2b7d3c5a`');
  });
});
