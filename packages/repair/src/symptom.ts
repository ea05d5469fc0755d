import type { Frame } from '@tracemend/contracts';

/** What the runtime said was wrong, as far as repair templates need it. */
export interface RepairSymptom {
  errorType: string;
  message: string;
  frames: readonly Frame[];
}

/**
 * The crashing operation read off a TypeError message:
 * - `nullish-read`: a property was read from undefined/null (`reading 'push'`);
 * - `nullish-write`: a property was set on undefined/null (`setting 'x'`);
 * - `not-a-function`: a member was called that is not a function (`x.map is not a function`).
 */
export interface Crash {
  kind: 'nullish-read' | 'nullish-write' | 'not-a-function';
  property: string;
  /** The value the receiver had, when the message says. */
  receiver?: 'undefined' | 'null';
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
    // V8 prints the callee as written (`body.items.map`); only a member call names a property to repair.
    regex: /^\s*(\S+) is not a function/,
    read: (m) => {
      const property = /\.([A-Za-z_$][\w$]*)$/.exec(m[1] ?? '')?.[1];
      return property === undefined ? undefined : { kind: 'not-a-function', property };
    },
  },
];

function nullish(value: string | undefined): 'undefined' | 'null' {
  return value === 'null' ? 'null' : 'undefined';
}

/** Reads the crashing operation from a TypeError; undefined when the message is not one the templates repair. */
export function parseCrash(symptom: Pick<RepairSymptom, 'errorType' | 'message'>): Crash | undefined {
  if (symptom.errorType !== 'TypeError') return undefined;
  for (const { regex, read } of PATTERNS) {
    const match = regex.exec(symptom.message);
    if (match !== null) {
      const crash = read(match);
      if (crash !== undefined && crash.property !== '') return crash;
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
