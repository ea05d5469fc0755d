import { normalizeErrorMessage, type FailureSignature } from '@tracemend/contracts';
import { stripAnsi } from './output';
import { SANDBOX_WORK_ROOT, readTapErrorFields, tapErrorText, TOP_FRAME_ONLY_LINE } from '@tracemend/test-runners';

/** One error a failure report shows: its type, message and the repository files its stack names, top first. */
export interface ReportedError {
  readonly errorType: string;
  readonly message: string;
  /** Repository-relative where the path shows the sandbox's working directory, else as printed; no node_modules. */
  readonly files: readonly string[];
  /** The report kept only the stack's top frame (ava's TAP): frames below it, the repository's among them, are unknown. */
  readonly topFrameOnly?: boolean;
}

/** Whether a failure shows the recorded signature, and what it showed. */
export interface FailureJudgement {
  readonly matched: boolean;
  /** `TypeError: Cannot read … at src/cart.js`, or undefined when the report names no error. */
  readonly observed?: string;
  /** `failed with <observed>, as recorded` or `failed with <observed>, expected <signature>`. */
  readonly detail: string;
}

const MAX_SHOWN_MESSAGE = 200;
// `TypeError: msg`, `TypeError [ERR_X]: msg`; a cause or "Uncaught" prefix is part of the same error line.
const ERROR_LINE = /^(?:Uncaught |Caused by: |\[cause\]: )?([A-Za-z_$][\w$]*)(?: \[([A-Z][A-Z0-9_]*)\])?: (.*)$/;
// A file with an extension followed by :line, inside a stack frame (`at f (/work/src/a.js:4:21)`, `❯ f src/a.js:4:21`).
const FRAME_PATH = /(?:file:\/\/)?((?:[A-Za-z]:)?[^\s()'"<>]*[^\s()'"<>:]\.[A-Za-z0-9]+):\d+/g;
const STACK_LINE = /^\s*(?:at |❯ )/;

function looksLikeErrorType(name: string, expected: string | undefined): boolean {
  return name === expected || /(?:Error|Exception)$/.test(name);
}

/** A frame's path as the repository names it: `file://` and the sandbox's working directory removed. */
export function repoPathOf(printed: string): string {
  let path = printed.replace(/^file:\/\//, '');
  try {
    path = decodeURI(path);
  } catch {
    // A path with a stray % is kept as printed.
  }
  if (path.startsWith(SANDBOX_WORK_ROOT)) return path.slice(SANDBOX_WORK_ROOT.length);
  return path.replace(/^\.\//, '');
}

function isDependency(path: string): boolean {
  return path.startsWith('node_modules/') || path.includes('/node_modules/') || path.startsWith('node:');
}

function framePaths(lines: readonly string[]): string[] {
  const files: string[] = [];
  for (const line of lines) {
    for (const match of line.matchAll(FRAME_PATH)) {
      const path = repoPathOf(match[1] ?? '');
      if (!isDependency(path) && !files.includes(path)) files.push(path);
    }
  }
  return files;
}

/** Whether a path printed in a stack is the repository file `file`: the same relative path, or an absolute path ending in it. */
export function namesFile(path: string, file: string): boolean {
  const wanted = repoPathOf(file);
  if (path === wanted) return true;
  return path.startsWith('/') || /^[A-Za-z]:/.test(path) ? path.replace(/\\/g, '/').endsWith(`/${wanted}`) : false;
}

/**
 * The errors a failure report shows, in order: `Type: message` lines (also `Type [ERR_X]: message`)
 * followed by their stack, and node:test TAP blocks (`name:` with `error:` and `stack:`). A line
 * counts as an error only when its type ends in Error or Exception or is `expectedType`, so log
 * lines such as `Note: …` are not taken for one.
 */
export function reportedErrors(text: string, expectedType?: string): ReportedError[] {
  const lines = stripAnsi(text).split(/\r?\n/);
  const heads: { index: number; errorType: string; message: string }[] = [];
  const tapErrors: ReportedError[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const tap = readTapErrorFields(lines, index);
    if (tap?.name !== undefined && tap.error !== undefined) {
      const [head = '', ...stack] = tapErrorText(tap).split('\n');
      const parsed = ERROR_LINE.exec(head);
      if (parsed && looksLikeErrorType(parsed[1] ?? '', expectedType)) {
        tapErrors.push({ errorType: parsed[1] ?? '', message: parsed[3] ?? '', files: framePaths(stack), ...(tap.topFrameOnly ? { topFrameOnly: true } : {}) });
      }
      continue;
    }
    const parsed = ERROR_LINE.exec(line.trim());
    if (!parsed || STACK_LINE.test(line) || !looksLikeErrorType(parsed[1] ?? '', expectedType)) continue;
    heads.push({ index, errorType: parsed[1] ?? '', message: parsed[3] ?? '' });
  }
  const errors = heads.map((head, at) => {
    const end = heads[at + 1]?.index ?? lines.length;
    // A message may go on over lines of its own, up to a blank line or the first frame.
    const rest = lines.slice(head.index + 1, end);
    const more = rest.findIndex((line) => line.trim() === '' || STACK_LINE.test(line));
    const continued = (more < 0 ? rest : rest.slice(0, more)).map((line) => line.trim());
    const message = continued.length > 0 && continued.length <= 20 ? [head.message, ...continued].join('\n') : head.message;
    const cut = rest.some((line) => line.trim() === TOP_FRAME_ONLY_LINE.trim());
    return { errorType: head.errorType, message, files: framePaths(rest), ...(cut ? { topFrameOnly: true } : {}) };
  });
  return [...errors, ...tapErrors];
}

function messageMatches(message: string, normalized: string): boolean {
  const firstLine = message.split('\n')[0] ?? '';
  return normalizeErrorMessage(message) === normalized || normalizeErrorMessage(firstLine) === normalized;
}

function clip(text: string, max = MAX_SHOWN_MESSAGE): string {
  const single = text.replace(/\s*\n\s*/g, ' ');
  return single.length > max ? `${single.slice(0, max - 1)}…` : single;
}

function describeError(error: ReportedError, file: string | undefined): string {
  const where = file ?? error.files[0];
  return `${error.errorType}: ${clip(error.message)}${where === undefined ? '' : ` at ${where}`}`;
}

/** The recorded signature as the judge's detail names it: `TypeError: <normalized message> at src/cart.js`. */
export function describeExpected(signature: FailureSignature): string {
  const file = signature.frames[0]?.file;
  return `${signature.errorType}: ${clip(signature.normalizedMessage)}${file === undefined ? '' : ` at ${file}`}`;
}

/**
 * Whether `failureText` (one test's failure, or a run's output) shows the recorded signature: an
 * error of `signature.errorType` whose normalized message equals `signature.normalizedMessage` and,
 * when the signature has a top in-app frame, whose stack names that frame's file. Function names are
 * not compared: minified, transpiled and anonymous frames name functions differently between runs
 * and runners (jest prints the called property, not the function).
 */
export function judgeFailure(failureText: string, signature: FailureSignature): FailureJudgement {
  const errors = reportedErrors(failureText, signature.errorType);
  const file = signature.frames[0]?.file;
  const expected = describeExpected(signature);
  const typed = errors.filter((error) => error.errorType === signature.errorType);
  const sameMessage = typed.filter((error) => messageMatches(error.message, signature.normalizedMessage));
  const matching = sameMessage.find((error) => file === undefined || error.files.some((path) => namesFile(path, file)));
  if (matching !== undefined) {
    const observed = describeError(matching, file === undefined ? undefined : (matching.files.find((path) => namesFile(path, file)) ?? file));
    return { matched: true, observed, detail: `failed with ${observed}, as recorded` };
  }
  // A report that keeps only the top frame (ava's TAP) cannot show the repository frame under a
  // dependency's or Node's own; the type and exact message are all it can show, and they match.
  const uncheckable = file === undefined ? undefined : sameMessage.find((error) => error.topFrameOnly === true && error.files.length === 0);
  if (uncheckable !== undefined) {
    const observed = describeError(uncheckable, undefined);
    return {
      matched: true,
      observed,
      detail: `failed with ${observed}, as recorded (the report keeps only the top frame, outside the repository, so ${file ?? ''} could not be checked)`,
    };
  }
  const closest = sameMessage[0] ?? typed[0] ?? errors[0];
  if (closest === undefined) return { matched: false, detail: `failed without naming an error, expected ${expected}` };
  const observed = describeError(closest, undefined);
  const stackNote = sameMessage[0] !== undefined && file !== undefined ? ` (its stack does not name ${file})` : '';
  return { matched: false, observed, detail: `failed with ${observed}${stackNote}, expected ${expected}` };
}
