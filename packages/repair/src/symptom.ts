import type { Frame } from '@tracemend/contracts';

/** What the runtime said was wrong, as far as repair templates need it. */
export interface RepairSymptom {
  errorType: string;
  message: string;
  frames: readonly Frame[];
}

/**
 * The crashing member operation read off a TypeError message:
 * - `nullish-read`: a property was read from undefined/null (`reading 'push'`);
 * - `nullish-write`: a property was set on undefined/null (`setting 'x'`);
 * - `not-a-function`: a member was called that is not a function (`x.map is not a function`).
 */
export interface MemberCrash {
  kind: 'nullish-read' | 'nullish-write' | 'not-a-function';
  property: string;
  /** For `not-a-function`: the callee as V8 printed it (`options.onDone`). */
  callee?: string;
  /** The value the receiver had, when the message says. */
  receiver?: 'undefined' | 'null';
}

/**
 * The crashing value operation read off a TypeError message:
 * - `not-iterable`: a value that is not iterable was iterated (`for…of`, spread, array destructuring,
 *   `Array.from`, `new Set`): `items is not iterable`, `undefined is not iterable (…)`;
 * - `destructure-nullish`: an object pattern met undefined/null (`Cannot destructure property 'a' of
 *   'b' as it is undefined.`).
 */
export interface ValueCrash {
  kind: 'not-iterable' | 'destructure-nullish';
  /**
   * The source text V8 printed for the value (`o.items`; a call prints as `o.list(...)`), undefined
   * when it printed only the value (`undefined`, `object null`, `number 5`).
   */
  expression?: string;
  /** For `destructure-nullish`: the first property the pattern reads, when the message names one. */
  property?: string;
  receiver?: 'undefined' | 'null';
}

/**
 * A built-in given an argument outside its domain:
 * - `bigint-fraction`: `BigInt(x)` of a non-integer (`The number 1998.9999999999998 cannot be converted…`);
 * - `repeat-count`: `s.repeat(n)` with a negative or infinite count (`Invalid count value: -1`);
 * - `array-length`: `new Array(n)` / `Array(n)` with a negative or fractional length (`Invalid array length`);
 * - `digits`: `toFixed`/`toExponential` (0–100) or `toPrecision` (1–100) digits out of range;
 * - `invalid-date`: `toISOString()` of an invalid date (`Invalid time value`);
 * - `json-syntax`: a SyntaxError from `JSON.parse` (`Unexpected token …`, `… is not valid JSON`).
 */
export interface ArgumentCrash {
  kind: 'bigint-fraction' | 'repeat-count' | 'array-length' | 'digits' | 'invalid-date' | 'json-syntax';
  /** For `digits`: the method named in the message. */
  method?: 'toFixed' | 'toPrecision' | 'toExponential';
}

/** A plain function value called that is not a function: `callback is not a function`. */
export interface CallCrash {
  kind: 'not-callable';
  callee: string;
}

export type Crash = MemberCrash | ValueCrash | ArgumentCrash | CallCrash;

export function isMemberCrash(crash: Crash): crash is MemberCrash {
  return crash.kind === 'nullish-read' || crash.kind === 'nullish-write' || crash.kind === 'not-a-function';
}

export function isCallCrash(crash: Crash): crash is CallCrash {
  return crash.kind === 'not-callable';
}

export function isValueCrash(crash: Crash): crash is ValueCrash {
  return crash.kind === 'not-iterable' || crash.kind === 'destructure-nullish';
}

const JSON_SYNTAX = /\bJSON\b|^Unexpected token|^Unexpected end of (?:JSON )?input|^Expected property name|^Bad control character|^Unterminated string/;

const ARGUMENT_PATTERNS: readonly { regex: RegExp; read: (match: RegExpExecArray) => ArgumentCrash }[] = [
  { regex: /cannot be converted to a BigInt because it is not an integer/, read: () => ({ kind: 'bigint-fraction' }) },
  { regex: /^Invalid count value/, read: () => ({ kind: 'repeat-count' }) },
  { regex: /^Invalid array length/, read: () => ({ kind: 'array-length' }) },
  {
    regex: /^(toFixed|toPrecision|toExponential)\(\) (?:digits )?argument must be between/,
    read: (m) => ({ kind: 'digits', method: m[1] as 'toFixed' | 'toPrecision' | 'toExponential' }),
  },
  { regex: /^Invalid time value/, read: () => ({ kind: 'invalid-date' }) },
];

/** What V8 prints in place of source text when it only knows the value: `undefined`, `object null`, `number 5`. */
const PRINTED_VALUE = /^(?:undefined|null|object null|(?:number|string|boolean|bigint|symbol|function|object)(?: .*)?)$/;

function printedExpression(text: string | undefined): string | undefined {
  const trimmed = text?.trim() ?? '';
  return trimmed === '' || PRINTED_VALUE.test(trimmed) ? undefined : trimmed;
}

function printedReceiver(text: string | undefined): 'undefined' | 'null' | undefined {
  const trimmed = text?.trim();
  if (trimmed === 'undefined') return 'undefined';
  return trimmed === 'null' || trimmed === 'object null' ? 'null' : undefined;
}

/** A value crash without the fields the message did not give. */
function valueCrash(fields: { [K in keyof ValueCrash]: ValueCrash[K] | undefined }): ValueCrash {
  return Object.fromEntries(Object.entries(fields).filter(([, field]) => field !== undefined)) as unknown as ValueCrash;
}

const PATTERNS: readonly { regex: RegExp; read: (match: RegExpExecArray) => Crash | undefined }[] = [
  {
    regex: /Cannot read properties of (undefined|null) \(reading '([^']+)'\)/,
    read: (m) => ({ kind: 'nullish-read', property: m[2] ?? '', receiver: nullish(m[1]) }),
  },
  {
    regex: /Cannot read property '([^']+)' of (undefined|null)/,
    read: (m) => ({ kind: 'nullish-read', property: m[1] ?? '', receiver: nullish(m[2]) }),
  },
  {
    regex: /Cannot set properties of (undefined|null) \(setting '([^']+)'\)/,
    read: (m) => ({ kind: 'nullish-write', property: m[2] ?? '', receiver: nullish(m[1]) }),
  },
  {
    regex: /Cannot set property '([^']+)' of (undefined|null)/,
    read: (m) => ({ kind: 'nullish-write', property: m[1] ?? '', receiver: nullish(m[2]) }),
  },
  {
    // `const [a] = f()` where f() returns a non-iterable: V8 names the callee.
    regex: /^\s*(.+?) is not a function or its return value is not iterable/,
    read: (m) => ({ kind: 'not-iterable', expression: `${(m[1] ?? '').trim()}(...)` }),
  },
  {
    // V8 prints the callee as written (`body.items.map`); only a member call names a property to repair.
    regex: /^\s*(\S+) is not a function/,
    read: (m) => {
      const callee = m[1] ?? '';
      const property = /\.([A-Za-z_$][\w$]*)$/.exec(callee)?.[1];
      if (property !== undefined) return { kind: 'not-a-function', property, callee };
      return /^[A-Za-z_$][\w$]*$/.test(callee) ? { kind: 'not-callable', callee } : undefined;
    },
  },
  {
    regex: /^\s*(.+?) is not iterable(?: \(cannot read property [^)]*\)+)?\s*$/,
    read: (m) => valueCrash({ kind: 'not-iterable', expression: printedExpression(m[1]), receiver: printedReceiver(m[1]) }),
  },
  {
    regex: /Cannot destructure property '([^']+)' of '(.*)' as it is (undefined|null)\.?/,
    read: (m) =>
      valueCrash({ kind: 'destructure-nullish', property: m[1], expression: printedExpression(m[2]), receiver: nullish(m[3]) }),
  },
  {
    regex: /Cannot destructure '(.*)' as it is (undefined|null)\.?/,
    read: (m) => valueCrash({ kind: 'destructure-nullish', expression: printedExpression(m[1]), receiver: nullish(m[2]) }),
  },
];

function nullish(value: string | undefined): 'undefined' | 'null' {
  return value === 'null' ? 'null' : 'undefined';
}

/** Reads the crashing operation from a TypeError; undefined when the message is not one the templates repair. */
export function parseCrash(symptom: Pick<RepairSymptom, 'errorType' | 'message'>): Crash | undefined {
  if (symptom.errorType === 'RangeError') {
    for (const { regex, read } of ARGUMENT_PATTERNS) {
      const match = regex.exec(symptom.message.trim());
      if (match !== null) return read(match);
    }
    return undefined;
  }
  // V8's JSON.parse forms; other SyntaxErrors (a module that does not parse) are no runtime input's fault.
  if (symptom.errorType === 'SyntaxError') {
    return JSON_SYNTAX.test(symptom.message) ? { kind: 'json-syntax' } : undefined;
  }
  if (symptom.errorType !== 'TypeError') return undefined;
  for (const { regex, read } of PATTERNS) {
    const match = regex.exec(symptom.message);
    if (match !== null) {
      const crash = read(match);
      if (crash !== undefined && !(isMemberCrash(crash) && crash.property === '')) return crash;
      // A message matches one form at most: a member call that names no property is not another form.
      return undefined;
    }
  }
  return undefined;
}

function normalizePath(path: string): string {
  return path
    .replace(/^file:\/\//, '')
    .replace(/\\/g, '/')
    .replace(/^\.\//, '');
}

/** The 1-based column the stack reports for `file:line`, matching frames whose path ends with the repository path. */
export function frameColumn(frames: readonly Frame[], file: string, line: number): number | undefined {
  const wanted = normalizePath(file);
  for (const frame of frames) {
    const path = normalizePath(frame.file);
    if (frame.line === line && (path === wanted || path.endsWith(`/${wanted}`)) && frame.column !== undefined) {
      return frame.column;
    }
  }
  return undefined;
}
