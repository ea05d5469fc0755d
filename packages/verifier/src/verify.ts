import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  parseContract,
  Verification,
  type Candidate,
  type FailureSignature,
  type MinimalRepro,
  type RepoTarget,
  type TestRunner,
} from '@tracemend/contracts';
import { MAX_SOURCE_BYTES, readSourceFiles, readTextInside } from '@tracemend/process';
import { copyCheckout, grantSandboxAccess, type RunResult, type SandboxDriver } from '@tracemend/sandbox';
import type { Logger } from '@tracemend/telemetry';
import { readReportedTests, resolveTestCommand, withReporter, type ReportKind, type ResolvedCommand, type TestOutcome } from '@tracemend/test-runners';
import { judgeFailure } from './failure';
import { bounded, tailLines } from './output';
import { networkAttempt, withNetworkHint } from './network';
import { countImporters, scoreRisk } from './risk';
import { RUN_LIMITS, SANDBOX_ENV, type CheckResult, type CheckStatus } from './sandbox-run';
import { judgeTypecheck, runTsc } from './typecheck';
import { applyCandidate, writeTestFiles, type AppliedCandidate } from './workspace';

/** Wall-clock limits of the verifier's sandbox runs. */
export interface VerifierTimeouts {
  readonly typecheckMs: number;
  readonly suiteMs: number;
  /** The minimal test alone (fails-before, passes-after). */
  readonly testMs: number;
}

export const DEFAULT_VERIFIER_TIMEOUTS: VerifierTimeouts = { typecheckMs: 180_000, suiteMs: 300_000, testMs: 120_000 };

export interface VerifyCandidateDeps {
  readonly driver: SandboxDriver;
  /** Sandbox image, e.g. `sandboxImageTag()`. */
  readonly image: string;
  readonly logger: Logger;
  /** Host directory under which each verification makes (and removes) its checkout copies. */
  readonly workRoot: string;
  readonly timeouts?: Partial<VerifierTimeouts>;
  /** Sandbox runs at once; defaults to 2. */
  readonly concurrency?: number;
}

export interface VerifyCandidateInput {
  /** A clean checkout of the target at `target.sha` (not modified). */
  readonly repoDir: string;
  /** Installed dependencies for the checkout's lockfile, mounted read-only as the copies' node_modules. */
  readonly depsDir: string;
  readonly target: RepoTarget;
  readonly minimal: MinimalRepro;
  readonly candidate: Candidate;
}

/** What one sandboxed test or typecheck run produced. */
interface TestRun {
  result?: RunResult;
  tests?: TestOutcome[];
  /** Why the run could not start or its report could not be read. */
  problem?: string;
  command: string;
  durationMs: number;
}

/** A test report beyond this is not read: sandboxed code decides its size. */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;
const NOT_APPLIED = 'not run: the candidate does not apply';
const FUZZ_DETAIL = 'fuzz variants arrive with a later issue';

function limiter(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function outputOf(run: TestRun): string {
  return `${run.result?.stdout ?? ''}\n${run.result?.stderr ?? ''}`;
}

/** Everything a run printed and reported, where a network attempt would show. */
function everythingOf(run: TestRun): string {
  return [outputOf(run), ...(run.tests ?? []).map((test) => test.failure ?? '')].join('\n');
}

function failedNames(tests: readonly TestOutcome[]): string[] {
  return tests.filter((test) => test.status === 'failed').map((test) => test.name);
}

function describeFailures(tests: readonly TestOutcome[], limit = 5): string {
  return tests
    .filter((test) => test.status === 'failed')
    .slice(0, limit)
    .map((test) => `✗ ${test.name}${test.message ? `: ${test.message.split('\n')[0] ?? ''}` : ''}`)
    .join('\n');
}

function runEnded(run: TestRun): string | undefined {
  if (run.problem !== undefined) return run.problem;
  if (run.result?.timedOut) return `timed out (${run.command})`;
  if (run.result?.oomKilled) return `ran out of memory (${run.command})`;
  return undefined;
}

/**
 * Verifies one candidate against the target at its recorded SHA, each step in a fresh sandbox
 * container over its own copy of the checkout: the suite on the base (baseline failures), the minimal
 * test on the base (must fail with the recorded signature), then on the patched copy with the test
 * added: typecheck (no tsc error the base with the test lacks), the minimal test (must pass) and the suite (no failure beyond the
 * baseline, no baseline test gone). `verified` needs all four; fuzz variants are reported as skipped.
 */
export async function verifyCandidate(deps: VerifyCandidateDeps, input: VerifyCandidateInput): Promise<Verification> {
  const started = Date.now();
  const { candidate, minimal, target } = input;
  const timeouts = { ...DEFAULT_VERIFIER_TIMEOUTS, ...deps.timeouts };
  const logger = deps.logger.child({ stage: 'verify', candidateId: candidate.id });
  const jobDir = join(deps.workRoot, `verify-${candidate.id.replace(/[^\w.-]/g, '_').slice(0, 40)}-${randomUUID().slice(0, 8)}`);
  const limit = limiter(Math.max(1, deps.concurrency ?? 2));
  await mkdir(jobDir, { recursive: true });
  try {
    const baseDir = join(jobDir, 'base');
    const beforeDir = join(jobDir, 'before');
    const afterDir = join(jobDir, 'after');
    await Promise.all([copyCheckout(input.repoDir, baseDir), copyCheckout(input.repoDir, beforeDir), copyCheckout(input.repoDir, afterDir)]);
    await writeTestFiles(beforeDir, minimal.testFile);
    await writeTestFiles(afterDir, minimal.testFile);
    let applied: AppliedCandidate | undefined;
    let applyError: string | undefined;
    try {
      applied = await applyCandidate(afterDir, candidate);
    } catch (error) {
      applyError = (error as Error).message;
    }
    await Promise.all([grantSandboxAccess(baseDir), grantSandboxAccess(beforeDir), grantSandboxAccess(afterDir)]);

    const runTests = (dir: string, command: readonly string[], runner: TestRunner, label: string, timeoutMs: number) =>
      limit(() => runTestCommand(deps, input, { dir, command, runner, label, timeoutMs }));

    const baselineRun = runTests(baseDir, target.test.command, target.test.runner, 'baseline', timeouts.suiteMs);
    const beforeRun = runTests(beforeDir, minimal.testFile.command, minimal.testFile.runner, 'fails-before', timeouts.testMs);
    // The patched copy is compared with the base plus the test, so only errors the patch brings count.
    const tsc = (dir: string, label: string) => limit(() => runTsc(deps, { dir, depsDir: input.depsDir, timeoutMs: timeouts.typecheckMs, label }));
    const typecheckRuns = applied ? Promise.all([tsc(afterDir, 'typecheck'), tsc(beforeDir, 'typecheck-base')]) : undefined;
    const afterRun = applied ? runTests(afterDir, minimal.testFile.command, minimal.testFile.runner, 'passes-after', timeouts.testMs) : undefined;
    const suiteRun = applied ? runTests(afterDir, target.test.command, target.test.runner, 'suite', timeouts.suiteMs) : undefined;

    // One Promise.all, so a run that rejects (the engine went away) is never left unobserved.
    const [baseline, before, typechecked, after, suiteAfter] = await Promise.all([baselineRun, beforeRun, typecheckRuns, afterRun, suiteRun]);
    const failsBefore = judgeFailsBefore(before, minimal.signature);
    const skipped: CheckResult = { status: 'skipped', detail: bounded(`${NOT_APPLIED}: ${applyError ?? ''}`), durationMs: 0 };
    const typecheck = typechecked ? judgeTypecheck(typechecked[0], typechecked[1]) : skipped;
    const passesAfter = after ? judgePassesAfter(after) : skipped;
    const suite = suiteAfter ? judgeSuite(baseline, suiteAfter) : { ...skipped, passed: 0, failed: 0, baselineFailures: baselineFailuresOf(baseline) };
    const fuzz = { status: 'skipped' as const, detail: FUZZ_DETAIL, durationMs: 0, variants: 0, newSignatures: [] };

    for (const [check, result] of Object.entries({ failsBefore, typecheck, passesAfter, suite })) {
      logger.info({ check, status: result.status, durationMs: result.durationMs }, 'verifier check');
    }
    const ordered: [string, CheckResult][] = [
      ['fails-before', failsBefore],
      ['typecheck', typecheck],
      ['passes-after', passesAfter],
      ['suite', suite],
    ];
    const firstFailed = ordered.find(([name, check]) => check.status === 'failed' || (check.status === 'skipped' && name !== 'typecheck'));
    let verdict: 'verified' | 'rejected' = 'verified';
    let reason = `fails-before, typecheck, passes-after and suite passed${typecheck.status === 'skipped' ? ' (typecheck skipped: no TypeScript)' : ''}; ${FUZZ_DETAIL}`;
    if (applyError !== undefined) {
      verdict = 'rejected';
      reason = `the candidate does not apply: ${applyError}`;
    } else if (firstFailed !== undefined) {
      verdict = 'rejected';
      reason = `${firstFailed[0]} failed: ${firstFailed[1].detail.split('\n').slice(0, 3).join(' | ')}`;
    }
    const risk = applied ? await assessRisk(baseDir, candidate, applied) : undefined;
    const verification = {
      schemaVersion: 1,
      candidateId: candidate.id,
      verdict,
      reason: bounded(reason, 1_000),
      checks: { typecheck, suite, failsBefore, passesAfter, fuzz },
      ...(risk ? { risk } : {}),
      durationMs: Date.now() - started,
    };
    logger.info({ verdict, durationMs: verification.durationMs, risk: risk?.score }, 'candidate verified');
    return parseContract(Verification, verification, 'Verification');
  } finally {
    await rm(jobDir, { recursive: true, force: true });
  }
}

/**
 * Reads the report file a run left in its folder. The folder is sandbox-written, so the report is read
 * without following a link out of it: a report planted as a symlink to a host file rejects with
 * SANDBOX_ESCAPE naming the report (the run records it as its problem) and nothing of that file is read.
 */
export function runReportReader(dir: string, file: string): () => Promise<string> {
  return () => readTextInside(dir, file, { maxBytes: MAX_REPORT_BYTES });
}

async function runTestCommand(
  deps: VerifyCandidateDeps,
  input: VerifyCandidateInput,
  run: { dir: string; command: readonly string[]; runner: TestRunner; label: string; timeoutMs: number },
): Promise<TestRun> {
  const started = Date.now();
  let resolved: ResolvedCommand;
  let report: ReportKind;
  const reportFile = `.tracemend-report-${run.label}.json`;
  try {
    ({ command: resolved, report } = await withReporter(
      await resolveTestCommand(run.command, { repoDir: run.dir, depsDir: input.depsDir }),
      run.runner,
      reportFile,
      input.depsDir,
    ));
  } catch (error) {
    return { problem: `cannot run ${run.command.join(' ')}: ${(error as Error).message}`, command: run.command.join(' '), durationMs: Date.now() - started };
  }
  const command = resolved.argv.join(' ');
  const result = await deps.driver.run({
    image: deps.image,
    workDir: run.dir,
    depsDir: input.depsDir,
    command: resolved.argv,
    env: { ...SANDBOX_ENV, ...resolved.env },
    timeoutMs: run.timeoutMs,
    ...RUN_LIMITS,
    labels: { 'tracemend.stage': 'verify', 'tracemend.check': run.label },
  });
  const outcome: TestRun = { result, command, durationMs: Date.now() - started };
  try {
    const tests = await readReportedTests(report, { stdout: result.stdout, readReport: runReportReader(run.dir, reportFile) });
    if (tests !== undefined) outcome.tests = tests;
  } catch (error) {
    if (!result.timedOut && !result.oomKilled && (error as { code?: string }).code !== 'ENOENT') outcome.problem = `unreadable test report: ${(error as Error).message}`;
  }
  return outcome;
}

/**
 * Fails-before passes when the minimal test failed on the base commit with the recorded signature:
 * judged on each failing test's own failure where the runner reports tests, else on the run's output.
 */
function judgeFailsBefore(run: TestRun, signature: FailureSignature): CheckResult {
  const ended = runEnded(run);
  const durationMs = run.durationMs;
  if (ended !== undefined) return { status: 'failed', detail: bounded(`${ended}\n${tailLines(outputOf(run))}`), durationMs };
  const failures = run.tests ? describeFailures(run.tests) : '';
  if (run.result?.exitCode === 0) {
    return { status: 'failed', detail: bounded(`the minimal test passed on the base commit, so it does not reproduce the failure\n${tailLines(outputOf(run), 8)}`), durationMs };
  }
  const failed = (run.tests ?? []).filter((test) => test.status === 'failed');
  const texts = failed.length > 0 ? failed.map((test) => test.failure ?? test.message ?? '') : [outputOf(run)];
  const judgements = texts.map((text) => judgeFailure(text, signature));
  const judgement = judgements.find((candidate) => candidate.matched) ?? judgements[0];
  const evidence = failures || tailLines(outputOf(run), judgement?.matched ? 8 : 20);
  if (judgement === undefined || !judgement.matched) {
    return { status: 'failed', detail: bounded(withNetworkHint(`the minimal test ${judgement?.detail ?? 'failed'}\n${evidence}`, everythingOf(run))), durationMs };
  }
  return { status: 'passed', detail: bounded(`the minimal test ${judgement.detail}\n${evidence}`), durationMs };
}

function judgePassesAfter(run: TestRun): CheckResult {
  const ended = runEnded(run);
  const durationMs = run.durationMs;
  if (ended !== undefined) return { status: 'failed', detail: bounded(`${ended}\n${tailLines(outputOf(run))}`), durationMs };
  const tests = run.tests ?? [];
  const passed = tests.filter((test) => test.status === 'passed').length;
  const failed = failedNames(tests).length;
  if (run.result?.exitCode !== 0 || failed > 0) {
    const detail = `the minimal test still fails with the patch (exit ${run.result?.exitCode ?? '?'})\n${describeFailures(tests) || tailLines(outputOf(run))}`;
    return { status: 'failed', detail: bounded(withNetworkHint(detail, everythingOf(run))), durationMs };
  }
  if (run.tests !== undefined && passed === 0) return { status: 'failed', detail: 'the minimal test run reported no passing test', durationMs };
  return { status: 'passed', detail: run.tests ? `${passed} test${passed === 1 ? '' : 's'} passed with the patch` : 'exit 0 with the patch', durationMs };
}

function baselineFailuresOf(baseline: TestRun): string[] {
  return failedNames(baseline.tests ?? []).slice(0, 256).map((name) => bounded(name, 1_024));
}

function judgeSuite(baseline: TestRun, run: TestRun) {
  const baselineFailures = baselineFailuresOf(baseline);
  const tests = run.tests ?? [];
  const passed = tests.filter((test) => test.status === 'passed').length;
  const failed = failedNames(tests).length;
  const result = (status: CheckStatus, detail: string) => ({
    status,
    detail: bounded(status === 'failed' ? withNetworkHint(detail, everythingOf(run)) : detail),
    durationMs: run.durationMs,
    passed,
    failed,
    baselineFailures,
  });
  const ended = runEnded(run);
  if (ended !== undefined) return result('failed', `${ended}\n${tailLines(outputOf(run))}`);
  const known = new Set(failedNames(baseline.tests ?? []));
  const newFailures = tests.filter((test) => test.status === 'failed' && !known.has(test.name));
  const present = new Set(tests.map((test) => test.name));
  const gone = (baseline.tests ?? []).filter((test) => test.status === 'passed' && !present.has(test.name)).map((test) => test.name);
  const offline = baselineFailures.length > 0 ? networkAttempt(everythingOf(baseline)) : undefined;
  const atBase = `${failed - newFailures.length} failing at base too${offline === undefined ? '' : `, where tests reach ${offline} over the network, which the sandbox does not have`}`;
  const summary = `${passed} passed, ${failed} failed (${atBase})`;
  if (newFailures.length > 0) return result('failed', `${summary}; new failures:\n${describeFailures(newFailures)}`);
  if (gone.length > 0) return result('failed', `${summary}; tests that passed at base did not run: ${gone.slice(0, 5).join(', ')}`);
  if (run.tests === undefined) {
    return run.result?.exitCode === 0
      ? result('passed', 'exit 0 (this runner gives no per-test report)')
      : result('failed', `exit ${run.result?.exitCode ?? '?'} (this runner gives no per-test report)\n${tailLines(outputOf(run))}`);
  }
  if (tests.length === 0) return result('failed', `the suite reported no tests (exit ${run.result?.exitCode ?? '?'})\n${tailLines(outputOf(run))}`);
  if (run.result?.exitCode !== 0 && failed === 0) return result('failed', `exit ${run.result?.exitCode ?? '?'} without a failing test\n${tailLines(outputOf(run))}`);
  return result('passed', summary);
}

async function assessRisk(baseDir: string, candidate: Candidate, applied: AppliedCandidate) {
  const sources = await readSourceFiles(baseDir);
  const repoFiles = new Map<string, string>();
  for (const file of applied.files) {
    const text = sources.get(file) ?? (await readTextInside(baseDir, file, { maxBytes: MAX_SOURCE_BYTES }).catch(() => undefined));
    if (text !== undefined) repoFiles.set(file, text);
  }
  return scoreRisk({ candidate, repoFiles, importers: countImporters(sources, applied.files) });
}
