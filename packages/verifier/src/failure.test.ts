import { describe, expect, it } from 'vitest';
import { normalizeErrorMessage, type FailureSignature } from '@tracemend/contracts';
import { judgeFailure, namesFile, reportedErrors } from './failure';
import { parseJestStyleJson, parseMochaJson, parseTap, readReportedTests, TOP_FRAME_ONLY_LINE } from '@tracemend/test-runners';
import { runnerReport } from '@tracemend/test-runners/testing/runner-reports';

// Reports and output of real runs of jest, vitest, mocha, node:test and ava over the same four tests
// (regenerate with generate.mjs beside them in packages/test-runners/test/runner-reports).
const report = runnerReport;

const TITLES = {
  cart: 'prices a cart whose item has no price',
  period: 'starts a period from an unparseable date',
  settings: 'loads settings without a path',
} as const;

function signature(errorType: string, message: string, file?: string, fn = 'f'): FailureSignature {
  return { errorType, normalizedMessage: normalizeErrorMessage(message), frames: file === undefined ? [] : [{ function: fn, file }], hash: '0123456789abcdef' };
}

const CART = signature('TypeError', "Cannot read properties of undefined (reading 'total')", 'src/cart.js', 'lineTotal');
const SETTINGS = signature('TypeError', 'The "path" argument must be of type string or an instance of Buffer or URL. Received undefined', 'src/settings.js', 'loadSettings');
const CART_EXPECTED = "TypeError: Cannot read properties of undefined (reading 'total') at src/cart.js";

/** Each runner's failure text for one test, read the way the verifier reads that runner's report. */
const RUNNERS: Record<string, (title: string) => string> = {
  jest: (title) => parseJestStyleJson(report('jest.report.json')).find((test) => test.name.endsWith(title))?.failure ?? '',
  vitest: (title) => parseJestStyleJson(report('vitest.report.json')).find((test) => test.name.endsWith(title))?.failure ?? '',
  mocha: (title) => parseMochaJson(report('mocha.report.json')).find((test) => test.name.endsWith(title))?.failure ?? '',
  'node:test': (title) => parseTap(report('node-test.report.tap')).find((test) => test.name.endsWith(title))?.failure ?? '',
};

describe.each(Object.entries(RUNNERS))('judgeFailure on a real %s report', (_runner, failureOf) => {
  it('sees the recorded signature in the failing test', () => {
    expect(judgeFailure(failureOf(TITLES.cart), CART)).toEqual({
      matched: true,
      observed: "TypeError: Cannot read properties of undefined (reading 'total') at src/cart.js",
      detail: `failed with ${CART_EXPECTED}, as recorded`,
    });
  });

  it('names another error type and where it was thrown', () => {
    expect(judgeFailure(failureOf(TITLES.period), CART)).toEqual({
      matched: false,
      observed: 'RangeError: Invalid time value at src/period.js',
      detail: `failed with RangeError: Invalid time value at src/period.js, expected ${CART_EXPECTED}`,
    });
  });

  it('refuses the same type with another message, including a Node error with a code', () => {
    const judgement = judgeFailure(failureOf(TITLES.settings), CART);
    expect(judgement.matched).toBe(false);
    expect(judgement.detail).toBe(
      `failed with TypeError: The "path" argument must be of type string or an instance of Buffer or URL. Received undefined at src/settings.js, expected ${CART_EXPECTED}`,
    );
    expect(judgeFailure(failureOf(TITLES.settings), SETTINGS).matched).toBe(true);
  });

  it('refuses the same error thrown from another file, whatever the function is called', () => {
    const elsewhere = signature('TypeError', "Cannot read properties of undefined (reading 'total')", 'src/checkout.js', 'lineTotal');
    expect(judgeFailure(failureOf(TITLES.cart), elsewhere)).toEqual({
      matched: false,
      observed: "TypeError: Cannot read properties of undefined (reading 'total') at src/cart.js",
      detail:
        "failed with TypeError: Cannot read properties of undefined (reading 'total') at src/cart.js (its stack does not name src/checkout.js), " +
        "expected TypeError: Cannot read properties of undefined (reading 'total') at src/checkout.js",
    });
    // A renamed or anonymous function in the same file still matches.
    expect(judgeFailure(failureOf(TITLES.cart), { ...CART, frames: [{ function: '<anonymous>', file: 'src/cart.js' }] }).matched).toBe(true);
  });
});

describe('judgeFailure on a real ava --tap report', () => {
  const tests = () => readReportedTests('tap', { stdout: report('ava.report.tap'), readReport: () => Promise.reject(new Error('ava reports on stdout')) });
  const failureOf = async (title: string) => (await tests())?.find((test) => test.name === title)?.failure ?? '';

  it('reads the failing tests as failing and the passing one as passing', async () => {
    expect((await tests())?.map((test) => [test.name, test.status])).toEqual([
      [TITLES.cart, 'failed'],
      ['prices an empty cart', 'passed'],
      [TITLES.period, 'failed'],
      [TITLES.settings, 'failed'],
    ]);
  });

  it('sees the recorded signature in the failing test, and refuses it thrown from another file', async () => {
    expect(judgeFailure(await failureOf(TITLES.cart), CART)).toEqual({ matched: true, observed: CART_EXPECTED, detail: `failed with ${CART_EXPECTED}, as recorded` });
    expect(judgeFailure(await failureOf(TITLES.cart), signature('TypeError', "Cannot read properties of undefined (reading 'total')", 'src/checkout.js')).matched).toBe(false);
    expect(judgeFailure(await failureOf(TITLES.period), CART).detail).toBe(`failed with RangeError: Invalid time value, expected ${CART_EXPECTED}`);
  });

  it("accepts type and message for an error thrown inside Node, whose repository frame ava's TAP cuts, and says so", async () => {
    const settings = await failureOf(TITLES.settings);
    expect(judgeFailure(settings, SETTINGS)).toMatchObject({
      matched: true,
      detail: expect.stringContaining('(the report keeps only the top frame, outside the repository, so src/settings.js could not be checked)') as string,
    });
    expect(judgeFailure(settings, { ...SETTINGS, frames: [] }).matched).toBe(true);
    // Another message is still refused.
    expect(judgeFailure(settings, CART).matched).toBe(false);
  });

  it('still refuses a cut stack whose top frame is a repository file other than the recorded one', async () => {
    const cart = await failureOf(TITLES.cart);
    expect(judgeFailure(cart, signature('TypeError', "Cannot read properties of undefined (reading 'total')", 'src/checkout.js')).matched).toBe(false);
  });

  it('accepts a cut stack only when the report says it was cut: a full stack without the file is refused', () => {
    const full = 'Error: [DecimalError] Invalid argument: 1250,000.00\n    at parseOther (/work/node_modules/decimal.js/decimal.mjs:3622:11)';
    const recorded = signature('Error', '[DecimalError] Invalid argument: 1250,000.00', 'src/amounts.js');
    expect(judgeFailure(full, recorded).matched).toBe(false);
    expect(judgeFailure(`${full}\n${TOP_FRAME_ONLY_LINE}`, recorded).matched).toBe(true);
  });
});

describe('judgeFailure on a run\'s output', () => {
  it('finds the recorded error among others in vitest\'s and jest\'s console output', () => {
    for (const output of [report('vitest.output.txt'), report('jest.output.txt')]) {
      expect(judgeFailure(output, CART).matched).toBe(true);
      expect(judgeFailure(output, SETTINGS).matched).toBe(true);
      expect(judgeFailure(output, signature('RangeError', 'Invalid time value', 'src/cart.js')).matched).toBe(false);
    }
  });

  it('reads `Type [ERR_CODE]: message` as Node prints an uncaught error', () => {
    const output = report('node-uncaught.output.txt');
    expect(reportedErrors(output)).toEqual([
      { errorType: 'TypeError', message: 'The "path" argument must be of type string or an instance of Buffer or URL. Received undefined', files: ['src/settings.js'] },
    ]);
    expect(judgeFailure(output, SETTINGS).matched).toBe(true);
  });

  it('reads a TAP name/error pair left in raw output', () => {
    const judgement = judgeFailure(report('node-test.report.tap'), signature('RangeError', 'Invalid time value', 'src/period.js'));
    expect(judgement).toMatchObject({ matched: true, observed: 'RangeError: Invalid time value at src/period.js' });
  });

  it('says so when the output names no error at all', () => {
    expect(judgeFailure('Note: 1 test failed\nexit 1', CART)).toEqual({ matched: false, detail: `failed without naming an error, expected ${CART_EXPECTED}` });
  });

  it('ignores an error line that is only a log message, and a message with other numbers still matches', () => {
    const text = 'warning: retrying\nRangeError: offset 12 is out of range (max 7)\n    at seek (/work/src/buffer.js:9:3)';
    expect(judgeFailure(text, signature('RangeError', 'offset 40 is out of range (max 16)', 'src/buffer.js')).matched).toBe(true);
    expect(reportedErrors(text).map((error) => error.errorType)).toEqual(['RangeError']);
  });
});

describe('namesFile', () => {
  it('matches repository-relative, sandbox, other absolute and file:// paths, not a look-alike', () => {
    expect(namesFile('src/cart.js', 'src/cart.js')).toBe(true);
    expect(namesFile('/home/ci/shop/src/cart.js', 'src/cart.js')).toBe(true);
    expect(namesFile('/home/ci/shop/src/cart.js', './src/cart.js')).toBe(true);
    expect(namesFile('lib/src/cart.js', 'src/cart.js')).toBe(false);
    expect(namesFile('/home/ci/shop/src/mycart.js', 'src/cart.js')).toBe(false);
    expect(reportedErrors('TypeError: x\n    at f (file:///work/src/cart.js:1:2)\n    at g (/work/node_modules/lib/index.js:3:4)')[0]?.files).toEqual(['src/cart.js']);
  });
});
