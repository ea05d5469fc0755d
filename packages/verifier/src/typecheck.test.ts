import { describe, expect, it } from 'vitest';
import type { RunResult } from '@tracemend/sandbox';
import { judgeTypecheck, newDiagnostics, parseTscDiagnostics, type TscRun } from './typecheck';

// What `tsc --noEmit --pretty false` printed for a small project: one error per line, a multi-line
// message indented under its first line, and an error about the project rather than a file.
const BASE_OUTPUT = `src/a.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.
src/a.ts(5,14): error TS2322: Type '(a: string) => void' is not assignable to type '(a: number) => void'.
  Types of parameters 'a' and 'a' are incompatible.
    Type 'number' is not assignable to type 'string'.
error TS2688: Cannot find type definition file for 'nonexistent-lib'.
  The file is in the program because:
    Entry point of type library 'nonexistent-lib' specified in compilerOptions
`;

// The same project after a patch that added two lines above the old errors and one error of its own.
const PATCHED_OUTPUT = `src/a.ts(3,14): error TS2322: Type 'string' is not assignable to type 'number'.
src/a.ts(4,64): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.
src/a.ts(7,14): error TS2322: Type '(a: string) => void' is not assignable to type '(a: number) => void'.
  Types of parameters 'a' and 'a' are incompatible.
    Type 'number' is not assignable to type 'string'.
error TS2688: Cannot find type definition file for 'nonexistent-lib'.
  The file is in the program because:
    Entry point of type library 'nonexistent-lib' specified in compilerOptions
`;

function ran(output: string, exitCode: number, extra: Partial<RunResult> = {}): TscRun {
  const result: RunResult = { exitCode, stdout: output, stderr: '', stdoutTruncated: false, stderrTruncated: false, timedOut: false, oomKilled: false, durationMs: 900, ...extra };
  return { ran: true, result, diagnostics: parseTscDiagnostics(output), durationMs: 900, timeoutMs: 180_000 };
}

describe('parseTscDiagnostics', () => {
  it('reads file, code and the whole message, continuation lines included', () => {
    const diagnostics = parseTscDiagnostics(BASE_OUTPUT);
    expect(diagnostics.map(({ file, code }) => [file, code])).toEqual([
      ['src/a.ts', 'TS2322'],
      ['src/a.ts', 'TS2322'],
      ['', 'TS2688'],
    ]);
    expect(diagnostics[1]?.message).toBe(
      "Type '(a: string) => void' is not assignable to type '(a: number) => void'.\nTypes of parameters 'a' and 'a' are incompatible.\nType 'number' is not assignable to type 'string'.",
    );
    expect(diagnostics[1]?.text.split('\n')[0]).toBe("src/a.ts(5,14): error TS2322: Type '(a: string) => void' is not assignable to type '(a: number) => void'.");
  });
});

describe('newDiagnostics', () => {
  it('counts only the errors the base does not have, whatever lines the patch moved them to', () => {
    const { fresh, atBase } = newDiagnostics(parseTscDiagnostics(BASE_OUTPUT), parseTscDiagnostics(PATCHED_OUTPUT));
    expect(atBase).toBe(3);
    expect(fresh.map((diagnostic) => diagnostic.text)).toEqual(["src/a.ts(4,64): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'."]);
  });

  it('counts repeats: a second copy of an error the base has once is new', () => {
    const line = (n: number) => `src/a.ts(${n},1): error TS2322: Type 'string' is not assignable to type 'number'.`;
    const { fresh, atBase } = newDiagnostics(parseTscDiagnostics(line(1)), parseTscDiagnostics(`${line(1)}\n${line(9)}`));
    expect(atBase).toBe(1);
    expect(fresh).toHaveLength(1);
  });

  it('does not excuse the same message in another file or under another code', () => {
    const base = parseTscDiagnostics("src/a.ts(1,1): error TS2322: Type 'string' is not assignable to type 'number'.");
    expect(newDiagnostics(base, parseTscDiagnostics("src/b.ts(1,1): error TS2322: Type 'string' is not assignable to type 'number'.")).fresh).toHaveLength(1);
    expect(newDiagnostics(base, parseTscDiagnostics("src/a.ts(1,1): error TS2345: Type 'string' is not assignable to type 'number'.")).fresh).toHaveLength(1);
  });
});

describe('judgeTypecheck', () => {
  it('passes a patch that adds no error to a repository that does not typecheck at its commit', () => {
    const after = ran(BASE_OUTPUT.replace('(1,14)', '(2,14)'), 2);
    expect(judgeTypecheck(after, ran(BASE_OUTPUT, 2))).toEqual({ status: 'passed', detail: 'tsc --noEmit: 0 new errors (3 at base too)', durationMs: 900 });
  });

  it('fails a patch that adds an error, naming it and counting the old ones', () => {
    const check = judgeTypecheck(ran(PATCHED_OUTPUT, 2), ran(BASE_OUTPUT, 2));
    expect(check.status).toBe('failed');
    expect(check.detail).toBe(
      "tsc --noEmit: 1 new error (3 at base too)\nsrc/a.ts(4,64): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.",
    );
  });

  it('passes a clean typecheck and counts every error when the base run cannot be compared', () => {
    expect(judgeTypecheck(ran('', 0), ran(BASE_OUTPUT, 2)).detail).toBe('tsc --noEmit: no errors');
    const check = judgeTypecheck(ran(PATCHED_OUTPUT, 2), ran('', 1, { timedOut: true }));
    expect(check.status).toBe('failed');
    expect(check.detail.split('\n')[0]).toBe('tsc --noEmit: 4 new errors (not compared with the base commit, whose typecheck timed out after 180000 ms)');
  });

  it('skips without a tsconfig and fails a tsc that exits non-zero without a diagnostic', () => {
    expect(judgeTypecheck({ ran: false, detail: 'no tsconfig.json: the repository has no TypeScript to check' }, { ran: false, detail: 'x' })).toMatchObject({ status: 'skipped' });
    expect(judgeTypecheck(ran('Killed\n', 137), ran('', 0)).detail).toMatch(/^tsc --noEmit: exit 137 without a diagnostic\nKilled/);
  });
});
