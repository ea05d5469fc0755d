// Valid instances of every contract, for tests across the workspace (exported as `@tracemend/contracts/examples`).
// They describe the users-api incident with values already as the privacy gate leaves them.
import type { EnvelopeRef, GatedEnvelope, RawAlertRef } from './gated';
import type { FailureEnvelope } from './envelope';
import type { IncidentOutcome, IncidentStatus, RepairIncidentInput } from './incident';
import type {
  Candidate,
  CandidateSet,
  FailureSignature,
  Localization,
  MinimalRepro,
  PullRequestRecord,
  RepoTarget,
  Reproduction,
  RiskScore,
  Suspect,
  Verification,
} from './pipeline';

const SHA = '3f6c2a1b9d8e7f60514233445566778899aabbcc';
const FINGERPRINT = '9a1c0e4f2b7d3c5a';
const AT = '2026-11-20T09:15:02.123Z';

export const exampleRawAlertRef: RawAlertRef = {
  schemaVersion: 1,
  alertId: 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00',
  format: 'otlp-traces-json',
  receivedAt: AT,
  sizeBytes: 5_120,
  serviceHint: 'users-api',
};

export const exampleEnvelopeRef: EnvelopeRef = {
  schemaVersion: 1,
  envelopeId: 'e1e1e1e1e1e1e1e1',
  fingerprint: FINGERPRINT,
  service: 'users-api',
  errorType: 'TypeError',
  version: SHA,
};

export const exampleFailureEnvelope: FailureEnvelope = {
  schemaVersion: 1,
  identity: {
    fingerprint: FINGERPRINT,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    service: 'users-api',
    version: SHA,
    environment: 'production',
    firstSeen: AT,
    lastSeen: AT,
    occurrences: 1,
  },
  symptom: {
    errorType: 'TypeError',
    message: "Cannot read properties of undefined (reading 'push')",
    messageHash: '5d41402abc4b2a76',
    frames: [
      { file: 'src/handlers/create-user.ts', line: 21, column: 42, function: 'createUser', inApp: true },
      { file: 'node:internal/process/task_queues', line: 95, column: 5, function: 'processTicksAndRejections', inApp: false },
    ],
  },
  entry: {
    kind: 'http',
    method: 'POST',
    route: '/v1/users',
    path: '/v1/users',
    query: {},
    headers: { 'content-type': 'application/json' },
    body: { name: 'tok_name_7f3a', email: 'u7f3a9c@example.com', preferences: { newsletter: true } },
  },
  environment: {
    featureFlags: { newSignup: true },
    env: { NODE_ENV: 'production' },
    locale: 'de-DE',
    timezone: 'Europe/Berlin',
    runtime: { name: 'node', version: '20.20.2' },
  },
  timing: { recordedAt: AT, durationMs: 12.5 },
  downstream: [],
  spans: [
    {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      name: 'POST /v1/users',
      kind: 'server',
      service: 'users-api',
      startTime: AT,
      endTime: '2026-11-20T09:15:02.136Z',
      status: { code: 'error', message: "Cannot read properties of undefined (reading 'push')" },
      attributes: { 'http.request.method': 'POST', 'http.route': '/v1/users', 'http.response.status_code': 500 },
    },
  ],
  logs: [],
  provenance: {
    sources: [{ alertId: exampleRawAlertRef.alertId, format: 'otlp-traces-json', receivedAt: AT, items: 1 }],
    notes: [],
  },
};

export const exampleGatedEnvelope: GatedEnvelope = {
  schemaVersion: 1,
  envelope: exampleFailureEnvelope,
  privacy: {
    contract: { id: 'users-api', version: 3 },
    decisions: [
      { path: 'entry.body.email', action: 'tokenize', sensitivity: 'internal', basis: 'contract' },
      { path: 'entry.body.name', action: 'tokenize', sensitivity: 'internal', basis: 'contract' },
      { path: 'entry.headers.authorization', action: 'drop', sensitivity: 'secret', basis: 'default-deny' },
    ],
    droppedUnknown: ['entry.headers.x-session'],
    detectorHits: [{ detector: 'email', path: 'entry.body.email', count: 1 }],
    tokenKeyId: 'k2026-11',
    audit: { auditId: 'audit-users-api', sequence: 41, recordHash: 'ab12cd34ef56ab12cd34ef56ab12cd34' },
  },
};

export const exampleRepoTarget: RepoTarget = {
  schemaVersion: 1,
  service: 'users-api',
  repository: { owner: 'acme', name: 'users-api', cloneUrl: 'http://127.0.0.1:3999/acme/users-api.git' },
  baseBranch: 'main',
  sha: SHA,
  test: { runner: 'vitest', command: ['npx', 'vitest', 'run'] },
  dataContract: 'contracts/users-api.yaml',
};

export const exampleSignature: FailureSignature = {
  errorType: 'TypeError',
  normalizedMessage: 'Cannot read properties of undefined (reading <str>)',
  frames: [{ function: 'createUser', file: 'src/handlers/create-user.ts' }],
  hash: '77aa88bb99cc00dd',
};

export const exampleReproduction: Reproduction = {
  schemaVersion: 1,
  reproduced: true,
  expected: exampleSignature,
  observed: exampleSignature,
  runs: 5,
  matchingRuns: 5,
  rate: 1,
  durationMs: 840,
  sandbox: { driver: 'docker', image: 'tracemend/sandbox-node:20.20.2' },
  reason: 'signature matched in 5 of 5 runs',
};

export const exampleMinimalRepro: MinimalRepro = {
  schemaVersion: 1,
  entry: { ...exampleFailureEnvelope.entry, kind: 'http', body: { preferences: {} } } as MinimalRepro['entry'],
  environment: { featureFlags: {}, env: {}, runtime: { name: 'node', version: '20.20.2' } },
  downstream: [],
  signature: exampleSignature,
  testsRun: 23,
  cacheHits: 4,
  testFile: {
    path: 'test/tracemend-9a1c0e4f.test.ts',
    content: "import { it } from 'vitest';\nit('reproduces', async () => {});\n",
    runner: 'vitest',
    command: ['npx', 'vitest', 'run', 'test/tracemend-9a1c0e4f.test.ts'],
  },
};

export const exampleSuspect: Suspect = {
  file: 'src/handlers/create-user.ts',
  line: 21,
  function: 'createUser',
  score: 0.92,
  scores: { ochiai: 0.89, tarantula: 0.95, dstar: 12, frameWeight: 1 },
  context: { startLine: 19, lines: ['export function createUser(body) {', '  const prefs = body.preferences;', '  prefs.marketing.push("signup");'] },
};

export const exampleLocalization: Localization = {
  schemaVersion: 1,
  suspects: [exampleSuspect],
  failingRuns: 12,
  passingRuns: 11,
};

export const exampleCandidate: Candidate = {
  schemaVersion: 1,
  id: 'cand-optional-chain-1',
  origin: 'template',
  template: 'nullish-default',
  rationale: 'preferences.marketing may be absent; default it to an empty list before pushing.',
  suspectRank: 0,
  editPlan: {
    edits: [
      {
        file: 'src/handlers/create-user.ts',
        startLine: 21,
        endLine: 21,
        before: '  prefs.marketing.push("signup");',
        after: '  (prefs.marketing ??= []).push("signup");',
      },
    ],
    diff: '--- a/src/handlers/create-user.ts\n+++ b/src/handlers/create-user.ts\n@@ -21 +21 @@\n-  prefs.marketing.push("signup");\n+  (prefs.marketing ??= []).push("signup");\n',
  },
  size: { files: 1, linesAdded: 1, linesRemoved: 1 },
};

export const exampleCandidateSet: CandidateSet = { schemaVersion: 1, round: 1, candidates: [exampleCandidate] };

export const exampleRiskScore: RiskScore = {
  schemaVersion: 1,
  score: 18,
  level: 'low',
  factors: [
    { name: 'change-size', value: 2, weight: 0.3, contribution: 6, detail: '1 line added, 1 removed' },
    { name: 'origin', value: 0, weight: 0.2, contribution: 0, detail: 'template nullish-default' },
    { name: 'coverage', value: 1, weight: 0.2, contribution: 12, detail: 'changed line covered by 3 tests' },
  ],
};

export const exampleVerification: Verification = {
  schemaVersion: 1,
  candidateId: exampleCandidate.id,
  verdict: 'verified',
  reason: 'typecheck, suite, fails-before/passes-after and fuzz all passed',
  checks: {
    typecheck: { status: 'passed', detail: 'tsc --noEmit: 0 errors', durationMs: 1_800 },
    suite: { status: 'passed', detail: '14 passed', durationMs: 2_400, passed: 14, failed: 0, baselineFailures: [] },
    failsBefore: { status: 'passed', detail: 'new test failed on the recorded SHA with the signature', durationMs: 600 },
    passesAfter: { status: 'passed', detail: 'new test passed with the patch', durationMs: 580 },
    fuzz: { status: 'passed', detail: '40 variants, no new signature', durationMs: 900, variants: 40, newSignatures: [] },
  },
  risk: exampleRiskScore,
  durationMs: 6_300,
};

export const examplePullRequestRecord: PullRequestRecord = {
  schemaVersion: 1,
  url: 'http://127.0.0.1:3999/acme/users-api/pull/1',
  number: 1,
  branch: 'tracemend/users-api/9a1c0e4f-typeerror-in-createuser',
  baseBranch: 'main',
  headSha: 'aa11bb22cc33dd44ee55ff66778899aabbccddee',
  created: true,
  commits: [
    { sha: '1111111111111111111111111111111111111111', message: 'test: reproduce TypeError in createUser' },
    { sha: 'aa11bb22cc33dd44ee55ff66778899aabbccddee', message: 'fix: default preferences.marketing in createUser' },
  ],
  labels: ['tracemend', 'risk:low'],
  reviewers: [],
};

export const exampleRepairIncidentInput: RepairIncidentInput = {
  schemaVersion: 1,
  incidentId: FINGERPRINT,
  alert: exampleRawAlertRef,
  occurrences: 1,
};

export const exampleIncidentOutcome: IncidentOutcome = {
  schemaVersion: 1,
  incidentId: FINGERPRINT,
  workflowId: `incident-${FINGERPRINT}`,
  outcome: 'pr-opened',
  reason: 'verified template patch opened as pull request #1',
  fingerprint: FINGERPRINT,
  service: 'users-api',
  errorType: 'TypeError',
  occurrences: 1,
  stages: [
    { stage: 'ingest', status: 'succeeded', startedAt: AT, endedAt: AT, durationMs: 40, summary: 'TypeError in users-api' },
  ],
  review: { state: 'not-required', why: 'risk 18 below threshold 40' },
  pr: { url: examplePullRequestRecord.url, number: 1, branch: examplePullRequestRecord.branch },
  risk: exampleRiskScore,
  startedAt: AT,
  endedAt: AT,
};

export const exampleIncidentStatus: IncidentStatus = {
  schemaVersion: 1,
  incidentId: FINGERPRINT,
  stage: 'done',
  occurrences: 1,
  fingerprint: FINGERPRINT,
  service: 'users-api',
  errorType: 'TypeError',
  stages: exampleIncidentOutcome.stages,
  review: exampleIncidentOutcome.review,
  outcome: exampleIncidentOutcome,
};
