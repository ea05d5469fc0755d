import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, type JsonValue } from './canonical';
import { ddmin } from './ddmin';
import { ENCODING_QUALIFIERS, formatPath, getAt, minimizeJson, minimizeRecord, pathsAtDepth, setAt } from './hierarchical';
import { namesInCode } from './names';

/** A judge that records every candidate it is asked about. */
function recording<C>(fails: (candidate: C) => boolean) {
  const calls: C[] = [];
  const judge = (candidate: C): Promise<boolean> => {
    calls.push(structuredClone(candidate));
    return Promise.resolve(fails(candidate));
  };
  return { calls, judge };
}

/** Error type and message of running `body`, or undefined when it does not throw. */
function signatureOf(body: () => unknown): string | undefined {
  try {
    body();
    return undefined;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

const usersBody = {
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  phone: '+442079460000',
  preferences: { newsletter: true },
  plan: 'pro',
  tags: ['beta', 'vip', 'early-adopter'],
};

describe('minimizeJson', () => {
  it('reduces a sign-up body to the preferences object without marketing', async () => {
    const { calls, judge } = recording<JsonValue>((candidate) => {
      const preferences = (candidate as Record<string, JsonValue>).preferences;
      return typeof preferences === 'object' && preferences !== null && !Object.hasOwn(preferences, 'marketing');
    });
    const outcome = await minimizeJson(usersBody, judge, { label: 'body' });
    expect(outcome.minimal).toEqual({ preferences: {} });
    expect(outcome.exhausted).toBe(false);
    expect(outcome.tests).toBe(calls.length);
    expect(new Set(calls.map((call) => canonicalJson(call))).size).toBe(calls.length);
    expect(outcome.steps).toEqual(
      expect.arrayContaining(['removed body.name', 'removed body.email', 'removed body.phone', 'removed body.plan', 'removed body.tags', 'removed body.preferences.newsletter']),
    );
    expect(outcome.steps).toHaveLength(6);
    expect(outcome.tests).toBeLessThan(20);
  });

  it('under keepFields removes only items and subtrees the code never names, so a correct fix still passes on the result', async () => {
    // A warehouse's return event. The crash needs only the empty parcel list, but the correct fix
    // reads the drop-off's receivedAt and the order's deliveredAt after the crash point: a 1-minimal
    // input loses both, and the right fix then fails on it.
    const handedOverAt = (detail: Detail) => {
      const [firstScan] = detail.parcels[0]!.scans;
      return new Date(firstScan!.at);
    };
    const fixedHandedOverAt = (detail: Detail) => new Date(detail.parcels[0]?.scans[0]?.at ?? detail.receivedAt);
    const daysLate = (detail: Detail, handover: (detail: Detail) => Date) => {
      const days = (handover(detail).getTime() - new Date(detail.order.deliveredAt).getTime()) / 86_400_000;
      if (Number.isNaN(days)) throw new RangeError('Invalid time value');
      return days;
    };
    type Detail = { parcels: { scans: { at: string }[] }[]; receivedAt: string; order: { deliveredAt: string } };
    const code = new Map([
      ['src/eligibility.js', `${handedOverAt.toString()}\n${daysLate.toString()}\nconst type = event['detail-type'];`],
      ['test/eligibility.test.js', "it('counts from the scan', () => assess({ returnId: 'r-1', audit: {} }));"],
    ]);
    const event = {
      'detail-type': 'Return Received',
      account: '210987654321',
      detail: {
        returnId: 'r-1',
        receivedAt: '2026-12-01T10:00:00Z',
        channel: 'store-dropoff',
        parcels: [],
        store: { storeId: 'BER-014', clerk: 'kiosk' },
        order: { deliveredAt: '2026-11-21T10:00:00Z', currency: 'EUR' },
        audit: { by: 'kiosk', steps: [1, 2] },
      },
    };
    const crash = "TypeError: Cannot read properties of undefined (reading 'scans')";
    const fails = (candidate: JsonValue) => Promise.resolve(signatureOf(() => daysLate((candidate as { detail: Detail }).detail, handedOverAt)) === crash);
    const names = namesInCode(code);
    // The code names the order (read after the crash point) but neither the store nor the audit trail.
    expect(names.has('order') && names.has('deliveredAt') && names.has('detail-type')).toBe(true);
    expect(names.has('store') || names.has('audit') || names.has('receivedAt')).toBe(false);

    const kept = await minimizeJson(event, fails, { label: 'event', keepFields: { named: names } });
    const { store: _store, audit: _audit, ...keptDetail } = event.detail;
    expect(kept.minimal).toEqual({ ...event, detail: keptDetail });
    expect(kept.steps.sort()).toEqual(['removed event.detail.audit', 'removed event.detail.store']);
    expect(() => daysLate((kept.minimal as { detail: Detail }).detail, fixedHandedOverAt)).not.toThrow();
    // Without it the same judge strips the event to what the crash alone needs, where the fix fails.
    const stripped = await minimizeJson(event, fails, { label: 'event' });
    expect(stripped.minimal).toEqual({ detail: { parcels: [] } });
    expect(() => daysLate((stripped.minimal as { detail: Detail }).detail, fixedHandedOverAt)).toThrow();
  });

  it("keeps what validation needs when the judge runs the service's own sign-up logic", async () => {
    // The users service: validation first (a 400 is a different outcome), then consent defaults that
    // push into a missing `marketing` array.
    const createUser = (body: Record<string, unknown>) => {
      if (typeof body.name !== 'string' || body.name.trim() === '') return 400;
      if (typeof body.email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.email)) return 400;
      if (typeof body.phone !== 'string' || !/^\+[1-9]\d{6,14}$/.test(body.phone)) return 400;
      const preferences = body.preferences as { newsletter?: unknown; marketing?: string[] } | undefined;
      if (typeof preferences !== 'object' || preferences === null) return 400;
      const channels = preferences.marketing;
      if (preferences.newsletter === true) channels!.push('email');
      return 201;
    };
    const recorded = signatureOf(() => createUser(usersBody));
    expect(recorded).toMatch(/^TypeError: Cannot read properties of undefined \(reading 'push'\)/);
    const { calls, judge } = recording<JsonValue>((candidate) => signatureOf(() => createUser(candidate as Record<string, unknown>)) === recorded);
    const outcome = await minimizeJson(usersBody, judge, { label: 'body' });
    expect(outcome.minimal).toEqual({ name: 'A', email: 'ada@example.com', phone: '+442079460000', preferences: { newsletter: true } });
    expect(outcome.steps).toContain('simplified body.name to "A"');
    expect(outcome.tests).toBe(calls.length);
    expect(outcome.cacheHits).toBeGreaterThanOrEqual(0);
  });

  it('reduces leaderboard arguments to an empty cache snapshot and k = 1', async () => {
    // topUsers(cache, k) over a memory cache: a missing snapshot reads as null and `null.sort` throws.
    const topUsers = (snapshot: JsonValue, k: JsonValue) => {
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${JSON.stringify(k)}`);
      const entries = typeof snapshot === 'object' && snapshot !== null && !Array.isArray(snapshot) ? snapshot : {};
      const users = (entries.active_users ?? null) as { score: number }[];
      return users.sort((a, b) => b.score - a.score).slice(0, k);
    };
    const args: JsonValue = [
      {
        'leaderboard:config': { size: 10, window: '7d', tieBreak: 'recent' },
        'sessions:count': 4812,
        active_users: null,
        'feature:seasons': true,
      },
      10,
    ];
    const run = (candidate: JsonValue) => signatureOf(() => topUsers((candidate as JsonValue[])[0] ?? null, (candidate as JsonValue[])[1] ?? null));
    const recorded = run(args);
    expect(recorded).toBe("TypeError: Cannot read properties of null (reading 'sort')");
    const { calls, judge } = recording<JsonValue>((candidate) => run(candidate) === recorded);
    const outcome = await minimizeJson(args, judge, { label: 'args' });
    expect(outcome.minimal).toEqual([{}, 1]);
    expect(outcome.steps).toEqual(
      expect.arrayContaining(['removed args[0]["leaderboard:config"]', 'removed args[0].active_users', 'simplified args[1] to 5', 'simplified args[1] to 1']),
    );
    expect(outcome.tests).toBe(calls.length);
    expect(outcome.tests).toBeLessThan(25);
  });

  it('minimizes nested arrays level by level', async () => {
    const value: JsonValue = { items: [1, 2, { deep: [3, 4, 5, 6] }, 7], other: 'x' };
    const hasFive = (candidate: JsonValue): boolean =>
      Array.isArray(candidate) ? candidate.some(hasFive) : typeof candidate === 'object' && candidate !== null ? Object.values(candidate).some(hasFive) : candidate === 5;
    const { judge } = recording(hasFive);
    const outcome = await minimizeJson(value, judge);
    expect(outcome.minimal).toEqual({ items: [{ deep: [5] }] });
    expect(outcome.steps).toContain('removed other');
    expect(outcome.steps).toContain('removed items[0].deep[0]');
  });

  it('simplifies scalars: strings to a prefix, numbers toward 0, true to false, objects to {}', async () => {
    const value: JsonValue = { text: 'abcdefgh', count: 37, flag: true, keep: false, nested: { a: 1 }, list: [1] };
    const { judge } = recording<JsonValue>((candidate) => {
      const record = candidate as Record<string, JsonValue>;
      return typeof record.text === 'string' && record.text.startsWith('a') && typeof record.count === 'number' && record.count > 3 && 'flag' in record && 'nested' in record && 'list' in record;
    });
    const outcome = await minimizeJson(value, judge, { label: 'input' });
    expect(outcome.minimal).toEqual({ text: 'a', count: 4, flag: false, nested: {}, list: [] });
    expect(outcome.steps).toEqual(
      expect.arrayContaining(['removed input.keep', 'removed input.nested.a', 'removed input.list[0]', 'simplified input.flag to false', 'simplified input.text to "a"']),
    );
  });

  it('can skip the scalar pass', async () => {
    const { judge } = recording<JsonValue>((candidate) => typeof (candidate as Record<string, JsonValue>).text === 'string');
    const outcome = await minimizeJson({ text: 'long text', other: 1 }, judge, { simplify: false });
    expect(outcome.minimal).toEqual({ text: 'long text' });
  });

  it('leaves a scalar root that cannot be simplified', async () => {
    const { judge } = recording<JsonValue>((candidate) => candidate === 'exact');
    const outcome = await minimizeJson('exact', judge);
    expect(outcome).toMatchObject({ minimal: 'exact', steps: [], exhausted: false });
  });

  it('treats a "__proto__" key as data', async () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as JsonValue;
    const { judge } = recording<JsonValue>((candidate) => Object.hasOwn(candidate as object, '__proto__'));
    const outcome = await minimizeJson(value, judge);
    expect(Object.keys(outcome.minimal as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives each judgement its own copy, so a mutating judge cannot corrupt later candidates', async () => {
    const outcome = await minimizeJson({ a: { x: 1 }, b: 2 }, (candidate) => {
      const record = candidate as Record<string, Record<string, JsonValue>>;
      const fails = record.a?.x === 1;
      if (record.a) record.a.x = 99;
      return Promise.resolve(fails);
    });
    expect(outcome.minimal).toEqual({ a: { x: 1 } });
  });

  it('stops at the budget with a candidate that still fails', async () => {
    const fails = (candidate: JsonValue) => canonicalJson(candidate).includes('"needle"');
    const value: JsonValue = { a: 1, b: [2, 3, { c: 'needle' }], d: { e: 'f' }, g: 'h' };
    const { calls, judge } = recording(fails);
    const outcome = await minimizeJson(value, judge, { maxTests: 3 });
    expect(outcome.exhausted).toBe(true);
    expect(calls).toHaveLength(3);
    expect(fails(outcome.minimal)).toBe(true);
  });

  it('reports each judged candidate with its verdict', async () => {
    const seen: boolean[] = [];
    const outcome = await minimizeJson({ a: 1, b: 2 }, (candidate) => Promise.resolve('a' in (candidate as object)), {
      onJudgement: (_, stillFails) => seen.push(stillFails),
    });
    expect(seen).toHaveLength(outcome.tests);
    expect(seen).toContain(true);
    expect(seen).toContain(false);
  });
});

describe('encoded values', () => {
  // An API Gateway proxy handler that parses its body as JSON without decoding base64 first.
  const parseBody = (event: { body?: string; isBase64Encoded?: boolean }) =>
    event.body === undefined || event.body === '' ? {} : (JSON.parse(event.body) as unknown);
  const decoded = (event: { body?: string; isBase64Encoded?: boolean }) =>
    parseBody({ body: event.isBase64Encoded && event.body !== undefined ? Buffer.from(event.body, 'base64').toString('utf8') : event.body });
  const event = {
    resource: '/invoices',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ vendor: 'ACME', totalCents: 4200 }), 'utf8').toString('base64'),
    isBase64Encoded: true,
  };
  const recorded = signatureOf(() => parseBody(event));

  it("keeps isBase64Encoded and the whole body it qualifies, so the minimal event still passes with the decoding fix", async () => {
    const { judge } = recording((candidate: JsonValue) => signatureOf(() => parseBody(candidate as typeof event)) === recorded);
    const { minimal } = await minimizeJson(event, judge);
    expect(minimal).toEqual({ body: event.body, isBase64Encoded: true });
    expect(signatureOf(() => parseBody(minimal as typeof event))).toBe(recorded);
    expect(decoded(minimal as typeof event)).toEqual({ vendor: 'ACME', totalCents: 4200 });
  });

  it('still shrinks a body no qualifier marks as encoded', async () => {
    const plain = { body: '{"vendor": "ACME", broken', isBase64Encoded: false };
    // Judged by error type: the message names the position, which moves as the text shrinks.
    const { judge } = recording((candidate: JsonValue) => signatureOf(() => parseBody(candidate as typeof plain))?.startsWith('SyntaxError') === true);
    const { minimal } = await minimizeJson(plain, judge);
    expect((minimal as typeof plain).body.length).toBeLessThan(plain.body.length);
  });
});

describe('minimizeRecord', () => {
  it('keeps only the flags the failure needs', async () => {
    const flags = { newCheckout: true, darkMode: false, region: 'eu', retries: 3, legacyTax: true };
    const { calls, judge } = recording<Record<string, JsonValue>>((candidate) => candidate.newCheckout === true && candidate.legacyTax === true);
    const outcome = await minimizeRecord(flags, judge, { label: 'featureFlags' });
    expect(outcome.minimal).toEqual({ newCheckout: true, legacyTax: true });
    expect(outcome.steps).toEqual(['removed featureFlags.darkMode', 'removed featureFlags.region', 'removed featureFlags.retries']);
    expect(outcome.tests).toBe(calls.length);
  });

  it('empties env vars the failure does not depend on', async () => {
    const outcome = await minimizeRecord({ NODE_ENV: 'production', TZ: 'UTC' }, () => Promise.resolve(true));
    expect(outcome.minimal).toEqual({});
    expect(outcome.tests).toBe(1);
  });
});

describe('downstream calls as a list', () => {
  it('keeps the one recorded call whose response causes the failure', async () => {
    const calls = [
      { method: 'GET', url: 'http://inventory/sku/1', status: 200 },
      { method: 'GET', url: 'http://pricing/sku/1', status: 503 },
      { method: 'POST', url: 'http://audit/events', status: 202 },
    ];
    const outcome = await ddmin(calls, (subset) => Promise.resolve(subset.some((call) => call.status === 503)));
    expect(outcome.result).toEqual([calls[1]]);
  });
});

describe('paths', () => {
  it('formats paths readably', () => {
    expect(formatPath('body', ['preferences', 'newsletter'])).toBe('body.preferences.newsletter');
    expect(formatPath('args', [0, 'sessions:count'])).toBe('args[0]["sessions:count"]');
    expect(formatPath('', ['a', 1, 'b'])).toBe('a[1].b');
    expect(formatPath('', [])).toBe('(root)');
  });

  it('reads, writes and enumerates by path without touching the original', () => {
    const value: JsonValue = { a: [1, { b: 2 }], c: null };
    expect(getAt(value, ['a', 1, 'b'])).toBe(2);
    expect(getAt(value, ['a', 5])).toBeUndefined();
    expect(getAt(value, ['toString'])).toBeUndefined();
    expect(setAt(value, ['a', 1, 'b'], 3)).toEqual({ a: [1, { b: 3 }], c: null });
    expect(value).toEqual({ a: [1, { b: 2 }], c: null });
    expect(() => setAt(value, ['c', 'd'], 1)).toThrow(RangeError);
    expect(pathsAtDepth(value, 2)).toEqual([
      ['a', 0],
      ['a', 1],
    ]);
  });
});

describe('minimizeJson properties', () => {
  const scenarioArb = fc.record({
    value: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>,
    verdict: fc.func(fc.boolean()),
    maxTests: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
  });

  it('returns a candidate that still fails, judging each distinct candidate at most once, within budget', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ value, verdict, maxTests }) => {
        const original = canonicalJson(value);
        const fails = (candidate: JsonValue) => canonicalJson(candidate) === original || verdict(canonicalJson(candidate));
        const { calls, judge } = recording(fails);
        const outcome = await minimizeJson(value, judge, maxTests === undefined ? {} : { maxTests });
        expect(fails(outcome.minimal)).toBe(true);
        const keys = calls.map((call) => canonicalJson(call));
        expect(new Set(keys).size).toBe(keys.length);
        expect(outcome.tests).toBe(calls.length);
        if (maxTests !== undefined) expect(outcome.tests).toBeLessThanOrEqual(maxTests);
        expect(nodeCount(outcome.minimal)).toBeLessThanOrEqual(nodeCount(value));
      }),
      { numRuns: 200 },
    );
  });

  it('leaves no node whose single removal or first simplification still fails', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ value, verdict }) => {
        const original = canonicalJson(value);
        const fails = (candidate: JsonValue) => canonicalJson(candidate) === original || verdict(canonicalJson(candidate));
        const outcome = await minimizeJson(value, recording(fails).judge);
        expect(outcome.exhausted).toBe(false);
        const minimal = outcome.minimal;
        for (let depth = 1; pathsAtDepth(minimal, depth).length > 0; depth++) {
          for (const path of pathsAtDepth(minimal, depth)) {
            // Encoding qualifiers stay, and the strings they qualify are emptied or kept whole.
            if (ENCODING_QUALIFIERS.has(String(path[path.length - 1])) || qualified(minimal, path)) continue;
            expect(fails(removeAt(minimal, path))).toBe(false);
            const simpler = firstSimplification(getAt(minimal, path)!);
            if (simpler !== undefined) expect(fails(setAt(minimal, path, simpler))).toBe(false);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

function qualified(value: JsonValue, path: (string | number)[]): boolean {
  const parent = getAt(value, path.slice(0, -1));
  return typeof parent === 'object' && parent !== null && !Array.isArray(parent) && Object.keys(parent).some((key) => ENCODING_QUALIFIERS.has(key));
}

function nodeCount(value: JsonValue): number {
  if (Array.isArray(value)) return 1 + value.reduce<number>((sum, item) => sum + nodeCount(item), 0);
  if (typeof value === 'object' && value !== null) return 1 + Object.values(value).reduce<number>((sum, item) => sum + nodeCount(item), 0);
  return 1;
}

function removeAt(value: JsonValue, path: (string | number)[]): JsonValue {
  const parentPath = path.slice(0, -1);
  const last = path[path.length - 1];
  const parent = getAt(value, parentPath);
  if (Array.isArray(parent)) return setAt(value, parentPath, parent.filter((_, index) => index !== last));
  return setAt(value, parentPath, Object.fromEntries(Object.entries(parent as object).filter(([key]) => key !== last)));
}

function firstSimplification(value: JsonValue): JsonValue | undefined {
  if (Array.isArray(value)) return value.length > 0 ? [] : undefined;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0 ? {} : undefined;
  if (typeof value === 'string') return value === '' ? undefined : '';
  if (typeof value === 'number') return value === 0 ? undefined : 0;
  if (typeof value === 'boolean') return value ? false : undefined;
  return undefined;
}
