import { TracemendError, type Entry, type FailureSignature, type MinimalRepro, type MinimizeInput } from '@tracemend/contracts';
import { entryHandlersOf, mismatchReason, replayJobFromEnvelope, type PreparedTarget, type ReplayJob, type ResidentHarness, type Workspace } from '@tracemend/sandbox';
import type { Logger } from '@tracemend/telemetry';
import type { JsonValue } from './canonical';
import { ddmin } from './ddmin';
import { minimizeJson, minimizeRecord } from './hierarchical';
import { namesInCode } from './names';
import { readSourceFiles } from '@tracemend/process';
import { detectTestConventions } from '@tracemend/test-runners';
import { emitRegressionTest } from './test-emitter';

export interface MinimizerDeps {
  workspace: Workspace;
  startHarness(prepared: PreparedTarget, incidentId: string): Promise<ResidentHarness>;
  logger: Logger;
  /** Most candidates judged per incident (default 400). */
  maxTests?: number;
}

/** The part of an entry the minimizer shrinks, and how to put a smaller one back. */
export function entryInput(entry: Entry): { value: JsonValue; with(value: JsonValue): Entry } {
  switch (entry.kind) {
    case 'http':
      return { value: entry.body ?? null, with: (body) => ({ ...entry, body: body as typeof entry.body }) };
    case 'function':
      return { value: entry.args, with: (args) => ({ ...entry, args: Array.isArray(args) ? args : [] }) };
    case 'message':
      return { value: entry.payload, with: (payload) => ({ ...entry, payload }) };
  }
}

/** Whether one replay of `job` still shows the expected signature. */
export function stillFails(harness: ResidentHarness, expected: FailureSignature): (job: ReplayJob) => Promise<boolean> {
  let n = 0;
  return async (job) => mismatchReason(await harness.judge({ ...job, id: `candidate-${++n}` }), expected) === undefined;
}

/**
 * The minimize stage: hierarchical ddmin over the entry's input (keeping its recorded fields),
 * then the feature flags, the env
 * and the recorded downstream calls, every candidate judged by signature in one resident sandbox;
 * then a regression test in the repository's own runner.
 */
export function createMinimizerActivities(deps: MinimizerDeps) {
  return {
    minimize: async (input: MinimizeInput): Promise<MinimalRepro> => {
      const budget = deps.maxTests ?? 400;
      const prepared = await deps.workspace.prepare(input.target);
      const harness = await deps.startHarness(prepared, input.incidentId);
      try {
        const envelope = input.gated.envelope;
        const expected = input.reproduction.expected;
        const fails = stillFails(harness, expected);
        let job = replayJobFromEnvelope(envelope, { id: 'recorded', handlers: entryHandlersOf(input.target) });
        const recordedEnvironment = job.environment;
        if (!(await fails(job))) {
          throw new TracemendError('MINIMIZATION_FAILED', 'the recorded input no longer shows the failure signature in the sandbox');
        }
        const part = entryInput(job.entry);
        // What the test replays must stay an input production could send (ADR 0011).
        const keepFields = { named: namesInCode(await readSourceFiles(prepared.repoDir)) };
        const onInput = await minimizeJson(part.value, (value) => fails({ ...job, entry: part.with(value) }), { maxTests: budget, keepFields });
        job = { ...job, entry: part.with(onInput.minimal) };
        const onFlags = await minimizeRecord(job.environment.featureFlags as Record<string, JsonValue>, (featureFlags) =>
          fails({ ...job, environment: { ...job.environment, featureFlags: featureFlags as Record<string, boolean | string | number> } }),
        );
        job = { ...job, environment: { ...job.environment, featureFlags: onFlags.minimal as Record<string, boolean | string | number> } };
        const onEnv = await minimizeRecord(job.environment.env as Record<string, JsonValue>, (env) =>
          fails({ ...job, environment: { ...job.environment, env: env as Record<string, string> } }),
        );
        job = { ...job, environment: { ...job.environment, env: onEnv.minimal as Record<string, string> } };
        const onCalls = await ddmin([...job.downstream], (downstream) => fails({ ...job, downstream }));
        job = { ...job, downstream: onCalls.result };

        // Code that reads a flag or a variable when its module loads saw the recorded ones in this
        // container's first job, and ignores later candidates: a smaller environment is kept only if
        // the minimal job also fails in a fresh container, where the modules load with it.
        let freshChecks = 0;
        if (onFlags.steps.length + onEnv.steps.length > 0) {
          const fresh = await deps.startHarness(prepared, input.incidentId);
          try {
            freshChecks = 1;
            if (!(await stillFails(fresh, expected)({ ...job, id: 'fresh' }))) {
              deps.logger.info({ flags: onFlags.steps, env: onEnv.steps }, 'the smaller flags and env do not fail in a fresh sandbox; the recorded ones are kept');
              job = { ...job, environment: { ...job.environment, featureFlags: recordedEnvironment.featureFlags, env: recordedEnvironment.env } };
            }
          } finally {
            await fresh.close();
          }
        }

        const testsRun = 1 + onInput.tests + onFlags.tests + onEnv.tests + onCalls.tests + freshChecks;
        const cacheHits = onInput.cacheHits + onFlags.cacheHits + onEnv.cacheHits + onCalls.cacheHits;
        deps.logger.info({ testsRun, cacheHits, steps: onInput.steps.length + onFlags.steps.length + onEnv.steps.length }, 'input minimized');
        const environment = { ...envelope.environment, featureFlags: job.environment.featureFlags, env: job.environment.env };
        const entryModule = job.entry.kind === 'http' ? (job.httpApp?.module ?? '') : (job.entry.module ?? '');
        const conventions = await detectTestConventions(prepared.repoDir, input.target.test.runner, entryModule);
        deps.logger.info({ conventions: conventions.evidence }, 'test conventions read from the repository');
        return {
          schemaVersion: 1,
          entry: job.entry,
          environment,
          downstream: [...job.downstream],
          timing: envelope.timing,
          signature: expected,
          testsRun,
          cacheHits,
          testFile: await emitRegressionTest({
            job,
            signature: expected,
            fingerprint: envelope.identity.fingerprint,
            runner: input.target.test.runner,
            conventions,
            onFormatProblem: (problem) => deps.logger.warn({ problem }, 'the regression test is left as emitted'),
          }),
        };
      } finally {
        await harness.close();
      }
    },
  };
}
