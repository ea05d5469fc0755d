import { TracemendError, type FailureEnvelope, type FailureSignature, type Reproduction } from '@tracemend/contracts';
import type { Logger } from '@tracemend/telemetry';
import type { SandboxDriver } from './driver';
import { ResidentHarness, type HttpApp, type ReplayJob, type ReplayResult, type ResidentHarnessOptions } from './replay';
import { describeSignature, failureSignature, signaturesMatch } from './signature';

/** Share of runs that must show the expected signature; 1.0 until flakiness is measured per incident. */
export const DEFAULT_REPRODUCTION_THRESHOLD = 1;
export const DEFAULT_REPRODUCTION_RUNS = 3;

export interface ReproduceOptions {
  readonly driver: SandboxDriver;
  readonly image: string;
  /** Host checkout of the repository at the incident's SHA; readable and writable by uid 10001. */
  readonly repoDir: string;
  readonly depsDir?: string;
  /** The gated envelope's FailureEnvelope (`gated.envelope`). */
  readonly envelope: FailureEnvelope;
  /** Required for http entries: the module and export that build the app (RepoTarget.httpApp). */
  readonly httpApp?: HttpApp;
  readonly runs?: number;
  /** Minimum matching share for `reproduced`; defaults to DEFAULT_REPRODUCTION_THRESHOLD. */
  readonly threshold?: number;
  readonly jobTimeoutMs?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
  /** Starts the resident harness; tests and pools may supply their own. */
  readonly startHarness?: (options: ResidentHarnessOptions) => Promise<ResidentHarness>;
}

/** The replay job for an envelope: its entry, environment, timing and recorded downstream calls. */
export function replayJobFromEnvelope(envelope: FailureEnvelope, options: { id: string; httpApp?: HttpApp; coverage?: boolean }): ReplayJob {
  const { featureFlags, env, locale, timezone } = envelope.environment;
  return {
    id: options.id,
    entry: envelope.entry,
    ...(options.httpApp === undefined ? {} : { httpApp: options.httpApp }),
    environment: { featureFlags, env, ...(locale === undefined ? {} : { locale }), ...(timezone === undefined ? {} : { timezone }) },
    timing: { recordedAt: envelope.timing.recordedAt, ...(envelope.timing.randomSeed === undefined ? {} : { randomSeed: envelope.timing.randomSeed }) },
    downstream: envelope.downstream,
    ...(options.coverage ? { coverage: true } : {}),
  };
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

/**
 * Replays the envelope `runs` times in one resident sandbox and compares each observed failure
 * signature with the envelope's symptom. Reproduced when the matching share reaches the threshold.
 * A job that exceeds its time limit rejects with SANDBOX_TIMEOUT instead of counting as a run.
 */
export async function reproduce(options: ReproduceOptions): Promise<Reproduction> {
  const { envelope } = options;
  const runs = options.runs ?? DEFAULT_REPRODUCTION_RUNS;
  const threshold = options.threshold ?? DEFAULT_REPRODUCTION_THRESHOLD;
  if (!Number.isInteger(runs) || runs < 1) throw new TracemendError('INVALID_INPUT', `runs must be a positive integer, got ${runs}`);
  if (envelope.entry.kind === 'http' && options.httpApp === undefined) {
    throw new TracemendError('INVALID_INPUT', `the http entry of ${envelope.identity.service} needs the service's httpApp (module and export that build the app)`);
  }
  const expected = failureSignature(envelope.symptom);
  const started = Date.now();
  const start = options.startHarness ?? ((harnessOptions: ResidentHarnessOptions) => ResidentHarness.start(harnessOptions));
  const harness = await start({
    driver: options.driver,
    image: options.image,
    repoDir: options.repoDir,
    ...(options.depsDir === undefined ? {} : { depsDir: options.depsDir }),
    ...(options.jobTimeoutMs === undefined ? {} : { jobTimeoutMs: options.jobTimeoutMs }),
    ...(options.labels === undefined ? {} : { labels: options.labels }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const results: ReplayResult[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      results.push(
        await harness.judge(replayJobFromEnvelope(envelope, { id: `reproduce-${run}`, ...(options.httpApp === undefined ? {} : { httpApp: options.httpApp }) })),
      );
    }
  } finally {
    await harness.close();
  }

  const reasons = results.map((result) => mismatchReason(result, expected));
  const matchingRuns = reasons.filter((reason) => reason === undefined).length;
  const rate = matchingRuns / runs;
  const reproduced = rate >= threshold;
  const firstMismatch = reasons.findIndex((reason) => reason !== undefined);
  const shown = results[firstMismatch >= 0 ? firstMismatch : 0];
  const observed = shown === undefined ? undefined : observedSignature(shown);
  let reason: string;
  if (firstMismatch < 0) reason = `reproduced in ${matchingRuns} of ${runs} runs: ${describeSignature(expected)}`;
  else if (matchingRuns === 0) reason = `not reproduced in ${runs} runs: ${reasons[firstMismatch]}`;
  else reason = `reproduced in ${matchingRuns} of ${runs} runs (threshold ${threshold}); run ${firstMismatch + 1}: ${reasons[firstMismatch]}`;
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
