import { describe, expect, it } from 'vitest';
import { checkPattern, formatPath, formatPattern, matchPattern, normalizePattern, parsePattern, specificity } from './paths';

const matches = (pattern: string, path: string[]) => matchPattern(parsePattern(pattern), path);

describe('parsePattern / formatPattern', () => {
  it.each([
    'entry.body.email',
    'entry.body.preferences.*',
    'entry.args.0.$stub.get.active_users.*.id',
    'downstream.*.responseBody.**',
    'spans.*.attributes["http.route"]',
    'spans.*.attributes["http.request.header.authorization"].*',
    'entry.headers.x-request-id',
  ])('round-trips %s', (text) => {
    expect(formatPattern(parsePattern(text))).toBe(text);
  });

  it('accepts single-quoted brackets', () => {
    expect(parsePattern("spans.*.attributes['http.route']")).toEqual(parsePattern('spans.*.attributes["http.route"]'));
  });

  it.each([
    ['', 'empty path'],
    ['entry..body', 'empty segment'],
    ['entry.body.', 'ends with a dot'],
    ['entry.body.a b', 'must be quoted'],
    ['spans.*.attributes[http.route]', 'quoted string'],
    ['spans.*.attributes["http.route"', 'expected "]"'],
    ['spans.*.attributes["http.route', 'unterminated'],
    ['spans.*.attributes["a"]x', 'unexpected'],
  ])('rejects %j', (text, reason) => {
    expect(() => parsePattern(text)).toThrow(reason);
  });
});

describe('matchPattern', () => {
  it('matches literals, one-segment stars and any-depth globstars', () => {
    expect(matches('entry.body.email', ['entry', 'body', 'email'])).toBe(true);
    expect(matches('entry.body.*', ['entry', 'body', 'email'])).toBe(true);
    expect(matches('entry.body.*', ['entry', 'body', 'a', 'b'])).toBe(false);
    expect(matches('entry.body.**', ['entry', 'body', 'a', 'b'])).toBe(true);
    expect(matches('entry.body.**', ['entry', 'body'])).toBe(true);
    expect(matches('downstream.*.responseBody.error', ['downstream', '3', 'responseBody', 'error'])).toBe(true);
    expect(matches('spans.*.attributes["http.route"]', ['spans', '0', 'attributes', 'http.route'])).toBe(true);
    expect(matches('spans.*.attributes.http', ['spans', '0', 'attributes', 'http.route'])).toBe(false);
  });

  it('does not match an ancestor of the leaf: subtrees need **', () => {
    expect(matches('entry.body.preferences', ['entry', 'body', 'preferences', 'newsletter'])).toBe(false);
  });

  it('lowercases header names in patterns', () => {
    expect(matchPattern(normalizePattern(parsePattern('entry.headers.Authorization')), ['entry', 'headers', 'authorization'])).toBe(true);
  });

  it('ranks more literal segments above wildcards', () => {
    expect(specificity(parsePattern('entry.body.email')) > specificity(parsePattern('entry.body.*'))).toBe(true);
    expect(specificity(parsePattern('entry.body.*')) > specificity(parsePattern('entry.**'))).toBe(true);
  });
});

describe('checkPattern', () => {
  it('accepts paths under a data-bearing root', () => {
    expect(checkPattern(parsePattern('logs.*.body'))).toBeUndefined();
    expect(checkPattern(parsePattern('**.email'))).toBeUndefined();
  });

  it('rejects paths outside the data-bearing parts', () => {
    expect(checkPattern(parsePattern('symptom.message'))).toMatch(/outside the data-bearing parts/);
    expect(checkPattern(parsePattern('entry.bdy.email'))).toMatch(/outside/);
  });

  it('rejects dotted attribute keys written as several segments', () => {
    expect(checkPattern(parsePattern('spans.*.attributes.http.route'))).toBe(
      'attribute keys are one segment: write spans.*.attributes["http.route"]',
    );
    expect(checkPattern(parsePattern('spans.*.attributes["tags"].0'))).toBeUndefined();
  });

  it('rejects paths below a query parameter or header, whose values are strings', () => {
    expect(checkPattern(parsePattern('entry.headers.authorization.token'))).toBe(
      'matches nothing: every value under entry.headers is a string, so a path ends at its key (write entry.headers.authorization)',
    );
    expect(checkPattern(parsePattern('entry.query.filter.*'))).toMatch(/^matches nothing: every value under entry\.query is a string/);
    expect(checkPattern(parsePattern('downstream.*.responseHeaders["set-cookie"].value'))).toMatch(/under downstream\.\*\.responseHeaders/);
    expect(checkPattern(parsePattern('entry.headers.*'))).toBeUndefined();
    expect(checkPattern(parsePattern('entry.query.**'))).toBeUndefined();
    expect(checkPattern(parsePattern('entry.headers.authorization.**'))).toBeUndefined();
  });
});

describe('formatPath', () => {
  it('brackets keys that are not plain segments', () => {
    expect(formatPath(['spans', '*', 'attributes', 'http.route'])).toBe('spans.*.attributes["http.route"]');
    expect(formatPath(['entry', 'body', 'first name'])).toBe('entry.body["first name"]');
  });
});
