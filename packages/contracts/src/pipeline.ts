import { z } from 'zod';
import { DownstreamCall, Entry, RuntimeEnvironment, Timing } from './envelope';
import { FeatureFlagsConfig, FunctionHandlerConfig, HttpAppConfig, MessageHandlerConfig } from './entry-config';
import { boundedString, GitSha, HexId, Identifier, LIMITS, SchemaVersion } from './primitives';

/** A test runner tracemend can emit tests for. */
export const TestRunner = z.enum(['vitest', 'jest', 'mocha', 'node:test', 'ava']);
export type TestRunner = z.infer<typeof TestRunner>;

/** Where the failing code lives and how to test it, from the service catalog. */
export const RepoTarget = z.object({
  schemaVersion: SchemaVersion,
  service: Identifier,
  repository: z.object({
    owner: Identifier,
    name: Identifier,
    cloneUrl: boundedString(2_048),
  }),
  baseBranch: Identifier,
  sha: GitSha,
  test: z.object({
    runner: TestRunner,
    command: z.array(boundedString(1_024)).min(1).max(64),
    /** What the runner and command were read from when the catalog did not name them both. */
    detectedFrom: boundedString(500).optional(),
  }),
  dataContract: boundedString(1_024),
  /** For HTTP services: the module and export that build the app the replay harness mounts. */
  httpApp: HttpAppConfig.optional(),
  /** For functions (Lambda and peers): the handler the replay invokes with the recorded event. */
  functionHandler: FunctionHandlerConfig.optional(),
  /** For queue consumers: the handler the replay delivers the recorded message to. */
  messageHandler: MessageHandlerConfig.optional(),
  /** Where the flag client reads feature flags (the catalog's `featureFlags`), for replays. */
  featureFlags: FeatureFlagsConfig.optional(),
  /** The catalog's deploy-root override, when the service set one. */
  deployRoot: boundedString(1_024).optional(),
  /** How `sha` was found from the reported version, for the PR and the operator. */
  resolvedFrom: z
    .object({
      version: boundedString(),
      how: z.enum(['sha', 'short-sha', 'vcs-attribute', 'catalog-map', 'tag']),
      ref: boundedString(1_024).optional(),
    })
    .optional(),
});
export type RepoTarget = z.infer<typeof RepoTarget>;

/** errorType + normalized message + top in-app frames: "reproduced" means the replay produced the same. */
export const FailureSignature = z.object({
  errorType: Identifier,
  normalizedMessage: boundedString(LIMITS.text),
  frames: z.array(z.object({ function: boundedString(), file: boundedString(1_024) })).max(5),
  hash: HexId,
});
export type FailureSignature = z.infer<typeof FailureSignature>;

/** The result of replaying the gated envelope in the sandbox. */
export const Reproduction = z.object({
  schemaVersion: SchemaVersion,
  reproduced: z.boolean(),
  expected: FailureSignature,
  observed: FailureSignature.optional(),
  runs: z.number().int().positive().max(1_000),
  matchingRuns: z.number().int().nonnegative(),
  rate: z.number().min(0).max(1),
  durationMs: z.number().nonnegative(),
  sandbox: z.object({ driver: Identifier, image: boundedString(512) }),
  reason: boundedString(LIMITS.text),
  /** How the target's dependencies were installed, e.g. resolved by date because the repository has no lockfile. */
  dependencyNote: boundedString(300).optional(),
});
export type Reproduction = z.infer<typeof Reproduction>;

/** A file the test needs beside it (the replay helper it imports), committed with it. */
export const SupportFile = z.object({
  path: boundedString(1_024),
  content: boundedString(LIMITS.fileContent),
});
export type SupportFile = z.infer<typeof SupportFile>;

/** A test file in the target repository's own runner. */
export const TestFile = z.object({
  path: boundedString(1_024),
  content: boundedString(LIMITS.fileContent),
  runner: TestRunner,
  command: z.array(boundedString(1_024)).min(1).max(64),
  /** Files written beside the test before it runs and committed with it. */
  support: z.array(SupportFile).max(4).optional(),
});
export type TestFile = z.infer<typeof TestFile>;

/** The smallest input and environment that still produce the signature, with its test. */
export const MinimalRepro = z.object({
  schemaVersion: SchemaVersion,
  entry: Entry,
  environment: RuntimeEnvironment,
  downstream: z.array(DownstreamCall).max(LIMITS.downstream),
  /** The recorded time the replay freezes the clock at (and its random seed). */
  timing: Timing.optional(),
  signature: FailureSignature,
  testsRun: z.number().int().nonnegative(),
  cacheHits: z.number().int().nonnegative(),
  testFile: TestFile,
});
export type MinimalRepro = z.infer<typeof MinimalRepro>;

/** A ranked suspicious location with its scores and the code around it. */
export const Suspect = z.object({
  file: boundedString(1_024),
  line: z.number().int().positive(),
  function: boundedString().optional(),
  score: z.number().min(0).max(1),
  scores: z.object({
    ochiai: z.number().min(0).max(1),
    tarantula: z.number().min(0).max(1).optional(),
    dstar: z.number().nonnegative().optional(),
    frameWeight: z.number().min(0).max(1),
  }),
  context: z.object({
    startLine: z.number().int().positive(),
    lines: z.array(boundedString(LIMITS.text)).max(200),
  }),
});
export type Suspect = z.infer<typeof Suspect>;

/** Fault localization's output. */
export const Localization = z.object({
  schemaVersion: SchemaVersion,
  suspects: z.array(Suspect).max(LIMITS.suspects),
  failingRuns: z.number().int().nonnegative(),
  passingRuns: z.number().int().nonnegative(),
});
export type Localization = z.infer<typeof Localization>;

/** One edit of the constrained edit language: replace an inclusive line range of one file. */
export const Edit = z.object({
  file: boundedString(1_024),
  startLine: z.number().int().positive(),
  endLine: z.number().int().positive(),
  before: boundedString(LIMITS.longText),
  after: boundedString(LIMITS.longText),
});
export type Edit = z.infer<typeof Edit>;

/** A candidate patch and why it might be right. */
export const Candidate = z.object({
  schemaVersion: SchemaVersion,
  id: Identifier,
  origin: z.enum(['template', 'llm']),
  template: Identifier.optional(),
  rationale: boundedString(LIMITS.text),
  suspectRank: z.number().int().nonnegative(),
  editPlan: z.object({
    edits: z.array(Edit).min(1).max(LIMITS.edits),
    diff: boundedString(LIMITS.longText),
  }),
  size: z.object({
    files: z.number().int().nonnegative(),
    linesAdded: z.number().int().nonnegative(),
    linesRemoved: z.number().int().nonnegative(),
  }),
});
export type Candidate = z.infer<typeof Candidate>;

/** One repair round's candidates, best first. */
export const CandidateSet = z.object({
  schemaVersion: SchemaVersion,
  round: z.number().int().positive(),
  candidates: z.array(Candidate).max(LIMITS.candidates),
});
export type CandidateSet = z.infer<typeof CandidateSet>;

export const RiskFactorName = z.enum(['change-size', 'files-touched', 'exported-api', 'fan-out', 'coverage', 'origin']);
export type RiskFactorName = z.infer<typeof RiskFactorName>;

/** 0–100 with the factors that produced it. */
export const RiskScore = z.object({
  schemaVersion: SchemaVersion,
  score: z.number().int().min(0).max(100),
  level: z.enum(['low', 'medium', 'high']),
  factors: z
    .array(
      z.object({
        name: RiskFactorName,
        value: z.number(),
        weight: z.number().min(0).max(1),
        contribution: z.number().min(0).max(100),
        detail: boundedString(LIMITS.text),
      }),
    )
    .max(16),
});
export type RiskScore = z.infer<typeof RiskScore>;

const CheckResult = z.object({
  status: z.enum(['passed', 'failed', 'skipped']),
  detail: boundedString(LIMITS.text),
  durationMs: z.number().nonnegative(),
});

/** Everything the verifier checked for one candidate. */
export const Verification = z.object({
  schemaVersion: SchemaVersion,
  candidateId: Identifier,
  verdict: z.enum(['verified', 'rejected']),
  reason: boundedString(LIMITS.text),
  checks: z.object({
    typecheck: CheckResult,
    suite: CheckResult.extend({
      passed: z.number().int().nonnegative(),
      failed: z.number().int().nonnegative(),
      baselineFailures: z.array(boundedString(1_024)).max(LIMITS.records),
    }),
    failsBefore: CheckResult,
    passesAfter: CheckResult,
    fuzz: CheckResult.extend({
      variants: z.number().int().nonnegative(),
      newSignatures: z.array(HexId).max(LIMITS.records),
    }),
  }),
  risk: RiskScore.optional(),
  durationMs: z.number().nonnegative(),
});
export type Verification = z.infer<typeof Verification>;

/** The pull request the PR bot opened or updated. */
export const PullRequestRecord = z.object({
  schemaVersion: SchemaVersion,
  url: z.url().max(2_048),
  number: z.number().int().positive(),
  branch: boundedString(),
  baseBranch: Identifier,
  headSha: GitSha,
  created: z.boolean(),
  commits: z.array(z.object({ sha: GitSha, message: boundedString(LIMITS.text) })).min(1).max(16),
  labels: z.array(boundedString(64)).max(32),
  reviewers: z.array(boundedString(64)).max(32),
});
export type PullRequestRecord = z.infer<typeof PullRequestRecord>;
