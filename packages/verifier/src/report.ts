/** One test's outcome as a runner reported it. */
export interface TestOutcome {
  /** Suite titles and the test title joined by " > "; vitest and jest names start with the file. */
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  /** First lines of the failure, when the runner gave one. */
  readonly message?: string;
}

const TEST_POINT = /^(\s*)(not ok|ok)\s+\d+(?:\s+-)?\s*(.*?)\s*$/;
const SUBTEST = /^(\s*)# Subtest: (.*)$/;
const DIRECTIVE = /\s+#\s+(SKIP|TODO)\b.*$/i;
const INDENT = 4;

function unescapeTapName(name: string): string {
  return name.replace(/\\#/g, '#').replace(/\\\\/g, '\\');
}

/**
 * Leaf tests of node:test's TAP output (`--test-reporter=tap`), named by their suites. Suites are the
 * test points directly preceded by deeper ones; their own lines are not counted.
 */
export function parseTap(text: string): TestOutcome[] {
  const suites: string[] = [];
  const points: { depth: number; name: string; status: TestOutcome['status']; message: string | undefined }[] = [];
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
    points.push({ depth, name, status, message: status === 'failed' ? tapFailureMessage(lines, index + 1) : undefined });
    if (previous !== undefined && previous.depth > depth) continue;
    const fullName = [...suites.slice(0, depth), name].join(' > ');
    const message = points.at(-1)?.message;
    outcomes.push(message === undefined ? { name: fullName, status } : { name: fullName, status, message });
  }
  return outcomes;
}

/** `name:` and `error:` of the YAML block after a failing TAP test point. */
function tapFailureMessage(lines: readonly string[], from: number): string | undefined {
  if (!/^\s*---\s*$/.test(lines[from] ?? '')) return undefined;
  let errorName: string | undefined;
  let error: string | undefined;
  for (let index = from + 1; index < lines.length && index < from + 200; index++) {
    const line = lines[index] ?? '';
    if (/^\s*\.\.\.\s*$/.test(line)) break;
    const field = /^\s*(name|error):\s*(.*)$/.exec(line);
    if (!field) continue;
    const value = (field[2] ?? '').replace(/^['"]|['"]$/g, '');
    if (field[1] === 'name') errorName ??= value;
    else error ??= value;
  }
  if (error === undefined && errorName === undefined) return undefined;
  return [errorName, error].filter((part) => part !== undefined && part !== '').join(': ');
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

/** The sandbox's working directory, which report file names start with. */
const SANDBOX_WORK_ROOT = '/work/';

/**
 * Tests of a vitest `--reporter=json` or jest `--json` report. A file that failed before any test ran
 * (an import or syntax error) becomes one failed outcome named by the file.
 */
export function parseJestStyleJson(text: string, workRoot = SANDBOX_WORK_ROOT): TestOutcome[] {
  const report = JSON.parse(text) as JestStyleReport;
  const outcomes: TestOutcome[] = [];
  for (const file of report.testResults ?? []) {
    const fileName = (file.name ?? '?').startsWith(workRoot) ? (file.name ?? '?').slice(workRoot.length) : (file.name ?? '?');
    const assertions = file.assertionResults ?? [];
    for (const assertion of assertions) {
      const status: TestOutcome['status'] = assertion.status === 'passed' ? 'passed' : assertion.status === 'failed' ? 'failed' : 'skipped';
      const name = `${fileName} > ${assertion.fullName ?? assertion.title ?? '?'}`;
      const failure = assertion.failureMessages?.[0];
      outcomes.push(status === 'failed' && failure !== undefined ? { name, status, message: firstLines(failure) } : { name, status });
    }
    if (assertions.length === 0 && file.status === 'failed') {
      outcomes.push({ name: fileName, status: 'failed', message: firstLines(file.message ?? 'the file failed before any test ran') });
    }
  }
  return outcomes;
}
