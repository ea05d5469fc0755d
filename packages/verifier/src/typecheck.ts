import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResult, SandboxDriver } from '@tracemend/sandbox';
import { bounded, tailLines } from './output';
import { RUN_LIMITS, SANDBOX_ENV, type CheckResult } from './sandbox-run';

/** One `tsc` error, without its position: a patch shifts lines, so positions cannot say whether it is new. */
export interface TscDiagnostic {
  /** The file as tsc printed it; empty for an error about the project as a whole. */
  readonly file: string;
  readonly code: string;
  /** The message with its indented continuation lines. */
  readonly message: string;
  /** The diagnostic as tsc printed it, for the check's detail. */
  readonly text: string;
}

const LOCATED = /^(.+?)\(\d+,\d+\): error (TS\d+): (.*)$/;
const GLOBAL = /^error (TS\d+): (.*)$/;

/** The errors of `tsc --pretty false` output, each with its continuation lines. */
export function parseTscDiagnostics(output: string): TscDiagnostic[] {
  const diagnostics: { file: string; code: string; lines: string[]; text: string[] }[] = [];
  for (const line of output.split(/\r?\n/)) {
    const located = LOCATED.exec(line);
    const global = located ? undefined : GLOBAL.exec(line);
    if (located) diagnostics.push({ file: located[1] ?? '', code: located[2] ?? '', lines: [located[3] ?? ''], text: [line] });
    else if (global) diagnostics.push({ file: '', code: global[1] ?? '', lines: [global[2] ?? ''], text: [line] });
    else if (/^\s+\S/.test(line) && diagnostics.length > 0) {
      const last = diagnostics[diagnostics.length - 1];
      last?.lines.push(line.trim());
      last?.text.push(line);
    }
  }
  return diagnostics.map((diagnostic) => ({
    file: diagnostic.file,
    code: diagnostic.code,
    // A message may name another position ("declared here at (3,5)"), which the patch shifts too.
    message: diagnostic.lines.join('\n').replace(/\(\d+,\d+\)/g, '()'),
    text: diagnostic.text.join('\n'),
  }));
}

/**
 * The diagnostics of `after` that `base` does not have, compared by file, code and message (not by
 * line), counting repeats: an error the base has twice and the patched copy three times is one new error.
 */
export function newDiagnostics(base: readonly TscDiagnostic[], after: readonly TscDiagnostic[]): { fresh: TscDiagnostic[]; atBase: number } {
  const key = (diagnostic: TscDiagnostic) => `${diagnostic.file}\u0000${diagnostic.code}\u0000${diagnostic.message}`;
  const remaining = new Map<string, number>();
  for (const diagnostic of base) remaining.set(key(diagnostic), (remaining.get(key(diagnostic)) ?? 0) + 1);
  const fresh: TscDiagnostic[] = [];
  let atBase = 0;
  for (const diagnostic of after) {
    const left = remaining.get(key(diagnostic)) ?? 0;
    if (left > 0) {
      remaining.set(key(diagnostic), left - 1);
      atBase++;
    } else {
      fresh.push(diagnostic);
    }
  }
  return { fresh, atBase };
}

/** What one `tsc --noEmit` run produced, or why it was not run. */
export type TscRun =
  | { readonly ran: false; readonly detail: string }
  | { readonly ran: true; readonly result: RunResult; readonly diagnostics: TscDiagnostic[]; readonly durationMs: number; readonly timeoutMs: number };

/** `tsc --noEmit -p .` of the copy `dir` in a fresh sandbox container; not run without a tsconfig.json or an installed typescript. */
export async function runTsc(
  sandbox: { readonly driver: SandboxDriver; readonly image: string },
  run: { readonly dir: string; readonly depsDir: string; readonly timeoutMs: number; readonly label: string },
): Promise<TscRun> {
  const started = Date.now();
  const exists = (path: string) => access(path).then(() => true, () => false);
  if (!(await exists(join(run.dir, 'tsconfig.json')))) return { ran: false, detail: 'no tsconfig.json: the repository has no TypeScript to check' };
  if (!(await exists(join(run.depsDir, 'typescript', 'bin', 'tsc')))) return { ran: false, detail: 'typescript is not installed in the repository' };
  const result = await sandbox.driver.run({
    image: sandbox.image,
    workDir: run.dir,
    depsDir: run.depsDir,
    command: ['node', 'node_modules/typescript/bin/tsc', '--noEmit', '--pretty', 'false', '-p', '.'],
    env: { ...SANDBOX_ENV },
    timeoutMs: run.timeoutMs,
    ...RUN_LIMITS,
    labels: { 'tracemend.stage': 'verify', 'tracemend.check': run.label },
  });
  return { ran: true, result, diagnostics: parseTscDiagnostics(`${result.stdout}\n${result.stderr}`), durationMs: Date.now() - started, timeoutMs: run.timeoutMs };
}

function errors(count: number): string {
  return `${count} new error${count === 1 ? '' : 's'}`;
}

/** Why the base run cannot serve as the baseline, or undefined when it can. */
function unusableBase(base: TscRun): string | undefined {
  if (!base.ran) return base.detail;
  if (base.result.timedOut) return `timed out after ${base.timeoutMs} ms`;
  if (base.result.oomKilled) return 'ran out of memory';
  if (base.result.exitCode !== 0 && base.diagnostics.length === 0) return `exited ${base.result.exitCode} without a diagnostic`;
  return undefined;
}

/**
 * The typecheck check: passes when tsc exits 0 on the patched copy, or when every error it reports is
 * one the base copy (with the test) has too, compared by file, code and message. When the base run
 * cannot be compared (it timed out), every error counts, and the detail says so.
 */
export function judgeTypecheck(after: TscRun, base: TscRun): CheckResult {
  if (!after.ran) return { status: 'skipped', detail: after.detail, durationMs: 0 };
  const { result, durationMs } = after;
  if (result.timedOut) return { status: 'failed', detail: `tsc timed out after ${after.timeoutMs} ms`, durationMs };
  if (result.oomKilled) return { status: 'failed', detail: 'tsc ran out of memory', durationMs };
  if (result.exitCode === 0) return { status: 'passed', detail: 'tsc --noEmit: no errors', durationMs };
  if (after.diagnostics.length === 0) {
    return { status: 'failed', detail: bounded(`tsc --noEmit: exit ${result.exitCode} without a diagnostic\n${tailLines(`${result.stdout}\n${result.stderr}`)}`), durationMs };
  }
  const baseProblem = unusableBase(base);
  const { fresh, atBase } = baseProblem === undefined && base.ran ? newDiagnostics(base.diagnostics, after.diagnostics) : { fresh: after.diagnostics, atBase: 0 };
  const note = baseProblem === undefined ? `(${atBase} at base too)` : `(not compared with the base commit, whose typecheck ${baseProblem})`;
  if (fresh.length === 0) return { status: 'passed', detail: `tsc --noEmit: ${errors(0)} ${note}`, durationMs };
  return {
    status: 'failed',
    detail: bounded(`tsc --noEmit: ${errors(fresh.length)} ${note}\n${fresh.slice(0, 5).map((diagnostic) => diagnostic.text).join('\n')}`),
    durationMs,
  };
}
