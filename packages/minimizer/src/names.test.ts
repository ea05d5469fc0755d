import { describe, expect, it } from 'vitest';
import { namesInCode } from './names';

describe('namesInCode', () => {
  it("reads identifiers and quoted keys from the service's sources, not from its tests or tracemend's", () => {
    const names = namesInCode(
      new Map([
        ['src/handler.js', "const type = event['detail-type'];\nconst { receivedAt, order: { deliveredAt } } = detail;\nconst k = \"it\\\"s\";\n"],
        ['src/keys.ts', 'export const FIELDS = [`x-request-id`, "content-type"] as const;'],
        ['test/handler.test.js', "assess({ fixtureOnly: 1, 'quoted-fixture': 2 });"],
        ['src/eligibility.spec.ts', 'expect(specOnly).toBe(1);'],
        ['test/tracemend-1a2b3c4d.test.js', 'replay({ emittedOnly: 1 });'],
      ]),
    );
    for (const name of ['event', 'detail-type', 'receivedAt', 'order', 'deliveredAt', 'it"s', 'x-request-id', 'content-type', 'FIELDS']) expect(names).toContain(name);
    for (const name of ['fixtureOnly', 'quoted-fixture', 'specOnly', 'emittedOnly']) expect(names).not.toContain(name);
  });

  it('leaves out long strings, which are text rather than keys', () => {
    const names = namesInCode(new Map([['src/a.js', `log('${'word '.repeat(40)}');`]]));
    expect([...names].some((name) => name.startsWith('word '))).toBe(false);
  });
});
