import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mochaJsonFromStdout, parseJestStyleJson, parseMochaJson, parseTap, TOP_FRAME_ONLY_LINE } from './report';
import { runnerReport } from '../test/runner-reports';

const TAP = `TAP version 13
# Subtest: topUsers
    # Subtest: ranks by score
    ok 1 - ranks by score
      ---
      duration_ms: 10.9
      ...
    # Subtest: handles \\# in names
    not ok 2 - handles \\# in names
      ---
      duration_ms: 1.2
      failureType: 'testCodeFailure'
      error: "Cannot read properties of null (reading 'sort')"
      code: 'ERR_TEST_FAILURE'
      name: 'TypeError'
      ...
    # Subtest: later
    ok 3 - later # SKIP not yet
      ---
      ...
    1..3
not ok 1 - topUsers
  ---
  type: 'suite'
  ...
# Subtest: top-level test
ok 2 - top-level test
  ---
  ...
1..2
# tests 4
# pass 2
# fail 1
`;

describe('parseTap', () => {
  it('returns leaf tests named by their suites, with status and failure message', () => {
    expect(parseTap(TAP)).toEqual([
      { name: 'topUsers > ranks by score', status: 'passed' },
      {
        name: 'topUsers > handles # in names',
        status: 'failed',
        message: "TypeError: Cannot read properties of null (reading 'sort')",
        failure: "TypeError: Cannot read properties of null (reading 'sort')",
      },
      { name: 'topUsers > later', status: 'skipped' },
      { name: 'top-level test', status: 'passed' },
    ]);
  });

  it('keeps a failing test\'s whole error: a multi-line message, its code-free name and the stack as frames', () => {
    const tap = [
      'not ok 1 - parses',
      '  ---',
      "  location: '/work/test/a.test.js:1:1'",
      '  error: |-',
      '    Expected values to be equal:',
      "    'a' !== 'b'",
      "  code: 'ERR_ASSERTION'",
      "  name: 'AssertionError'",
      '  stack: |-',
      '    parse (/work/src/parse.js:3:9)',
      '    TestContext.<anonymous> (/work/test/a.test.js:2:3)',
      '  ...',
    ].join('\n');
    expect(parseTap(tap)).toEqual([
      {
        name: 'parses',
        status: 'failed',
        message: "AssertionError: Expected values to be equal:\n'a' !== 'b'\n    at parse (/work/src/parse.js:3:9)",
        failure: "AssertionError: Expected values to be equal:\n'a' !== 'b'\n    at parse (/work/src/parse.js:3:9)\n    at TestContext.<anonymous> (/work/test/a.test.js:2:3)",
      },
    ]);
  });

  it('reads a real ava --tap report: titles as ava prints them, the thrown error\'s type, message and top frame', () => {
    const outcomes = parseTap(runnerReport('ava.report.tap'));
    expect(outcomes.map(({ name, status }) => ({ name, status }))).toEqual([
      { name: 'prices a cart whose item has no price', status: 'failed' },
      { name: 'prices an empty cart', status: 'passed' },
      { name: 'starts a period from an unparseable date', status: 'failed' },
      { name: 'loads settings without a path', status: 'failed' },
    ]);
    // ava's TAP keeps one frame, and the text says the rest was cut.
    expect(outcomes[0]?.failure).toBe(`TypeError: Cannot read properties of undefined (reading 'total')\n    at lineTotal (/work/src/cart.js:4:21)\n${TOP_FRAME_ONLY_LINE}`);
    expect(outcomes[2]?.failure).toBe(`RangeError: Invalid time value\n    at Date.toISOString (<anonymous>)\n${TOP_FRAME_ONLY_LINE}`);
    // Here Node's own frame, not the repository file that called it.
    expect(outcomes[3]?.failure).toBe(
      `TypeError: The "path" argument must be of type string or an instance of Buffer or URL. Received undefined\n    at readFileSync (node:fs:446:42)\n${TOP_FRAME_ONLY_LINE}`,
    );
  });

  it('reads ava\'s other failures: a multi-line rejection, a failed assertion, a thrown non-error, a crashed file, skip and todo', () => {
    const tap = [
      'TAP version 13',
      'not ok 1 - cart › rejects',
      '  ---',
      '    name: AssertionError',
      '    details:',
      "      'Rejected promise returned by test. Reason:': |-",
      '        RangeError {',
      '          message: `Invalid time value␊',
      "          in 'March'`,",
      '        }',
      '    message: Rejected promise returned by test',
      "    at: in 'March'",
      '  ...',
      'not ok 2 - cart › compares',
      '  ---',
      '    name: AssertionError',
      '    assertion: t.is()',
      '    details:',
      "      'Difference (- actual, + expected):': |-",
      '        - 1',
      '        + 2',
      "    message: ''",
      '    at: >-',
      '      ExecutionContext.is',
      '      (file:///work/node_modules/ava/lib/assert.js:309:16)',
      '  ...',
      'not ok 3 - cart › throws a string',
      '  ---',
      '    name: AssertionError',
      '    details:',
      "      'Error thrown in test:': '''plain'''",
      '    message: Error thrown in test',
      "    at: 'Test.run (file:///work/node_modules/ava/lib/test.js:546:25)'",
      '  ...',
      'ok 4 - cart › later # SKIP',
      'not ok 5 - cart › someday # TODO',
      'not ok 6 - test/crash.test.js exited with a non-zero exit code: 1',
      '1..6',
    ].join('\n');
    const outcomes = parseTap(tap);
    expect(outcomes.map(({ name, status }) => `${status} ${name}`)).toEqual([
      'failed cart › rejects',
      'failed cart › compares',
      'failed cart › throws a string',
      'skipped cart › later',
      'skipped cart › someday',
      'failed test/crash.test.js exited with a non-zero exit code: 1',
    ]);
    expect(outcomes[0]?.failure).toBe(`RangeError: Invalid time value\nin 'March'\n    at in 'March'\n${TOP_FRAME_ONLY_LINE}`);
    expect(outcomes[1]?.failure).toBe(
      `AssertionError: t.is(): Difference (- actual, + expected):\n- 1\n+ 2\n    at ExecutionContext.is (file:///work/node_modules/ava/lib/assert.js:309:16)\n${TOP_FRAME_ONLY_LINE}`,
    );
    expect(outcomes[2]?.failure?.split('\n')[0]).toBe("AssertionError: Error thrown in test: 'plain'");
  });

  it('returns nothing for output without test points', () => {
    expect(parseTap('node:internal/modules/cjs/loader:1228\n  throw err;\n')).toEqual([]);
  });
});

describe('parseJestStyleJson', () => {
  it('names tests by repo-relative file and full name, and turns a file that failed to load into one failure', () => {
    const report = {
      testResults: [
        {
          name: '/work/test/users.test.ts',
          status: 'failed',
          assertionResults: [
            { fullName: 'users normalizes', status: 'passed', failureMessages: [] },
            { fullName: 'users keeps marketing', status: 'failed', failureMessages: ["TypeError: Cannot read properties of undefined (reading 'push')\n    at normalizePreferences\n    at x\n    at y"] },
            { fullName: 'users later', status: 'pending', failureMessages: [] },
          ],
        },
        { name: '/work/test/broken.test.ts', status: 'failed', message: 'SyntaxError: Unexpected token', assertionResults: [] },
      ],
    };
    expect(parseJestStyleJson(JSON.stringify(report))).toEqual([
      { name: 'test/users.test.ts > users normalizes', status: 'passed' },
      {
        name: 'test/users.test.ts > users keeps marketing',
        status: 'failed',
        message: "TypeError: Cannot read properties of undefined (reading 'push')\n    at normalizePreferences\n    at x",
        failure: "TypeError: Cannot read properties of undefined (reading 'push')\n    at normalizePreferences\n    at x\n    at y",
      },
      { name: 'test/users.test.ts > users later', status: 'skipped' },
      { name: 'test/broken.test.ts', status: 'failed', message: 'SyntaxError: Unexpected token', failure: 'SyntaxError: Unexpected token' },
    ]);
  });

  it('throws on text that is not JSON', () => {
    expect(() => parseJestStyleJson('not json')).toThrow(SyntaxError);
  });
});

describe('parseMochaJson', () => {
  it('reads a real mocha json report: file-relative names, statuses and each failure\'s stack', () => {
    const outcomes = parseMochaJson(readFileSync(new URL('../test/runner-reports/mocha.report.json', import.meta.url), 'utf8'));
    expect(outcomes.map(({ name, status }) => ({ name, status }))).toEqual([
      { name: 'test/mocha.spec.js > shop prices a cart whose item has no price', status: 'failed' },
      { name: 'test/mocha.spec.js > shop prices an empty cart', status: 'passed' },
      { name: 'test/mocha.spec.js > shop starts a period from an unparseable date', status: 'failed' },
      { name: 'test/mocha.spec.js > shop loads settings without a path', status: 'failed' },
    ]);
    expect(outcomes[0]?.failure).toMatch(/^TypeError: Cannot read properties of undefined \(reading 'total'\)\n {4}at lineTotal \(src\/cart\.js:4:21\)/);
    expect(outcomes[3]?.message?.split('\n')[0]).toBe('TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string or an instance of Buffer or URL. Received undefined');
  });

  // What mocha 12 printed with --reporter json for a suite whose before hook threw and a test that logged.
  const STDOUT = `hello from the test
{
  "stats": {
    "suites": 1,
    "tests": 1,
    "passes": 1,
    "pending": 0,
    "failures": 1
  },
  "tests": [
    { "title": "logs", "fullTitle": "logs", "file": "/work/test/h.spec.js", "duration": 1, "currentRetry": 0, "speed": "fast", "err": {} }
  ],
  "pending": [],
  "failures": [
    {
      "title": "\\"before all\\" hook for \\"reads\\"",
      "fullTitle": "db \\"before all\\" hook for \\"reads\\"",
      "file": "/work/test/h.spec.js",
      "duration": 0,
      "currentRetry": 0,
      "err": {
        "stack": "Error: connection refused\\n    at Context.<anonymous> (test/h.spec.js:2:24)",
        "message": "connection refused"
      }
    }
  ],
  "passes": [
    { "title": "logs", "fullTitle": "logs", "file": "/work/test/h.spec.js", "duration": 1, "currentRetry": 0, "speed": "fast", "err": {} }
  ]
}
`;

  it('finds the report an older mocha printed after the tests\' own output, and counts a hook failure as a failed outcome', () => {
    expect(parseMochaJson(mochaJsonFromStdout(STDOUT) ?? '')).toEqual([
      { name: 'test/h.spec.js > logs', status: 'passed' },
      {
        name: 'test/h.spec.js > db "before all" hook for "reads"',
        status: 'failed',
        message: 'Error: connection refused\n    at Context.<anonymous> (test/h.spec.js:2:24)',
        failure: 'Error: connection refused\n    at Context.<anonymous> (test/h.spec.js:2:24)',
      },
    ]);
    expect(mochaJsonFromStdout('Error: Cannot find module \'../src/cart.js\'\n')).toBeUndefined();
  });

  it('refuses JSON that is not a mocha report', () => {
    expect(() => parseMochaJson('{"testResults": []}')).toThrow(/no "tests" list/);
  });
});
