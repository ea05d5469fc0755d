/** One test's outcome as a runner reported it. */
export interface TestOutcome {
  /** Suite titles and the test title joined by " > "; vitest and jest names start with the file. */
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  /** First lines of the failure, when the runner gave one. */
  readonly message?: string;
  /** The failure as the runner reported it (error line and stack), at most `MAX_FAILURE_CHARS`. */
  readonly failure?: string;
}

/** Characters of one test's failure text kept: enough for the error and its stack, bounded for suites with many failures. */
export const MAX_FAILURE_CHARS = 16_000;

function failureOutcome(name: string, failure: string): TestOutcome {
  return { name, status: 'failed', message: firstLines(failure), failure: failure.slice(0, MAX_FAILURE_CHARS) };
}

const TEST_POINT = /^(\s*)(not ok|ok)\s+\d+(?:\s+-)?\s*(.*?)\s*$/;
const SUBTEST = /^(\s*)# Subtest: (.*)$/;
const DIRECTIVE = /\s+#\s+(SKIP|TODO)\b.*$/i;
const INDENT = 4;

function unescapeTapName(name: string): string {
  return name.replace(/\\#/g, '#').replace(/\\\\/g, '\\');
}

/**
 * Leaf tests of node:test's TAP output (`--test-reporter=tap`), named by their suites, or of ava's
 * (`--tap`), named `<file> › <title>` as ava prints them. Suites are the test points directly preceded
 * by deeper ones; their own lines are not counted.
 */
export function parseTap(text: string): TestOutcome[] {
  const suites: string[] = [];
  const points: { depth: number; name: string; status: TestOutcome['status']; failure: string | undefined }[] = [];
  const outcomes: TestOutcome[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const subtest = SUBTEST.exec(line);
    if (subtest) {
      const depth = Math.floor((subtest[1] ?? '').length / INDENT);
      suites.length = depth;
      suites[depth] = unescapeTapName((subtest[2] ?? '').trim());
      continue;
    }
    const point = TEST_POINT.exec(line);
    if (!point) continue;
    const depth = Math.floor((point[1] ?? '').length / INDENT);
    const raw = point[3] ?? '';
    const directive = DIRECTIVE.exec(raw);
    const name = unescapeTapName(raw.replace(DIRECTIVE, ''));
    const status: TestOutcome['status'] = directive ? 'skipped' : point[2] === 'ok' ? 'passed' : 'failed';
    const previous = points.at(-1);
    points.push({ depth, name, status, failure: status === 'failed' ? tapFailureText(lines, index + 1) : undefined });
    if (previous !== undefined && previous.depth > depth) continue;
    const fullName = [...suites.slice(0, depth), name].join(' > ');
    const failure = points.at(-1)?.failure;
    outcomes.push(failure === undefined ? { name: fullName, status } : failureOutcome(fullName, failure));
  }
  return outcomes;
}

/** The fields of a TAP YAML diagnostic block that describe an error; `stack` keeps node:test's frame lines (ava's TAP keeps one frame). */
export interface TapErrorFields {
  readonly name?: string;
  readonly error?: string;
  readonly code?: string;
  readonly stack?: string;
  /** The report kept only the top frame of the stack (ava's TAP): the frames below it are unknown, not absent. */
  readonly topFrameOnly?: boolean;
}

/**
 * The line that ends an error's text when the report kept only its top frame, so a judge reading the
 * text knows the frames below were cut rather than never there.
 */
export const TOP_FRAME_ONLY_LINE = '    ... (the report keeps only the top frame of the stack)';

const YAML_FIELD = /^(\s*)(name|error|code|stack|message|at|details|assertion):\s*(.*)$/;

/** A YAML scalar as node:test writes one: plain, 'single' or "double" quoted. */
function yamlScalar(raw: string): string {
  const value = raw.trim();
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
    try {
      return JSON.parse(value) as string;
    } catch {
      return value.slice(1, -1);
    }
  }
  if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) return value.slice(1, -1).replace(/''/g, "'");
  return value;
}

// How ava prints the error a test threw inside its `details`: `TypeError {`, then `code: '…',` and `message: '…',`
// (a multi-line message in backquotes, each line break shown as ␊).
const AVA_ERROR_HEAD = /^\s*([A-Za-z_$][\w$]*)(?: \([\w$]+\))? \{$/;
const AVA_STRING_PROPERTY = (key: string) => new RegExp(`^\\s*${key}: (?:'((?:[^'\\\\]|\\\\.)*)'|\`([\\s\\S]*?)\`),?$`, 'm');

function unescapeAvaString(text: string): string {
  return text.replace(/␊\n\s*/g, '\n').replace(/\\(.)/g, '$1');
}

/** The error ava's `details` show a test threw or rejected with, else the details as one line. */
function avaThrown(details: string): { name: string; message: string; code?: string } | undefined {
  const lines = details.split('\n');
  const headAt = lines.findIndex((line) => AVA_ERROR_HEAD.test(line));
  if (headAt < 0) return undefined;
  const body = lines.slice(headAt + 1).join('\n');
  const message = AVA_STRING_PROPERTY('message').exec(body);
  const code = AVA_STRING_PROPERTY('code').exec(body);
  return {
    name: AVA_ERROR_HEAD.exec(lines[headAt] ?? '')?.[1] ?? 'Error',
    message: message === null ? '' : unescapeAvaString(message[1] ?? message[2] ?? ''),
    ...(code === null ? {} : { code: unescapeAvaString(code[1] ?? code[2] ?? '') }),
  };
}

/**
 * The error fields of the TAP YAML block that starts at `lines[from]` (its `---` line), or undefined
 * when no block starts there. Only the block's own top-level fields count, not a nested `cause:`.
 * node:test writes `name`, `error`, `code`, `stack`; ava writes `name`, `message`, `at` (one frame)
 * and, for an error a test threw, its type and message inside `details`.
 */
export function readTapErrorFields(lines: readonly string[], from: number): TapErrorFields | undefined {
  const opening = /^(\s*)---\s*$/.exec(lines[from] ?? '');
  if (!opening) return undefined;
  // node:test indents the fields like `---`, ava two spaces deeper.
  const indent = Math.max((opening[1] ?? '').length, (lines[from + 1] ?? '').search(/\S/));
  const fields: Record<string, string> = {};
  for (let index = from + 1; index < lines.length && index < from + 400; index++) {
    const line = lines[index] ?? '';
    if (/^\s*\.\.\.\s*$/.test(line)) break;
    const field = YAML_FIELD.exec(line);
    if (!field || (field[1] ?? '').length !== indent || fields[field[2] ?? ''] !== undefined) continue;
    const key = field[2] ?? '';
    const raw = field[3] ?? '';
    if (key === 'details' || /^[|>][-+]?$/.test(raw.trim())) {
      const block: string[] = [];
      for (let next = lines[index + 1]; next !== undefined && (next.trim() === '' || next.search(/\S/) > indent); next = lines[index + 1]) {
        block.push(key === 'details' ? next : next.trim());
        index++;
      }
      fields[key] = key === 'details' ? block.join('\n') : block.join(raw.trim().startsWith('>') ? ' ' : '\n').trim();
    } else {
      fields[key] = yamlScalar(raw);
    }
  }
  if (fields.error === undefined && fields.message !== undefined) return avaErrorFields(fields);
  const { name, error, code, stack } = fields;
  if (name === undefined && error === undefined) return undefined;
  return { ...(name !== undefined ? { name } : {}), ...(error !== undefined ? { error } : {}), ...(code !== undefined ? { code } : {}), ...(stack !== undefined ? { stack } : {}) };
}

/** ava's block as error fields: the thrown error where the details show one, else ava's own failure (an assertion). */
function avaErrorFields(fields: Record<string, string>): TapErrorFields {
  const thrown = fields.details === undefined ? undefined : avaThrown(fields.details);
  const at = fields.at === undefined || fields.at === '' ? {} : { stack: fields.at, topFrameOnly: true };
  if (thrown !== undefined) return { name: thrown.name, error: thrown.message, ...(thrown.code === undefined ? {} : { code: thrown.code }), ...at };
  const detail = avaDetailsText(fields.details ?? '');
  const error = [fields.assertion, detail === '' ? fields.message : detail].filter((part) => part !== undefined && part !== '').join(': ');
  return { name: fields.name ?? 'Error', error, ...at };
}

/** ava's `details` mapping as text: each `'Label:': value` as `Label: value`, block values on their own lines. */
function avaDetailsText(details: string): string {
  const lines: string[] = [];
  for (const line of details.split('\n')) {
    const label = /^\s*'((?:[^']|'')*)':\s*(.*)$/.exec(line);
    if (label === null) {
      if (line.trim() !== '') lines.push(line.trim());
      continue;
    }
    const value = (label[2] ?? '').trim();
    const text = (label[1] ?? '').replace(/''/g, "'");
    lines.push(/^[|>][-+]?$/.test(value) || value === '' ? text : `${text} ${yamlScalar(value)}`);
  }
  return lines.join('\n');
}

/** TAP error fields as the familiar `Type: message` line and `    at frame` lines. */
export function tapErrorText(fields: TapErrorFields): string {
  const head = [fields.name, fields.error].filter((part) => part !== undefined && part !== '').join(': ');
  const frames = (fields.stack ?? '').split('\n').filter((line) => line.trim() !== '').map((line) => `    at ${line.trim()}`);
  return [head, ...frames, ...(fields.topFrameOnly === true ? [TOP_FRAME_ONLY_LINE] : [])].join('\n');
}

/** The error of the YAML block after a failing TAP test point, as text. */
function tapFailureText(lines: readonly string[], from: number): string | undefined {
  const fields = readTapErrorFields(lines, from);
  return fields === undefined ? undefined : tapErrorText(fields);
}

interface JestStyleReport {
  testResults?: {
    name?: string;
    status?: string;
    message?: string;
    assertionResults?: { fullName?: string; title?: string; status?: string; failureMessages?: string[] }[];
  }[];
}

function firstLines(text: string, count = 3): string {
  return text.split(/\r?\n/).slice(0, count).join('\n');
}

/** The sandbox's working directory, which absolute paths in reports and stacks start with. */
export const SANDBOX_WORK_ROOT = '/work/';

/**
 * Tests of a vitest `--reporter=json` or jest `--json` report. A file that failed before any test ran
 * (an import or syntax error) becomes one failed outcome named by the file.
 */
export function parseJestStyleJson(text: string, workRoot = SANDBOX_WORK_ROOT): TestOutcome[] {
  const report = JSON.parse(text) as JestStyleReport;
  const outcomes: TestOutcome[] = [];
  for (const file of report.testResults ?? []) {
    const fileName = relativeTo(workRoot, file.name) ?? '?';
    const assertions = file.assertionResults ?? [];
    for (const assertion of assertions) {
      const status: TestOutcome['status'] = assertion.status === 'passed' ? 'passed' : assertion.status === 'failed' ? 'failed' : 'skipped';
      const name = `${fileName} > ${assertion.fullName ?? assertion.title ?? '?'}`;
      const failure = assertion.failureMessages?.[0];
      outcomes.push(status === 'failed' && failure !== undefined ? failureOutcome(name, failure) : { name, status });
    }
    if (assertions.length === 0 && file.status === 'failed') {
      outcomes.push(failureOutcome(fileName, file.message || 'the file failed before any test ran'));
    }
  }
  return outcomes;
}

interface MochaTest {
  title?: string;
  fullTitle?: string;
  file?: string;
  err?: { message?: string; stack?: string; name?: string };
}

interface MochaReport {
  stats?: unknown;
  tests?: MochaTest[];
  pending?: MochaTest[];
  failures?: MochaTest[];
}

function relativeTo(workRoot: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  return file.startsWith(workRoot) ? file.slice(workRoot.length) : file;
}

function mochaFailureText(err: NonNullable<MochaTest['err']>): string {
  if (err.stack !== undefined && err.stack !== '') return err.stack;
  return `${err.name ?? 'Error'}: ${err.message ?? 'the test failed without a message'}`;
}

/**
 * Tests of a mocha `--reporter json` report, named `<file> > <full title>`. A failure outside any test
 * (a `before all` hook, an uncaught error) becomes one failed outcome named by its title.
 */
export function parseMochaJson(text: string, workRoot = SANDBOX_WORK_ROOT): TestOutcome[] {
  const report = JSON.parse(text) as MochaReport;
  if (report === null || typeof report !== 'object' || !Array.isArray(report.tests)) {
    throw new SyntaxError('not a mocha json report: it has no "tests" list');
  }
  const key = (test: MochaTest) => `${test.file ?? ''}\u0000${test.fullTitle ?? test.title ?? ''}`;
  const failures = new Map((report.failures ?? []).map((test) => [key(test), test]));
  const pending = new Set((report.pending ?? []).map(key));
  const outcomes: TestOutcome[] = [];
  const seen = new Set<string>();
  for (const test of report.tests) {
    const file = relativeTo(workRoot, test.file);
    const name = `${file === undefined ? '' : `${file} > `}${test.fullTitle ?? test.title ?? '?'}`;
    const failure = failures.get(key(test));
    seen.add(key(test));
    if (failure !== undefined) outcomes.push(failureOutcome(name, mochaFailureText(failure.err ?? test.err ?? {})));
    else if (pending.has(key(test))) outcomes.push({ name, status: 'skipped' });
    else outcomes.push({ name, status: 'passed' });
  }
  for (const [failureKey, failure] of failures) {
    if (seen.has(failureKey)) continue;
    const file = relativeTo(workRoot, failure.file);
    outcomes.push(failureOutcome(`${file === undefined ? '' : `${file} > `}${failure.fullTitle ?? failure.title ?? '?'}`, mochaFailureText(failure.err ?? {})));
  }
  return outcomes;
}

/** The json report an older mocha printed to stdout after whatever the tests printed themselves, if it printed one. */
export function mochaJsonFromStdout(stdout: string): string | undefined {
  const start = stdout.lastIndexOf('{\n  "stats": {');
  return start < 0 ? undefined : stdout.slice(start);
}
