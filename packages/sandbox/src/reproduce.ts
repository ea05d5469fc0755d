import { TracemendError, type DownstreamCall, type Entry, type FailureEnvelope, type FailureSignature, type Reproduction, type RuntimeEnvironment } from '@tracemend/contracts';
import type { Logger } from '@tracemend/telemetry';
import type { SandboxDriver } from './driver';
import { resolveEntry, type EntryHandlers } from './invocation';
import { ResidentHarness, type ReplayJob, type ReplayResult, type ResidentHarnessOptions } from './replay';
import { describeSignature, failureSignature, signaturesMatch } from './signature';

/**
 * Share of runs that must show the expected signature for `reproduced`: 4 of the default 5, so one
 * stray run does not discard a real failure while a coin-flip one stays not-reproducible.
 */
export const DEFAULT_REPRODUCTION_THRESHOLD = 0.8;
/** Replays per reproduction, all in one container; their matching share is the reproduction rate. */
export const DEFAULT_REPRODUCTION_RUNS = 5;

export interface ReproduceOptions {
  readonly driver: SandboxDriver;
  readonly image: string;
  /** Host checkout of the repository at the incident's SHA, readable by uid 10001; mounted read-only. */
  readonly repoDir: string;
  readonly depsDir?: string;
  /** The gated envelope's FailureEnvelope (`gated.envelope`). */
  readonly envelope: FailureEnvelope;
  /**
   * The catalog's handlers (RepoTarget.httpApp, functionHandler, messageHandler): `httpApp` is required for
   * http entries, the others for function and message entries whose module telemetry could not name.
   */
  readonly handlers?: EntryHandlers;
  /** Moved into `handlers`; typed `never` so a caller still passing it fails to compile instead of losing it. */
  readonly httpApp?: never;
  /** Replays to measure the rate over; defaults to DEFAULT_REPRODUCTION_RUNS. */
  readonly runs?: number;
  /** Minimum matching share (0 < threshold ≤ 1) for `reproduced`; defaults to DEFAULT_REPRODUCTION_THRESHOLD. */
  readonly threshold?: number;
  readonly jobTimeoutMs?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
  /** Cancels the reproduction: its container is killed and removed, and `reproduce` rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Starts the resident harness; tests and pools may supply their own. */
  readonly startHarness?: (options: ResidentHarnessOptions) => Promise<ResidentHarness>;
}

/** What a replay job is built from: a gated envelope, or a minimal reproduction of one. */
export interface ReplayInput {
  readonly entry: Entry;
  readonly environment: RuntimeEnvironment | ReplayJob['environment'];
  readonly timing: { readonly recordedAt: string; readonly randomSeed?: number };
  readonly downstream: readonly DownstreamCall[];
}

/**
 * The replay job for recorded inputs: the entry completed by the catalog's handlers (`resolveEntry`),
 * environment, timing and downstream calls, and where the service reads its feature flags. Throws
 * INVALID_INPUT naming the catalog field an entry lacks.
 */
export function replayJob(input: ReplayInput, options: { id: string; service: string; handlers?: EntryHandlers; coverage?: boolean }): ReplayJob {
  const { featureFlags, env, locale, timezone } = input.environment;
  const handlers = options.handlers ?? {};
  return {
    id: options.id,
    entry: resolveEntry(input.entry, handlers, { service: options.service, recordedAt: input.timing.recordedAt }),
    ...(handlers.httpApp === undefined ? {} : { httpApp: handlers.httpApp }),
    environment: { featureFlags, env, ...(locale === undefined ? {} : { locale }), ...(timezone === undefined ? {} : { timezone }) },
    timing: { recordedAt: input.timing.recordedAt, ...(input.timing.randomSeed === undefined ? {} : { randomSeed: input.timing.randomSeed }) },
    downstream: input.downstream,
    ...(handlers.featureFlags === undefined ? {} : { flags: handlers.featureFlags }),
    ...(options.coverage ? { coverage: true } : {}),
  };
}

/** The replay job for an envelope (`replayJob` with the envelope's service). */
export function replayJobFromEnvelope(envelope: FailureEnvelope, options: { id: string; handlers?: EntryHandlers; httpApp?: never; coverage?: boolean }): ReplayJob {
  return replayJob(envelope, {
    id: options.id,
    service: envelope.identity.service,
    ...(options.handlers === undefined ? {} : { handlers: options.handlers }),
    ...(options.coverage ? { coverage: true } : {}),
  });
}

/** The signature a replay result shows, or undefined when it observed no error. */
export function observedSignature(result: ReplayResult): FailureSignature | undefined {
  if (result.outcome === 'harness-error' || result.error === undefined) return undefined;
  return failureSignature({ errorType: result.error.type, message: result.error.message, frames: result.error.frames });
}

/** Why a replay result does not show the expected signature, or undefined when it does. */
export function mismatchReason(result: ReplayResult, expected: FailureSignature): string | undefined {
  if (result.outcome === 'harness-error') return `the replay harness could not run the entry: ${result.message}`;
  const observed = observedSignature(result);
  if (observed !== undefined && signaturesMatch(observed, expected)) return undefined;
  const unrecorded = result.unrecordedCalls.length > 0 ? `; unrecorded downstream call ${result.unrecordedCalls.join(', ')}` : '';
  if (observed !== undefined) return `observed ${describeSignature(observed)} instead of ${describeSignature(expected)}${unrecorded}`;
  if (result.outcome === 'http') {
    return result.httpStatus !== undefined && result.httpStatus >= 500
      ? `the request answered HTTP ${result.httpStatus} but the repository code threw no exception${unrecorded}`
      : `the request answered HTTP ${result.httpStatus ?? '?'} without an error${unrecorded}`;
  }
  return `the entry returned without an error${unrecorded}`;
}

const percent = (share: number): string => `${Math.round(share * 100)}%`;

/**
 * The reproduction's reason, always with its rate: `reproduced in 5 of 5 runs (100%): <signature>`,
 * `reproduced in 4 of 5 runs (80%), at least the required 80%; run 2: <why>` or
 * `matched in 1 of 5 runs (20%), below the required 80%; run 1: <why>`.
 */
export function reproductionReason(input: {
  matchingRuns: number;
  runs: number;
  threshold: number;
  expected: FailureSignature;
  /** Index of the first run that did not match, or -1. */
  firstMismatch: number;
  mismatch: string | undefined;
}): string {
  const { matchingRuns, runs, threshold } = input;
  const counted = `in ${matchingRuns} of ${runs} runs (${percent(matchingRuns / runs)})`;
  const detail = input.firstMismatch < 0 ? '' : `; run ${input.firstMismatch + 1}: ${input.mismatch ?? 'no matching signature'}`;
  if (input.firstMismatch < 0) return `reproduced ${counted}: ${describeSignature(input.expected)}`;
  if (matchingRuns / runs >= threshold) return `reproduced ${counted}, at least the required ${percent(threshold)}${detail}`;
  return `matched ${counted}, below the required ${percent(threshold)}${detail}`;
}

/**
 * Replays the envelope `runs` times in one resident sandbox and compares each observed failure
 * signature with the envelope's symptom. The matching share is the reproduction rate; below the
 * threshold the failure counts as flaky and `reproduced` is false, with the rate in `reason`.
 * A job that exceeds its time limit rejects with SANDBOX_TIMEOUT instead of counting as a run.
 */
export async function reproduce(options: ReproduceOptions): Promise<Reproduction> {
  const { envelope } = options;
  const runs = options.runs ?? DEFAULT_REPRODUCTION_RUNS;
  const threshold = options.threshold ?? DEFAULT_REPRODUCTION_THRESHOLD;
  if (!Number.isInteger(runs) || runs < 1) throw new TracemendError('INVALID_INPUT', `runs must be a positive integer, got ${runs}`);
  if (!(threshold > 0 && threshold <= 1)) throw new TracemendError('INVALID_INPUT', `threshold must be in (0, 1], got ${threshold}`);
  // Resolved before a container starts: an entry the catalog cannot complete fails at once, naming the field.
  const job = replayJobFromEnvelope(envelope, { id: 'reproduce', ...(options.handlers === undefined ? {} : { handlers: options.handlers }) });
  const expected = failureSignature(envelope.symptom);
  const started = Date.now();
  const start = options.startHarness ?? ((harnessOptions: ResidentHarnessOptions) => ResidentHarness.start(harnessOptions));
  const harness = await start({
    // The harness mounts the checkout read-only: it is shared with other incidents and stages.
    driver: options.driver,
    image: options.image,
    repoDir: options.repoDir,
    ...(options.depsDir === undefined ? {} : { depsDir: options.depsDir }),
    ...(options.jobTimeoutMs === undefined ? {} : { jobTimeoutMs: options.jobTimeoutMs }),
    ...(options.labels === undefined ? {} : { labels: options.labels }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const results: ReplayResult[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      results.push(await harness.judge({ ...job, id: `reproduce-${run}` }));
    }
  } finally {
    await harness.close();
  }

  const reasons = results.map((result) => mismatchReason(result, expected));
  const matchingRuns = reasons.filter((reason) => reason === undefined).length;
  const rate = matchingRuns / runs;
  const reproduced = rate >= threshold;
  const firstMismatch = reasons.findIndex((reason) => reason !== undefined);
  // The observed signature is a matching run's when reproduced, else the first mismatch's.
  const shown = results[reproduced ? reasons.indexOf(undefined) : firstMismatch];
  const observed = shown === undefined ? undefined : observedSignature(shown);
  const reason = reproductionReason({ matchingRuns, runs, threshold, expected, firstMismatch, mismatch: reasons[firstMismatch] });
  return {
    schemaVersion: 1,
    reproduced,
    expected,
    ...(observed === undefined ? {} : { observed }),
    runs,
    matchingRuns,
    rate,
    durationMs: Date.now() - started,
    sandbox: { driver: 'docker', image: options.image },
    reason: reason.slice(0, 2_000),
  };
}
