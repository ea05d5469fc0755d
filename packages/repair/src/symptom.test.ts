import { describe, expect, it } from 'vitest';
import { frameColumn, parseCrash } from './symptom';

describe('parseCrash', () => {
  it.each([
    ["Cannot read properties of undefined (reading 'push')", { kind: 'nullish-read', property: 'push', receiver: 'undefined' }],
    ["Cannot read properties of null (reading 'sort')", { kind: 'nullish-read', property: 'sort', receiver: 'null' }],
    ["Cannot read property 'length' of undefined", { kind: 'nullish-read', property: 'length', receiver: 'undefined' }],
    ["Cannot set properties of undefined (setting 'last')", { kind: 'nullish-write', property: 'last', receiver: 'undefined' }],
    ["Cannot set property 'x' of null", { kind: 'nullish-write', property: 'x', receiver: 'null' }],
    ['x.map is not a function', { kind: 'not-a-function', property: 'map', callee: 'x.map' }],
    ['body.items.filter is not a function', { kind: 'not-a-function', property: 'filter', callee: 'body.items.filter' }],
    ['handler is not a function', { kind: 'not-callable', callee: 'handler' }],
    ['cart.lines is not iterable', { kind: 'not-iterable', expression: 'cart.lines' }],
    ['o.missing is not iterable (cannot read property undefined)', { kind: 'not-iterable', expression: 'o.missing' }],
    ['undefined is not iterable (cannot read property Symbol(Symbol.iterator))', { kind: 'not-iterable', receiver: 'undefined' }],
    ['object null is not iterable (cannot read property Symbol(Symbol.iterator))', { kind: 'not-iterable', receiver: 'null' }],
    ['number 5 is not iterable (cannot read property Symbol(Symbol.iterator))', { kind: 'not-iterable' }],
    ['halves is not a function or its return value is not iterable', { kind: 'not-iterable', expression: 'halves(...)' }],
    [
      "Cannot destructure property 'name' of 'req.body' as it is undefined.",
      { kind: 'destructure-nullish', property: 'name', expression: 'req.body', receiver: 'undefined' },
    ],
    [
      "Cannot destructure property 'a' of 'undefined' as it is undefined.",
      { kind: 'destructure-nullish', property: 'a', receiver: 'undefined' },
    ],
    ["Cannot destructure 'o.missing' as it is null.", { kind: 'destructure-nullish', expression: 'o.missing', receiver: 'null' }],
  ])('reads %j', (message, crash) => {
    expect(parseCrash({ errorType: 'TypeError', message })).toEqual(crash);
  });

  it.each([
    ['The number 1998.9999999999998 cannot be converted to a BigInt because it is not an integer', { kind: 'bigint-fraction' }],
    ['Invalid count value: -1', { kind: 'repeat-count' }],
    ['Invalid array length', { kind: 'array-length' }],
    ['toFixed() digits argument must be between 0 and 100', { kind: 'digits', method: 'toFixed' }],
    ['toPrecision() argument must be between 1 and 100', { kind: 'digits', method: 'toPrecision' }],
    ['Invalid time value', { kind: 'invalid-date' }],
  ])('reads the RangeError %j', (message, crash) => {
    expect(parseCrash({ errorType: 'RangeError', message })).toEqual(crash);
  });

  it.each([
    `Unexpected token 'e', "eyJ2ZW5kb3"... is not valid JSON`,
    'Unexpected end of JSON input',
    "Expected property name or '}' in JSON at position 1",
    '"undefined" is not valid JSON',
  ])('reads the JSON.parse SyntaxError %j', (message) => {
    expect(parseCrash({ errorType: 'SyntaxError', message })).toEqual({ kind: 'json-syntax' });
  });

  it.each([
    ['RangeError', 'Maximum call stack size exceeded'],
    ['SyntaxError', "Cannot use import statement outside a module"],
    ['TypeError', 'Invalid time value'],
    ['TypeError', 'getHandler(...) is not a function'],
    ['TypeError', 'Cannot read properties of undefined (reading Symbol(Symbol.iterator))'],
    ['RangeError', "Cannot read properties of null (reading 'sort')"],
  ])('leaves %s %j alone', (errorType, message) => {
    expect(parseCrash({ errorType, message })).toBeUndefined();
  });
});

describe('frameColumn', () => {
  const frames = [
    { file: 'node:internal/process', line: 7, column: 3, function: 'tick', inApp: false },
    { file: '/srv/app/src/users.ts', line: 7, column: 43, function: 'normalizePreferences', inApp: true },
  ];

  it('matches a frame whose path ends with the repository path', () => {
    expect(frameColumn(frames, 'src/users.ts', 7)).toBe(43);
    expect(frameColumn(frames, './src/users.ts', 7)).toBe(43);
  });

  it('is undefined for another line or a file that only shares a suffix', () => {
    expect(frameColumn(frames, 'src/users.ts', 8)).toBeUndefined();
    expect(frameColumn(frames, 'rc/users.ts', 7)).toBeUndefined();
  });
});
