import { describe, expect, it } from 'vitest';
import { checkEditConstraints } from './constraints';
import { applyEdits } from './edits';

const FILE = 'src/orders.ts';
const ORIGINAL = `import { round } from './money';

/** Sums line totals. */
export function total(lines: { price: number; quantity: number }[]): number {
  let sum = 0;
  for (const line of lines) {
    sum += line.price * line.quantity;
  }
  return round(sum);
}

export class Basket {
  private readonly items: string[] = [];
  add(item: string): void {
    this.items.push(item);
  }
}

function helper(value: number): number {
  return value * 2;
}
`;

const files = new Map([[FILE, ORIGINAL]]);
const suspects = [{ file: FILE, line: 7 }];

function edited(replace: string, by: string): Map<string, string> {
  if (!ORIGINAL.includes(replace)) throw new Error(`no ${replace}`);
  return new Map([[FILE, ORIGINAL.replace(replace, by)]]);
}

function rules(result: ReturnType<typeof checkEditConstraints>): string[] {
  return result.map((violation) => violation.rule);
}

describe('checkEditConstraints', () => {
  it('allows a small edit inside the suspect function', () => {
    expect(checkEditConstraints(files, edited('sum += line.price', 'sum += (line.price ?? 0)'), suspects)).toEqual([]);
    const guarded = edited('    sum += line.price', '    if (line == null) continue;\n    sum += line.price');
    expect(checkEditConstraints(files, guarded, suspects)).toEqual([]);
  });

  it('catches an edit outside the suspect function', () => {
    const result = checkEditConstraints(files, edited('return value * 2;', 'return value * 3;'), suspects);
    expect(result).toEqual([
      {
        rule: 'outside-suspect-region',
        file: FILE,
        line: 20,
        message: `${FILE}:20 is outside the suspects' functions; allowed: total (lines 4-10)`,
      },
    ]);
  });

  it('catches a line inserted just after the suspect function', () => {
    const result = checkEditConstraints(files, edited('  return round(sum);\n}\n', '  return round(sum);\n}\nconst x = 1;\n'), suspects);
    expect(rules(result)).toEqual(['outside-suspect-region']);
  });

  it('catches a changed exported signature, even inside the suspect function', () => {
    const result = checkEditConstraints(
      files,
      edited('lines: { price: number; quantity: number }[]): number', 'lines: { price: number; quantity: number }[], tax = 0): number'),
      [{ file: FILE, line: 4 }],
    );
    expect(result).toEqual([
      { rule: 'exported-signature-changed', file: FILE, message: `exported function:total changed in ${FILE}` },
    ]);
  });

  it('treats a public class member as part of the exported signature, but not a method body', () => {
    const renamed = checkEditConstraints(files, edited('add(item: string): void', 'add(item: string, count = 1): void'), [
      { file: FILE, line: 15 },
    ]);
    expect(rules(renamed)).toEqual(['exported-signature-changed']);
    const body = checkEditConstraints(files, edited('this.items.push(item);', '(this.items ?? []).push(item);'), [
      { file: FILE, line: 15 },
    ]);
    expect(body).toEqual([]);
  });

  it('catches an added import, require and dynamic import', () => {
    const imported = new Map([[FILE, `import { z } from 'zod';\n${ORIGINAL}`]]);
    const result = checkEditConstraints(files, imported, [...suspects, { file: FILE, line: 1 }]);
    expect(result.find((violation) => violation.rule === 'import-added')?.message).toBe(
      `new import in ${FILE}: import { z } from 'zod';`,
    );
    const required = checkEditConstraints(files, edited('let sum = 0;', "let sum = require('lodash').sum([]);"), suspects);
    expect(result.length).toBeGreaterThan(0);
    expect(required).toEqual([{ rule: 'import-added', file: FILE, message: `new import in ${FILE}: require('lodash')` }]);
    const dynamic = checkEditConstraints(files, edited('let sum = 0;', "let sum = 0; void import('node:fs');"), suspects);
    expect(rules(dynamic)).toEqual(['import-added']);
  });

  it('catches edits that break parsing', () => {
    const result = checkEditConstraints(files, edited('sum += line.price * line.quantity;', 'sum += line.price *;'), suspects);
    expect(rules(result)).toEqual(['syntax-error']);
    expect(result[0]?.line).toBe(7);
  });

  it('bounds the number of changed lines', () => {
    const many = Array.from({ length: 21 }, (_, i) => `    sum += ${i};`).join('\n');
    const result = checkEditConstraints(files, edited('    sum += line.price * line.quantity;', many), suspects);
    expect(rules(result)).toEqual(['too-many-lines']);
    expect(result[0]?.message).toBe('21 changed lines; at most 20 are allowed');
    expect(checkEditConstraints(files, edited('    sum += line.price * line.quantity;', many), suspects, { maxChangedLines: 21 })).toEqual([]);
  });

  it('refuses added, removed and test files', () => {
    const test = 'src/orders.test.ts';
    const withTest = new Map([...files, [test, "it('works', () => {});\n"]]);
    expect(rules(checkEditConstraints(files, withTest, suspects))).toEqual(['file-added']);
    expect(rules(checkEditConstraints(withTest, files, suspects))).toEqual(['file-removed']);
    const changedTest = new Map([...files, [test, "it('still works', () => {});\n"]]);
    expect(rules(checkEditConstraints(withTest, changedTest, [{ file: test, line: 1 }]))).toEqual(['test-file-changed']);
  });

  it('checks edits applied with applyEdits the same way', () => {
    const result = applyEdits(files, [
      { file: FILE, startLine: 20, endLine: 20, before: '  return value * 2;', after: '  return value * 4;' },
    ]);
    expect(rules(checkEditConstraints(files, result, suspects))).toEqual(['outside-suspect-region']);
  });
});
